"""Parity oracle: our environments against the official ``proactivebench`` 0.1.1 package, turn by turn.

The official code runs in a Python 3.12 interpreter (``PROACTIVEBENCH_PYTHON``, else
``.cache/pb312/bin/python``, else ``/tmp/pb312/bin/python``) in one subprocess for all episodes. Every
turn compares image path, frame pixels and size (after the COCO crop), prompt, options, the two verdicts,
and the rewards' verdicts on the train row the turn would be written as; every episode compares termination, correctness, turn count, the max-turn flag and the
open-ended answer string. Episodes on which the official code crashes are counted separately; ours must
run them to a sane end (``play_ours`` would raise otherwise). Run with ``-s`` to see the figures, or
``tests/parity/report.py``.
"""

from __future__ import annotations

import dataclasses

import pytest

try:
    from parity.cases import COCO_DIRECTIONS, INSTALL_HINT, official_python, run_parity
except ModuleNotFoundError:  # tests/ made a package: the helpers live at tests.parity
    from tests.parity.cases import COCO_DIRECTIONS, INSTALL_HINT, official_python, run_parity

import envs
from envs import scenarios

OFFICIAL_PYTHON = official_python()
pytestmark = pytest.mark.skipif(
    OFFICIAL_PYTHON is None,
    reason=f"PARITY ORACLE NOT RUN: no interpreter can import proactivebench.environment; {INSTALL_HINT}",
)

REQUIRED_BRANCHES = [f"COCO coco:direction={direction}" for direction in sorted(set(COCO_DIRECTIONS))]
REQUIRED_BRANCHES += [
    "COCO coco:zoom_exhausted",
    "COCO coco:axis_exhausted",
    "COCO coco:template_used_verbatim",
    "COCO coco:zoom_option_kept_at_limit_by_float_equality",
    "CIT cit:edge_pruned",
    "CIT cit:no_wait_option_quirk",
    "CIT end:max_turns",
    "ROD end:max_turns",
    "VSOD end:max_turns",
    "ROD rod:broken_frame_fix",
    "ROD rod:right_category_on_first_turn_scored_wrong",
    "MVP-N mvpn:empty_view_list",
    *(f"{s} last_turn:intervention_refused" for s in ("MVP-N", "IN-C", "QD")),
    *(f"IN-C inc:fix={fix}" for fix in scenarios.INC.action_space({})),
    *(
        f"{s} {tag}"
        for s in envs.SCENARIOS
        for tag in ("hint", "reference", "end:correct", "end:abstain", "end:invalid")
    ),
    *(
        f"{s} answer:{form}"
        for s in envs.SCENARIOS
        for form in ("letter", "letter_dot_text", "mangled_text", "prefixed_text")
    ),
]
EXPECTED_CRASH_SCENARIOS = {"ROD", "MVP-N", "IN-C", "QD", "CIT", "COCO"}


def test_parity_with_official_package(tmp_path):
    report = run_parity(tmp_path, OFFICIAL_PYTHON, seed=0)
    print("\n" + "\n".join(report.lines()))
    assert not report.mismatches, "\n".join(report.mismatches[:20])
    assert sum(report.episodes.values()) >= 2000
    assert all(report.episodes[s] >= 200 for s in envs.SCENARIOS), report.episodes
    missing = [branch for branch in REQUIRED_BRANCHES if report.tags[branch] == 0]
    assert not missing, f"branches not exercised: {missing}"
    crashed = {scenario for scenario, _ in report.crashes}
    assert EXPECTED_CRASH_SCENARIOS <= crashed, (
        f"official crash cases not exercised in {EXPECTED_CRASH_SCENARIOS - crashed}"
    )


def test_parity_oracle_catches_a_broken_rule(tmp_path, monkeypatch):
    broken_rod = dataclasses.replace(scenarios.ROD, first_turn_needs_intervention=False)
    monkeypatch.setitem(scenarios.SPECS, "ROD", broken_rod)
    report = run_parity(tmp_path, OFFICIAL_PYTHON, seed=1, counts={"ROD": 150})
    assert any("category_verdict" in line for line in report.mismatches), report.mismatches[:5]
