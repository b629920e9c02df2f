"""The comparison report: a markdown table and CSV in the paper's layout, PNG plots, a W&B table.

Rows are models or checkpoints (base vs fine-tuned), columns are scenarios (acc / ps for MCQA,
ps / cp / agg for OEG) and their macro average, with the reference-frame accuracy beside the proactive
accuracy: the gap between the two is what proactiveness can recover. Scenarios seen in training are
starred, so transfer to held-out scenarios reads off the table directly.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proactive_rl.evaluation.metrics import OUTCOME_KINDS, OEGMetrics, ScenarioMetrics, mean


@dataclass
class ModelEvaluation:
    """Scores of one model (row label) in one setting over the evaluated scenarios."""

    label: str
    mode: str  # mcqa | oeg
    setting: str  # e.g. "mcqa", "mcqa-hint", "oeg"
    scenarios: list[str]
    metrics: dict[str, ScenarioMetrics | OEGMetrics]
    reference: dict[str, ScenarioMetrics] | None = None  # MCQA reference pass, when run
    directory: Path | None = None  # where its per-episode records are

    def average(self, key: str) -> float:
        return mean([getattr(self.metrics[s], key) for s in self.scenarios])

    def reference_average(self) -> float:
        return mean([self.reference[s].acc for s in self.scenarios]) if self.reference else float("nan")

    @property
    def errors(self) -> int:
        return sum(self.metrics[s].errors for s in self.scenarios)


@dataclass
class Summary:
    """The comparison of several evaluations, with the files it was written to."""

    evaluations: list[ModelEvaluation]
    train_scenarios: list[str]
    markdown: str
    scalars: dict[str, float]
    files: dict[str, Path] = field(default_factory=dict)

    def to_wandb_table(self) -> Any:
        import wandb

        header, rows = _csv_rows(self.evaluations, self.train_scenarios)
        # one type per column: the CSV mixes booleans and "" (average rows) in in_train
        rows = [[str(value) if isinstance(value, bool) else value for value in row] for row in rows]
        return wandb.Table(columns=header, data=rows)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def _scenario_header(scenario: str, train_scenarios: list[str]) -> str:
    return f"{scenario}*" if scenario in train_scenarios else scenario


def markdown_table(evaluations: list[ModelEvaluation], train_scenarios: list[str]) -> str:
    if not evaluations:
        return "(nothing evaluated)"
    scenarios = evaluations[0].scenarios
    mode = evaluations[0].mode
    heads = [_scenario_header(s, train_scenarios) for s in scenarios]
    lines = []
    if mode == "mcqa":
        columns = ["model", *[f"{h} acc / ps" for h in heads], "Avg acc / ps", "Ref acc", "Errors"]
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for evaluation in evaluations:
            cells = [f"{_fmt(evaluation.metrics[s].acc)} / {_fmt(evaluation.metrics[s].ps, 2)}" for s in scenarios]
            average = f"{_fmt(evaluation.average('acc'))} / {_fmt(evaluation.average('ps'), 2)}"
            row = [
                _row_label(evaluation),
                *cells,
                average,
                _fmt(evaluation.reference_average()),
                str(evaluation.errors),
            ]
            lines.append("| " + " | ".join(row) + " |")
        if any(evaluation.reference for evaluation in evaluations):
            lines += ["", "Reference accuracy (clear frame, categories only):", ""]
            columns = ["model", *heads, "Avg"]
            lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            for evaluation in evaluations:
                if evaluation.reference:
                    cells = [_fmt(evaluation.reference[s].acc) for s in scenarios]
                    lines.append(
                        "| " + " | ".join([evaluation.label, *cells, _fmt(evaluation.reference_average())]) + " |"
                    )
        lines += ["", "acc: % episodes correct; ps: interventions per episode; errors are not scored."]
    else:
        columns = ["model", *[f"{h} ps / cp / agg" for h in heads], "Avg ps / cp / agg", "Errors"]
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for evaluation in evaluations:
            cells = [
                " / ".join(_fmt(getattr(evaluation.metrics[s], key)) for key in ("ps", "cp", "agg")) for s in scenarios
            ]
            average = " / ".join(_fmt(evaluation.average(key)) for key in ("ps", "cp", "agg"))
            lines.append("| " + " | ".join([_row_label(evaluation), *cells, average, str(evaluation.errors)]) + " |")
        lines += ["", "ps / cp / agg: % samples suggesting a valid intervention / the category / either (LLM judge)."]
    if train_scenarios:
        lines.append("Scenarios marked * were seen in training; the others are held out.")
    return "\n".join(lines) + "\n"


def _row_label(evaluation: ModelEvaluation) -> str:
    return evaluation.label if evaluation.setting in ("mcqa", "oeg") else f"{evaluation.label} ({evaluation.setting})"


def _csv_rows(evaluations: list[ModelEvaluation], train_scenarios: list[str]) -> tuple[list[str], list[list]]:
    mcqa = bool(evaluations) and evaluations[0].mode == "mcqa"
    if mcqa:
        header = ["model", "setting", "scenario", "in_train", "episodes", "errors", "acc", "ps", "ref_acc"]
        header += [f"{kind}_pct" for kind in OUTCOME_KINDS]
    else:
        header = ["model", "setting", "scenario", "in_train", "episodes", "errors", "ps", "cp", "agg"]
    rows: list[list] = []
    for evaluation in evaluations:
        for scenario in [*evaluation.scenarios, "Avg"]:
            in_train = scenario in train_scenarios
            if scenario == "Avg":
                metrics = evaluation.metrics.values()
                episodes, errors = sum(m.episodes for m in metrics), sum(m.errors for m in metrics)
                row = [evaluation.label, evaluation.setting, "Avg", "", episodes, errors]
                if mcqa:
                    shares = [
                        mean([evaluation.metrics[s].action_shares()[k] for s in evaluation.scenarios])
                        for k in OUTCOME_KINDS
                    ]
                    row += [
                        evaluation.average("acc"),
                        evaluation.average("ps"),
                        evaluation.reference_average(),
                        *shares,
                    ]
                else:
                    row += [evaluation.average(key) for key in ("ps", "cp", "agg")]
            else:
                metric = evaluation.metrics[scenario]
                row = [evaluation.label, evaluation.setting, scenario, in_train, metric.episodes, metric.errors]
                if mcqa:
                    reference = evaluation.reference[scenario].acc if evaluation.reference else float("nan")
                    row += [metric.acc, metric.ps, reference, *metric.action_shares().values()]
                else:
                    row += [metric.ps, metric.cp, metric.agg]
            rows.append([round(v, 4) if isinstance(v, float) and not math.isnan(v) else v for v in row])
    return header, rows


def _write_atomic(path: Path, data: str | bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        temporary.write_text(data, encoding="utf-8")
    else:
        temporary.write_bytes(data)
    os.replace(temporary, path)


def _action_rows(evaluations: list[ModelEvaluation]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "setting", "scenario", "turn", *OUTCOME_KINDS])
    for evaluation in evaluations:
        for scenario in evaluation.scenarios:
            metric = evaluation.metrics[scenario]
            for turn, counts in enumerate(getattr(metric, "actions_per_turn", []), start=1):
                writer.writerow(
                    [evaluation.label, evaluation.setting, scenario, turn, *(counts[k] for k in OUTCOME_KINDS)]
                )
    return buffer.getvalue()


def write_report(
    evaluations: list[ModelEvaluation], output_dir: str | Path, train_scenarios: list[str] | None = None
) -> Summary:
    """Write summary.md, summary.csv (and actions.csv, plots for MCQA) under ``output_dir``; return the Summary.

    An MCQA variant setting (hint, history, paraphrased wording: ``mcqa-hint`` ...) writes them to
    ``output_dir/<setting>/`` instead, so a diagnostic evaluated into a training run's ``eval`` folder never
    replaces the plain MCQA table that the run's final evaluation wrote there (the one ``proactive-rl report``
    reads).
    """
    train_scenarios = list(train_scenarios or [])
    output = Path(output_dir)
    variants = {evaluation.setting for evaluation in evaluations if evaluation.mode == "mcqa"} - {"mcqa"}
    if len(variants) == 1 and all(evaluation.setting in variants for evaluation in evaluations):
        output = output / variants.pop()
    output.mkdir(parents=True, exist_ok=True)
    markdown = markdown_table(evaluations, train_scenarios)
    header, rows = _csv_rows(evaluations, train_scenarios)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    files = {"markdown": output / "summary.md", "csv": output / "summary.csv"}
    _write_atomic(files["markdown"], markdown)
    _write_atomic(files["csv"], buffer.getvalue())
    if evaluations and evaluations[0].mode == "mcqa":
        files["actions"] = output / "actions.csv"
        _write_atomic(files["actions"], _action_rows(evaluations))
    from proactive_rl.evaluation.plots import write_plots

    files.update(write_plots(evaluations, output, train_scenarios))
    if evaluations and evaluations[0].mode == "mcqa":
        from proactive_rl.evaluation.browser import write_browser_beside_report

        files.update(write_browser_beside_report([e.directory for e in evaluations if e.directory], output))
    return Summary(evaluations, train_scenarios, markdown, _scalars(evaluations), files)


def _scalars(evaluations: list[ModelEvaluation]) -> dict[str, float]:
    scalars: dict[str, float] = {}
    for evaluation in evaluations:
        prefix = f"eval/{evaluation.label}/{evaluation.setting}"
        keys = ("acc", "ps") if evaluation.mode == "mcqa" else ("ps", "cp", "agg")
        for key in keys:
            scalars[f"{prefix}/avg_{key}"] = evaluation.average(key)
            for scenario in evaluation.scenarios:
                scalars[f"{prefix}/{scenario}_{key}"] = getattr(evaluation.metrics[scenario], key)
        if evaluation.reference:
            scalars[f"{prefix}/avg_ref_acc"] = evaluation.reference_average()
    return scalars
