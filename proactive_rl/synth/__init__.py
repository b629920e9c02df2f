"""ProactiveBench-Synth: a procedurally drawn, offline stand-in for ProactiveBench in its official formats.

``prepare_synthetic(cfg)`` returns the folder of a data config, generating it on first use (``cache.py`` names
and checks folders, ``generator.make_data`` writes a test folder the official environments can run, train
episodes in the same format, and a train split in the HF train schema); ``contact_sheet(root, out_png)`` draws
the first, a middle and the reference frame of a few episodes per scenario for a quick look.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from proactive_rl.synth.cache import MANIFEST, generation_config, synthetic_root
from proactive_rl.synth.generator import make_data

if TYPE_CHECKING:
    from proactive_rl.data import DataConfig

log = logging.getLogger(__name__)


def prepare_synthetic(cfg: DataConfig) -> Path:
    """The synthetic folder of ``cfg`` (``data.root`` or the per-config cache), generated first when missing."""
    root = synthetic_root(cfg)
    manifest_path = root / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("config") != generation_config(cfg):
            raise ValueError(
                f"data.root {root} holds synthetic data generated with {manifest.get('config')}, not with "
                f"{generation_config(cfg)}; point data.root elsewhere (or to null for the per-config cache)"
            )
        return root
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(
            f"data.root {root} exists but has no {MANIFEST}; it is not a ProactiveBench-Synth folder "
            "(or its generation was interrupted); choose another data.root or remove it"
        )
    log.info("generating ProactiveBench-Synth into %s", root)
    make_data(cfg, root)
    return root


__all__ = ["make_data", "prepare_synthetic"]
