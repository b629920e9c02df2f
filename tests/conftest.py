"""Test-wide settings: everything offline, deterministic, and sized for a 2-core machine.

Markers: ``slow`` (training and learning checks, part of the default run) and ``gpu`` (needs CUDA; excluded by
the default ``-m 'not gpu'`` in pyproject.toml and reported at the end of the run).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.pop("WANDB_API_KEY", None)  # tests never reach W&B servers
# DeepSpeed's CPU collectives op, compiled once by `launch/setup.sh --dev` (a JIT build costs minutes per cache).
os.environ.setdefault(
    "TORCH_EXTENSIONS_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "torch_extensions")
)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    deselected = sum(1 for item in terminalreporter.stats.get("deselected", []) if item.get_closest_marker("gpu"))
    if deselected:
        terminalreporter.write_line(
            f"{deselected} test(s) deselected by the default marker filter (-m 'not gpu'): they need a CUDA device."
        )
