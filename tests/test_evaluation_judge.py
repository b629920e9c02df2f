"""OEG judge protocol: prompt text, thinking removal and verdict parsing on recorded judge outputs.

Expected scores are written out by hand from the official rules; when the official package is installed
(the py3.12 venv of the common brief) the same cases are also checked against its functions.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

try:
    from parity.cases import INSTALL_HINT, official_python
except ModuleNotFoundError:  # tests/ made a package: the helpers live at tests.parity
    from tests.parity.cases import INSTALL_HINT, official_python

from envs.scenarios import SPECS
from proactive_rl.evaluation.judge import (
    judge_messages,
    judge_template,
    parse_verdict,
    valid_answer_list,
    visible_reply,
)


def _official_oeg_file() -> Path | None:
    """open_ended_gen.py of the official package in the venv that can import it (setup.sh --dev builds one)."""
    python = official_python()
    if python is None:
        return None
    venv = Path(python).parent.parent  # <venv>/bin/python, not resolved: the venv, not the base interpreter
    found = sorted(venv.glob("lib/python3*/site-packages/proactivebench/open_ended_gen.py"))
    return found[0] if found else None


OFFICIAL_OEG = _official_oeg_file()

COCO_ANSWERS = "Move the camera, Move farther from the object, zebra."
ROD_ANSWERS = "Move the blocks, Move the camera."
VSOD_ANSWERS = "Rewind the video, Wait for the occlusion to disappear, Move the camera, bus."

# (scenario, valid answers, raw judge output, expected flags or None, (ps, cp, agg))
RECORDED = [
    (
        "COCO",
        COCO_ANSWERS,
        "<think>\nThe output says zoom out, that implies farther.\n</think>\n\n0,1,0",
        [0, 1, 0],
        (1, 0, 1),
    ),
    ("COCO", COCO_ANSWERS, "<think>\nCheck 1, 1, 1 first.\n</think>\n\n0, 0, 1", [0, 0, 1], (0, 1, 1)),
    ("COCO", COCO_ANSWERS, "<think>\nnothing matches\n</think>\n\n0,0,0", [0, 0, 0], (0, 0, 0)),
    ("COCO", COCO_ANSWERS, "<think>\nhmm\n</think>\n\nThe system output is unrelated.", None, (0, 0, 0)),  # no digits
    ("COCO", COCO_ANSWERS, "<think>\nhmm\n</think>\n\n1,0", None, (0, 0, 0)),  # wrong count
    ("COCO", COCO_ANSWERS, "<think>\nok\n</think>\n\n1, 0, 0\nHope this helps!", [1, 0, 0], (1, 0, 1)),  # extra text
    ("COCO", COCO_ANSWERS, "<think>\nok\n</think>\n\n0,0,1\nConfidence: 1", None, (0, 0, 0)),  # digit after the list
    (
        "COCO",
        COCO_ANSWERS,
        "<think>\nThe verdict is 1, 1, 0 I think. Let me",
        [1, 1, 0],
        (1, 0, 1),
    ),  # thinking left in
    ("COCO", COCO_ANSWERS, "<think>\nfirst idea</think>\n<think>again 1,1,1</think>\n[1, 0, 1]", [1, 0, 1], (1, 1, 1)),
    ("COCO", COCO_ANSWERS, "1 , 0 ,1", [1, 0, 1], (1, 1, 1)),
    ("COCO", COCO_ANSWERS, "", None, (0, 0, 0)),
    ("COCO", COCO_ANSWERS, "Score: 10", None, (0, 0, 0)),  # "10" reads as two one-digit runs
    ("ROD", ROD_ANSWERS, "<think>\n\n</think>\n\n1,0", [1, 0], (1, 0, 1)),  # ROD lists interventions only
    ("ROD", ROD_ANSWERS, "0,0", [0, 0], (0, 0, 0)),
    ("VSOD", VSOD_ANSWERS, "0,0,1,0", [0, 0, 1, 0], (1, 0, 1)),  # k=3: the third answer is an intervention
    ("VSOD", VSOD_ANSWERS, "0,0,0,1", [0, 0, 0, 1], (0, 1, 1)),
    ("IN-C", "Increase the brightness, fox.", "1,1", [1, 1], (1, 1, 1)),
    ("QD", "Add more details to the drawing, apple.", "2,1\n0,1", [0, 1], (0, 1, 1)),  # "2" is not a verdict digit
]


def _official():
    if OFFICIAL_OEG is None:
        pytest.skip(f"OFFICIAL JUDGE ORACLE NOT RUN: no venv holds proactivebench/open_ended_gen.py; {INSTALL_HINT}")
    spec = importlib.util.spec_from_file_location("official_open_ended_gen", OFFICIAL_OEG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("scenario", "answers", "output", "flags", "scores"), RECORDED)
def test_parse_recorded_judge_outputs(scenario, answers, output, flags, scores):
    verdict = parse_verdict(scenario, answers, visible_reply(output))
    assert verdict.flags == flags
    assert (verdict.ps, verdict.cp, verdict.agg) == scores
    assert verdict.malformed == (flags is None)


def test_visible_reply_keeps_only_text_after_last_think_end():
    assert visible_reply("<think>a 1,1</think>\n\n0,1\n") == "0,1"
    assert visible_reply("no thinking 1,0") == "no thinking 1,0"
    assert visible_reply("<think>unfinished 1,0,1") == "<think>unfinished 1,0,1"


def test_valid_answer_list_and_messages():
    assert valid_answer_list(COCO_ANSWERS) == ["Move the camera", "Move farther from the object", "zebra"]
    messages = judge_messages("What is in the image?", COCO_ANSWERS, "Zoom out please.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("You are an automatic evaluation system.")
    assert messages[0]["content"].endswith("The last line must not contain anything else.")
    user = messages[1]["content"]
    assert "### User Prompt:\nWhat is in the image?\n" in user
    assert "['Move the camera', 'Move farther from the object', 'zebra']" in user
    assert user.endswith("### System Output:\nZoom out please.")


def test_reply_with_braces_is_inserted_verbatim():
    user = judge_messages("Q?", ROD_ANSWERS, "use {curly} braces {0}")[1]["content"]
    assert user.endswith("use {curly} braces {0}")


def test_matches_official_judge_protocol():
    official = _official()
    assert judge_template("system") == official.SYSTEM_PROMPT
    assert judge_template("user") == official.USER_PROMPT
    assert official.PREDICTION_THR == {short: spec.oeg_intervention_answers for short, spec in SPECS.items()}
    for scenario, answers, output, _, _ in RECORDED:
        reply = visible_reply(output)
        expected = official.parse_judge_prediction(answers, reply, scenario)
        verdict = parse_verdict(scenario, answers, reply)
        assert (verdict.ps, verdict.cp, verdict.agg) == (
            expected["proactive_suggestion"],
            expected["category_prediction"],
            expected["aggregate"],
        ), output
        theirs = official.get_oeg_judge_messages("What is it? Hint.", answers, "a reply")
        ours = judge_messages("What is it? Hint.", answers, "a reply")
        assert [(m["role"], m["content"]) for m in ours] == [(m["role"], m["content"]) for m in theirs]
