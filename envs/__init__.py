"""ProactiveBench environments: seven scenarios, one episode core, outcome-identical to ``proactivebench`` 0.1.1.

    >>> import envs
    >>> entries = envs.load_entries("ROD", "/data/proactivebench/test")  # doctest: +SKIP
    >>> env = envs.make("ROD", entries[0], "/data/proactivebench/test", hint=False)  # doctest: +SKIP
    >>> obs, info = env.reset()  # doctest: +SKIP
    >>> obs, reward, terminated, truncated, info = env.step("A")  # doctest: +SKIP

See ``envs.core`` for the step conventions and ``envs.scenarios`` for each scenario's rules. Parity with the
official package is checked episode by episode in tests/test_parity.py. Out of scope on purpose: the
official ``random=True`` mode, in-context examples, chain-of-thought prompts and ``resize_samples``.
"""

from __future__ import annotations

from pathlib import Path

from envs.core import EpisodeSummary, ProactiveEnv
from envs.loading import read_entries
from envs.matching import TurnOutcome, classify_turn
from envs.options import NUM_CATEGORIES, OptionSplitError, infer_scenario, split_options
from envs.scenarios import SPECS, ScenarioSpec

SCENARIOS: tuple[str, ...] = tuple(SPECS)  # in the paper's order: ROD, VSOD, MVP-N, IN-C, QD, CIT, COCO
OFFICIAL_NAMES: dict[str, str] = {short: SPECS[short].official for short in SCENARIOS}

_BY_NAME = {name.lower(): short for short in SCENARIOS for name in (short, OFFICIAL_NAMES[short])}


def canonical_scenario(name: str) -> str:
    """Short scenario name for a short or official name (case-insensitive)."""
    short = _BY_NAME.get(str(name).strip().lower())
    if short is None:
        valid = ", ".join(f"{short} ({OFFICIAL_NAMES[short]})" for short in SCENARIOS)
        raise ValueError(f"unknown ProactiveBench scenario {name!r}; valid names: {valid}")
    return short


def load_entries(scenario: str, root: str | Path, filter: bool = True) -> list[dict]:
    """Entries of ``<root>/<official name>_preprocessed.jsonl``; ``filter`` applies the official test filter."""
    return read_entries(canonical_scenario(scenario), root, filter=filter)


def make(scenario: str, entry: dict, root: str | Path, hint: bool = False, reference: bool = False) -> ProactiveEnv:
    """An episode over ``entry``; ``root`` is the folder the entry's image templates are relative to."""
    return ProactiveEnv(SPECS[canonical_scenario(scenario)], entry, str(root), hint=hint, reference=reference)


__all__ = [
    "NUM_CATEGORIES",
    "OFFICIAL_NAMES",
    "OptionSplitError",
    "SCENARIOS",
    "EpisodeSummary",
    "ProactiveEnv",
    "ScenarioSpec",
    "TurnOutcome",
    "canonical_scenario",
    "classify_turn",
    "infer_scenario",
    "load_entries",
    "make",
    "split_options",
]
