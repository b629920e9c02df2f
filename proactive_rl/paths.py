"""Where the project's own folders are: the repository, its configs, and the caches it fills."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = REPO_ROOT / "conf"
CACHE_DIR = REPO_ROOT / ".cache"  # synthetic data (data/), tiny models and the tiny judge (models/)
