"""episodes.html: written by the evaluation report, rebuilt by `proactive-rl browse`, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from _evaluation_helpers import make_test_root

from proactive_rl.cli import main as cli_main
from proactive_rl.evaluation import EvalSettings, FirstOptionPolicy, OraclePolicy, evaluate_models
from proactive_rl.evaluation.chromium import Chromium, find_chromium

SCENARIOS = ["ROD", "IN-C", "COCO"]


class _HalfOracle:
    """Plays like the oracle on even episode ids and answers the first option on odd ones."""

    def __init__(self) -> None:
        self.oracle, self.first = OraclePolicy(), FirstOptionPolicy()

    def generate(self, conversations):
        return [
            (self.oracle if int(c.env.entry["id"]) % 2 == 0 else self.first).generate([c])[0] for c in conversations
        ]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> Path:
    """An eval folder with a base (right on about half the episodes) and a fine-tuned (oracle) evaluation."""
    folder = tmp_path_factory.mktemp("browser")
    test_root = make_test_root(folder / "data", per_scenario=3)
    models = {"base": _HalfOracle(), "fine-tuned": OraclePolicy(interventions=1)}
    evaluate_models(models, EvalSettings(batch_size=4), test_root, SCENARIOS, folder / "eval", SCENARIOS[:2])
    return folder / "eval"


def _records(eval_dir: Path, label: str) -> list[dict]:
    return [json.loads(line) for path in sorted((eval_dir / label / "mcqa").glob("*.jsonl")) for line in path.open()]


def _page_data(page: Path) -> dict:
    text = page.read_text()
    blob = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S).group(1)
    return json.loads(blob.replace("<\\/", "</"))


def test_report_writes_the_page_and_the_replay_matches_the_records(evaluated):
    page = evaluated / "episodes.html"
    data = _page_data(page)
    base, tuned = _records(evaluated, "base"), _records(evaluated, "fine-tuned")
    assert data["models"] == ["base", "fine-tuned"]
    assert len(data["episodes"]) == len({(r["scenario"], r["id"]) for r in base + tuned}) == 9
    strings = data["strings"]
    runs = [run for episode in data["episodes"] for run in episode[4] if run]
    assert len(runs) == len(base) + len(tuned)
    assert all(run[5] == -1 for run in runs), [strings[run[5]] for run in runs if run[5] >= 0]  # no replay note
    turns = [turn for run in runs for turn in run[6]]
    assert sum(len(r["answers"]) for r in base + tuned) == len(turns)
    frames = {strings[turn[0]] for turn in turns} | {strings[episode[3]] for episode in data["episodes"]}
    assert frames == {path.name for path in (evaluated / "episodes_files").iterdir()}  # every frame, nothing else
    assert len(frames) > len(data["episodes"])


def test_browse_rebuilds_an_interrupted_run_and_flags_a_replay_that_disagrees(evaluated, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(evaluated, run / "eval")
    shutil.rmtree(run / "eval" / "episodes_files")
    (run / "eval" / "episodes.html").unlink()
    coco = run / "eval" / "fine-tuned" / "mcqa" / "COCO.jsonl"
    lines = coco.read_text().splitlines(keepends=True)
    tampered = json.loads(lines[0])
    tampered["kinds"][-1] = "abstain" if tampered["kinds"][-1] != "abstain" else "correct"
    cut = [json.dumps(tampered) + "\n", *lines[1:-1], lines[-1][:20]]  # killed while writing the last line
    coco.write_text("".join(cut))

    cli_main(["browse", str(run)])
    data = _page_data(run / "eval" / "episodes.html")
    assert coco.read_text() == "".join(cut)  # browsing never rewrites records
    strings = data["strings"]
    by_id = {(strings[episode[0]], episode[1]): episode for episode in data["episodes"]}
    assert len(by_id) == 9  # the base still has every episode
    tuned_coco = [episode for (scenario, _), episode in by_id.items() if scenario == "COCO" and episode[4][1]]
    assert len(tuned_coco) == len(lines) - 1
    note = by_id[("COCO", str(tampered["id"]))][4][1][5]
    assert "replay differs" in strings[note]


@pytest.mark.skipif(find_chromium() is None, reason="needs Chromium (launch/setup.sh --dev installs it)")
def test_page_in_headless_chromium(evaluated, tmp_path):
    base, tuned = _records(evaluated, "base"), _records(evaluated, "fine-tuned")
    episodes = {(r["scenario"], str(r["id"])) for r in base + tuned}
    correct = {
        m: {(r["scenario"], str(r["id"])) for r in recs if r["correct"]} for m, recs in (("b", base), ("t", tuned))
    }
    coco = sum(1 for scenario, _ in episodes if scenario == "COCO")
    with Chromium(width=1300, height=900) as browser:
        browser.open(evaluated / "episodes.html")
        cards = "document.querySelectorAll('.card').length"
        shown = "Number(document.getElementById('count').textContent)"
        assert browser.evaluate("document.body.dataset.ready") == "1"
        assert browser.evaluate(cards) == browser.evaluate(shown) == len(episodes)
        assert browser.evaluate("document.querySelectorAll('.run:not(.missing)').length") == len(base) + len(tuned)
        browser.screenshot(tmp_path / "all.png")

        browser.evaluate("document.querySelector('input[name=scenario][value=COCO]').click()")
        assert browser.evaluate(cards) == browser.evaluate(shown) == coco
        label = "document.querySelector('label[data-facet=scenario][data-value=COCO] .n').textContent"
        assert browser.evaluate(label) == str(coco)

        browser.evaluate("document.querySelector('input[name=scenario][value=all]').click()")
        browser.evaluate("document.querySelector('input[name=change][value=\"became correct\"]').click()")
        assert browser.evaluate(cards) == len(correct["t"] - correct["b"]) > 0
        browser.evaluate("document.querySelector('input[name=change][value=all]').click()")
        browser.evaluate("document.querySelector('input[name=model][value=base]').click()")
        browser.evaluate("document.querySelector('input[name=ending][value=correct]').click()")
        assert 0 < browser.evaluate(cards) == len(correct["b"]) < len(episodes)

        browser.evaluate("document.querySelector('input[name=ending][value=all]').click()")
        browser.evaluate("document.querySelector('input[name=model][value=all]').click()")
        browser.evaluate("document.querySelectorAll('img').forEach((img) => { img.loading = 'eager'; })")
        browser.settle(1.0)
        loaded = "[...document.images].filter((img) => img.complete && img.naturalWidth > 0).length"
        assert browser.evaluate(loaded) == browser.evaluate("document.images.length") > len(episodes)
        browser.screenshot(tmp_path / "episodes.png")
        assert browser.errors == []
    assert (tmp_path / "episodes.png").stat().st_size > 20_000
