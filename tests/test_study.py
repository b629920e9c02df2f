"""`proactive-rl report` on run folders built here: groups by config minus seed, means and stds, skipped runs."""

from __future__ import annotations

import csv
import random
import statistics
from pathlib import Path

import pytest
import yaml

from proactive_rl.cli import main as cli_main
from proactive_rl.study import report

SCENARIOS = ["ROD", "VSOD", "CIT", "COCO"]


ENDINGS = ("correct_pct", "wrong_pct", "invalid_pct", "abstain_pct")


def _scores(rng: random.Random) -> dict[str, dict[str, dict[str, float]]]:
    def one() -> dict[str, float]:
        values = {"acc": round(rng.uniform(0, 100), 2), "ps": round(rng.uniform(0, 3), 2)}
        values.update({key: round(rng.uniform(0, 30), 2) for key in ENDINGS})
        return values

    return {model: {s: one() for s in SCENARIOS} for model in ("base", "fine-tuned")}


def _invalid(values: dict[str, float]) -> float:
    return 100 * values["invalid_pct"] / sum(values[key] for key in ENDINGS)


def _write_run(
    folder: Path, held_out: str, seed: int, scores: dict | None, lr: float = 5e-4, setting: str = "mcqa"
) -> None:
    folder.mkdir(parents=True)
    config = {
        "seed": seed,
        "run_dir": str(folder),
        "held_out": held_out,
        "data": {"train_scenarios": [s for s in SCENARIOS if s != held_out], "eval_scenarios": SCENARIOS},
        "trainer": {"learning_rate": lr, "extra": {}},
        "eval": {"mode": "mcqa", "output_dir": f"/elsewhere/{seed}"},
        "logger": {"run_name": f"r{seed}"},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    if scores is None:
        return
    (folder / "eval").mkdir()
    with (folder / "eval" / "summary.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        columns = ["model", "setting", "scenario", "in_train", "episodes", "errors", "acc", "ps", "ref_acc"]
        writer.writerow([*columns, "intervention_pct", *ENDINGS])
        for model, by_scenario in scores.items():
            for scenario, values in by_scenario.items():
                row = [model, setting, scenario, scenario != held_out, 4, 0, values["acc"], values["ps"], 90]
                writer.writerow([*row, 40.0, *(values.get(key, "") for key in ENDINGS)])
            writer.writerow([model, setting, "Avg", "", 16, 0, 50.0, 1.0, 90, 40.0, 10, 10, 10, 10])


@pytest.fixture
def study_dir(tmp_path: Path) -> tuple[Path, dict]:
    rng = random.Random(7)
    fixture: dict[tuple[str, int], dict] = {}
    for held_out in ("CIT", "COCO"):
        for seed in (0, 1, 2):
            fixture[(held_out, seed)] = _scores(rng)
            _write_run(tmp_path / "sweep" / f"{held_out}_s{seed}", held_out, seed, fixture[(held_out, seed)])
    _write_run(tmp_path / "sweep" / "COCO_s3", "COCO", 3, None)  # killed before its final evaluation
    return tmp_path / "sweep", fixture


def test_report_means_stds_roles_and_incomplete_run(study_dir, tmp_path):
    sweep, fixture = study_dir
    study = report([sweep], tmp_path / "out")

    assert [group.name for group in study.groups] == ["held_out=CIT", "held_out=COCO"]
    assert {group.variant for group in study.groups} == {"all runs"}
    assert [skipped.path.name for skipped in study.skipped] == ["COCO_s3"]
    assert "eval/summary.csv missing" in study.skipped[0].reason
    assert "COCO_s3" in study.markdown

    rows = list(csv.DictReader((tmp_path / "out" / "report.csv").open()))
    assert len(rows) == 2 * len(SCENARIOS)
    for row in rows:
        held_out = row["group"].split("=")[1]
        runs = [fixture[(held_out, seed)] for seed in (0, 1, 2)]
        base = [run["base"][row["scenario"]]["acc"] for run in runs]
        tuned = [run["fine-tuned"][row["scenario"]]["acc"] for run in runs]
        assert row["role"] == ("held out" if row["scenario"] == held_out else "trained")
        assert row["runs"] == "3"
        assert float(row["base_acc_mean"]) == pytest.approx(statistics.fmean(base), abs=1e-4)
        assert float(row["fine-tuned_acc_std"]) == pytest.approx(statistics.stdev(tuned), abs=1e-4)
        gains = [t - b for t, b in zip(tuned, base, strict=True)]
        assert float(row["gain_mean"]) == pytest.approx(statistics.fmean(gains), abs=1e-4)
        ps = [run["fine-tuned"][row["scenario"]]["ps"] for run in runs]
        assert float(row["fine-tuned_ps_mean"]) == pytest.approx(statistics.fmean(ps), abs=1e-4)
        invalid = [_invalid(run["base"][row["scenario"]]) for run in runs]
        assert float(row["base_invalid_mean"]) == pytest.approx(statistics.fmean(invalid), abs=1e-3)

    # headline: mean over the two folds of the seed-mean gain on held-out (resp. trained) scenarios
    def gain(run: dict, scenarios: list[str]) -> float:
        return statistics.fmean(run["fine-tuned"][s]["acc"] - run["base"][s]["acc"] for s in scenarios)

    held = [statistics.fmean(gain(fixture[(h, seed)], [h]) for seed in (0, 1, 2)) for h in ("CIT", "COCO")]
    trained = [
        statistics.fmean(gain(fixture[(h, seed)], [s for s in SCENARIOS if s != h]) for seed in (0, 1, 2))
        for h in ("CIT", "COCO")
    ]
    headline_row = next(line for line in study.markdown.splitlines() if line.startswith("| all runs |"))
    cells = [cell.strip() for cell in headline_row.split("|")[1:-1]]
    assert cells[1:3] == ["2", "6"]
    assert cells[3].startswith(f"{statistics.fmean(trained):+.1f} ± ")
    assert cells[4].startswith(f"{statistics.fmean(held):+.1f} ± ")
    assert cells[5] == f"{sum(value > 0 for value in held)} of 2"
    # held-out asks and invalid endings, base -> fine-tuned, each the mean over folds of the seed means
    for cell, measure, digits in ((cells[6], lambda v: v["ps"], 2), (cells[7], _invalid, 1)):
        pair = [
            statistics.fmean(
                statistics.fmean(measure(fixture[(h, seed)][model][h]) for seed in (0, 1, 2)) for h in ("CIT", "COCO")
            )
            for model in ("base", "fine-tuned")
        ]
        assert cell == " -> ".join(f"{value:.{digits}f}" for value in pair)
    assert (tmp_path / "out" / "report.png").stat().st_size > 10_000


def test_report_splits_ablations_and_follows_multirun_jobs(study_dir, tmp_path, capsys):
    sweep, fixture = study_dir
    other = tmp_path / "ablation"
    _write_run(other / "a", "COCO", 0, fixture[("COCO", 0)], lr=1e-4)
    job = tmp_path / "multirun" / "0" / ".hydra"
    job.mkdir(parents=True)
    (job / "config.yaml").write_text(yaml.safe_dump({"run_dir": str(other / "a"), "seed": 0}))
    lost = tmp_path / "multirun" / "1" / ".hydra"
    lost.mkdir(parents=True)
    (lost / "config.yaml").write_text(yaml.safe_dump({"run_dir": str(tmp_path / "never_written"), "seed": 1}))

    cli_main(["report", str(sweep), str(tmp_path / "multirun"), "--out", str(tmp_path / "out2")])
    printed = capsys.readouterr().out
    assert "held_out=COCO trainer.learning_rate=0.0001 (1 runs" in printed
    assert "held_out=COCO trainer.learning_rate=0.0005 (3 runs" in printed
    assert "never_written holds no config.yaml" in printed
    rows = list(csv.DictReader((tmp_path / "out2" / "report.csv").open()))
    assert {row["variant"] for row in rows} == {"trainer.learning_rate=0.0001", "trainer.learning_rate=0.0005"}

    # the seed key decides what is averaged: grouping by nothing but lr and held_out when seed is ignored
    study = report([sweep], tmp_path / "out3", seed_keys=("seed", "trainer.learning_rate"))
    assert [len(group.runs) for group in study.groups] == [3, 3]


def test_report_rejects_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        report([tmp_path / "no_such_dir"], tmp_path / "out")


def test_report_reads_the_config_a_train_run_writes(tmp_path):
    """The composed train config (nested groups, lists, empty mappings) flattens and groups as written."""
    from omegaconf import OmegaConf

    from proactive_rl.config import compose_train_config

    rng = random.Random(3)
    for seed in (0, 1):
        overrides = ["experiment=leave_one_out", "held_out=COCO", f"seed={seed}", f"run_dir={tmp_path}/s{seed}"]
        overrides.append(f"data.eval_scenarios=[{','.join(SCENARIOS)}]")  # the scenarios the fixture scored
        config = compose_train_config(overrides)
        _write_run(tmp_path / f"s{seed}", "COCO", seed, _scores(rng))
        (tmp_path / f"s{seed}" / "config.yaml").write_text(OmegaConf.to_yaml(config, resolve=True))
    study = report([tmp_path], tmp_path / "out")
    assert [len(group.runs) for group in study.groups] == [2]
    group = study.groups[0]
    assert group.runs[0].train_scenarios == ["ROD", "VSOD", "MVP-N", "IN-C", "QD", "CIT"]
    assert [group.runs[0].role(s) for s in SCENARIOS] == ["trained", "trained", "trained", "held out"]


def test_report_shows_a_dash_for_summaries_without_outcome_columns(tmp_path):
    scores = _scores(random.Random(3))
    for by_scenario in scores.values():
        for values in by_scenario.values():
            for key in ENDINGS:
                del values[key]
    _write_run(tmp_path / "old" / "COCO_s0", "COCO", 0, scores)
    study = report([tmp_path / "old"], tmp_path / "out")
    assert not study.skipped
    headline_row = next(line for line in study.markdown.splitlines() if line.startswith("| all runs |"))
    assert headline_row.rstrip().endswith("| - -> - |")


def test_report_lists_a_run_whose_summary_is_a_diagnostic_setting_instead_of_averaging_it(study_dir, tmp_path):
    sweep, _ = study_dir
    _write_run(sweep / "CIT_s9", "CIT", 9, _scores(random.Random(9)), setting="mcqa-hint")
    study = report([sweep], tmp_path / "out")
    skipped = {entry.path.name: entry.reason for entry in study.skipped}
    assert "not the plain 'mcqa'" in skipped["CIT_s9"] and "mcqa-hint" in skipped["CIT_s9"]
    assert [len(group.runs) for group in study.groups] == [3, 3]
