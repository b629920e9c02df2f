"""Where a model, judge or dataset named in the config comes from: a local folder, the local hub cache, or the hub.

Checked at startup (``proactive_rl.validation``), so an id that cannot be had fails in seconds with the config
key and the offline fix, instead of after the episodes are played, with a minute of hub retries.
"""

from __future__ import annotations

import os
from pathlib import Path

HUB_TIMEOUT_S = 5.0


def looks_local(name_or_path: str) -> bool:
    """A path rather than a hub id ("owner/name"): absolute, relative with ./ ../ ~, or more than one slash."""
    return (
        name_or_path.startswith(("/", "./", "../", "~", "."))
        or name_or_path.count("/") > 1
        or (os.sep != "/" and os.sep in name_or_path)
    )


def hub_offline() -> bool:
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def in_local_cache(repo_id: str, kind: str = "model") -> bool:
    """Whether the hub cache already holds a snapshot of ``repo_id``."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        cache = scan_cache_dir()
    except CacheNotFound:
        return False
    return any(repo.repo_id == repo_id and repo.repo_type == kind and repo.revisions for repo in cache.repos)


def hub_reachable(repo_id: str, kind: str = "model") -> bool:
    """One quick request to the hub (no retries): can ``repo_id`` be fetched from here?"""
    from huggingface_hub import HfApi

    try:
        api = HfApi()
        if kind == "dataset":
            api.dataset_info(repo_id, timeout=HUB_TIMEOUT_S)
        else:
            api.model_info(repo_id, timeout=HUB_TIMEOUT_S)
    except Exception:  # offline, DNS, timeout, 401/404: all mean "cannot be had from here"
        return False
    return True


def check_source(name_or_path: str, key: str, kind: str = "model") -> None:
    """Raise ``FileNotFoundError`` naming ``key`` when ``name_or_path`` can be had neither locally nor from the hub."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        if kind == "model" and path.is_dir() and not (path / "config.json").is_file():
            raise FileNotFoundError(f"{key}={name_or_path}: folder has no config.json (not a saved model)")
        return
    if looks_local(name_or_path):
        raise FileNotFoundError(f"{key}={name_or_path}: no such {'folder' if kind == 'model' else 'file or folder'}")
    if in_local_cache(name_or_path, kind):
        return
    if not hub_offline() and hub_reachable(name_or_path, kind):
        return
    fetch = "huggingface-cli download" + (" --repo-type dataset" if kind == "dataset" else "")
    raise FileNotFoundError(
        f"{key}={name_or_path}: not a local folder, not in the hub cache, and the hub cannot be reached "
        f"({'offline mode is set' if hub_offline() else 'no answer within ' + str(HUB_TIMEOUT_S) + ' s'}). "
        f"Offline fix: on a connected machine run `{fetch} {name_or_path} --local-dir <folder>`, copy the folder "
        f"here and set {key}=<folder>."
    )
