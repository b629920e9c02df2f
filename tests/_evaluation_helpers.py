"""Builders for the evaluation tests: a small synthetic test split, a random tiny VLM, a tiny text judge."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

SCRIPTED_SCENARIOS = ["ROD", "VSOD", "MVP-N", "IN-C", "QD", "CIT", "COCO"]


def make_test_root(folder: Path, per_scenario: int = 4) -> Path:
    """A ProactiveBench-Synth test folder (official layout) with ``per_scenario`` episodes per scenario."""
    from proactive_rl.data import DataConfig, prepare_data

    cfg = DataConfig(root=str(folder), test_per_scenario=per_scenario, train_rows=14, num_workers=1)
    return prepare_data(cfg).test_root


def copy_test_root(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def tiny_vlm():
    """(model, processor) of a random-weight tiny Qwen2.5-VL in float32 (real classes, built in seconds)."""
    from _model_helpers import small_tiny_config

    from proactive_rl.models.tiny_build import build_tiny

    torch.set_num_threads(1)
    cfg = small_tiny_config("/nonexistent-cache")
    processor, model = build_tiny(cfg.tiny, ["What is the object in the image? Rotate the object."])
    return model.eval(), processor


def save_tiny_judge(folder: Path) -> Path:
    """The project's tiny offline judge (a random one-layer Qwen3 with the Qwen chat template), saved to ``folder``."""
    from proactive_rl.evaluation.judge import tiny_judge_corpus
    from proactive_rl.models.tiny_judge import save_tiny_judge as build

    return build(folder, tiny_judge_corpus())
