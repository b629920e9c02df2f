"""Shared by tests/test_synth.py and tests/test_data.py: one small ProactiveBench-Synth folder per session,
scripted policies, and a pixel probe that says whether a frame shows which category it is."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

import envs
from proactive_rl.data import DataConfig
from proactive_rl.synth import make_data
from proactive_rl.synth.drawing import CATEGORY_BY_NAME

SMALL = DataConfig(seed=3, test_per_scenario=12, train_rows=84, num_workers=1)


@functools.cache
def small_synth_root() -> Path:
    """A generated folder (12 test episodes per scenario, 84 train rows), made once per test session."""
    parent = Path(tempfile.mkdtemp(prefix="synth-test-"))
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    return make_data(SMALL, parent / "synth")


def play(scenario: str, entry: dict, root: Path, answers) -> dict:
    """Play ``answers`` (an iterable, or a function of (env, obs) -> answer) until the episode ends."""
    env = envs.make(scenario, entry, root)
    obs, _ = env.reset()
    answer_iter = iter(answers) if not callable(answers) else None
    while True:
        answer = next(answer_iter) if answer_iter is not None else answers(env, obs)
        obs, _, terminated, _, info = env.step(answer)
        if terminated:
            return info["episode"]


def colour_probe(image, categories: list[str], tolerance: float = 50.0, min_pixels: int = 12) -> str | None:
    """The displayed category whose colour covers most pixels, or None when none covers ``min_pixels``.

    Every synthetic category has its own colour, so on a clear frame this probe names the object; on a
    frame that hides it, it should have nothing to go on.
    """
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3)
    counts = {
        name: int((np.linalg.norm(pixels - np.array(CATEGORY_BY_NAME[name].colour), axis=1) < tolerance).sum())
        for name in categories
    }
    best = max(counts, key=counts.get)
    return best if counts[best] >= min_pixels else None


def ink(image) -> float:
    """Fraction of dark pixels (QD sketches are black on white)."""
    return float((np.asarray(image.convert("L")) < 128).mean())
