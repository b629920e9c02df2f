"""`proactive-rl report DIR...`: one table over many finished training runs (seeds, folds, ablations).

A single run's ``eval/summary.md`` answers "did this run learn"; a study (leave one scenario out, several
GRPO seeds, ablation switches) needs the numbers of many runs side by side, with the spread over seeds,
and the transfer measure read off directly: the gain on the scenarios a run trained on against the gain on
the scenario it never saw. This module finds the run folders under the given paths (a train run folder is
one with the ``config.yaml`` that ``proactive-rl train`` writes; a Hydra multirun folder holds them or
points to them), groups the runs whose configs differ only by the seed, and writes markdown, CSV and a PNG.

Runs that failed or stopped before their final evaluation are listed with the reason, never averaged: a
mean over the runs that happened to finish would be a number no complete study produces.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MODELS = ("base", "fine-tuned")
METRICS = ("acc", "ps")  # required columns of eval/summary.csv
PLAIN_SETTING = "mcqa"  # the summary rows compared: MCQA without hint, history or reworded options
# Share of episodes that ended on an invalid answer (neither an option nor an accepted request), % of those
# that ended on an answer: read from the outcome columns an MCQA summary has had since they were added
# (NaN, shown as "-", for summaries without them).
ENDINGS = ("correct_pct", "wrong_pct", "invalid_pct", "abstain_pct")
REPORTED = (*METRICS, "invalid")
DEFAULT_SEED_KEYS = ("seed",)
# Keys that say where and how a run was executed, not what it measured; they never split a group.
EXECUTION_KEYS = (
    "run_dir",
    "resume",
    "logger",
    "eval.output_dir",
    "eval.resume",
    "eval.wandb",
    "eval.wandb_project",
    "eval.batch_size",
    "data.num_workers",
    "trainer.logging_steps",
    "trainer.save_steps",
    "trainer.save_total_limit",
    "trainer.log_completions",
    "trainer.num_completions_to_print",
    "trainer.dataloader_num_workers",
)
# Keys that name the fold of a leave-one-out study rather than a variant of the method.
FOLD_KEYS = ("held_out", "data.train_scenarios")


@dataclass
class Run:
    """One finished training run: its flattened config and per-scenario scores of base and fine-tuned."""

    path: Path
    config: dict[str, Any]  # flattened, dotted keys
    train_scenarios: list[str]
    scenarios: list[str]
    scores: dict[str, dict[str, dict[str, float]]]  # model -> scenario -> metric -> value

    def gain(self, scenario: str) -> float:
        return self.scores["fine-tuned"][scenario]["acc"] - self.scores["base"][scenario]["acc"]

    def role(self, scenario: str) -> str:
        return "trained" if scenario in self.train_scenarios else "held out"


@dataclass
class Skipped:
    """A run folder (or multirun job) that is listed in the report but not averaged."""

    path: Path
    reason: str


@dataclass
class Group:
    """Runs whose configs are equal except for the seed keys."""

    name: str  # the settings that tell this group apart from the others, e.g. "held_out=COCO"
    variant: str  # the same without the fold keys: groups of one variant are the folds of one study
    runs: list[Run]

    @property
    def scenarios(self) -> list[str]:
        return self.runs[0].scenarios

    @property
    def train_scenarios(self) -> list[str]:
        return self.runs[0].train_scenarios


@dataclass
class Study:
    groups: list[Group]
    skipped: list[Skipped]
    seed_keys: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)
    markdown: str = ""


# ---- finding and reading runs -----------------------------------------------------------------------------


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys to hashable values (lists become tuples, an empty mapping its text), so configs can be keys."""
    if isinstance(node, dict):
        flat: dict[str, Any] = {}
        for key, value in node.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat or {prefix[:-1]: "{}"}
    return {prefix[:-1]: _frozen(node)}


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(key), _frozen(item)) for key, item in value.items()))
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of config keys, got {type(loaded).__name__}")
    return loaded


def find_run_folders(paths: Iterable[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """Run folders under ``paths`` (each holds the ``config.yaml`` a train run writes), and multirun jobs lost.

    A Hydra multirun job folder (``.hydra/config.yaml``) whose ``run_dir`` is a plain path is followed to it;
    one whose run folder cannot be found (it failed before writing, or its ``run_dir`` held ``${now:...}``,
    which Hydra does not record) is reported as skipped when no run folder was found beside it.
    """
    runs: dict[Path, None] = {}
    lost: list[Skipped] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise FileNotFoundError(f"report: {root} does not exist (expected a run folder or a folder of runs)")
        for config in sorted(root.rglob("config.yaml")) if root.is_dir() else []:
            if config.parent.name == ".hydra":
                job = config.parent.parent
                if (job / "config.yaml").exists():
                    continue  # run_dir was the job folder itself; found as a run folder
                raw = _read_yaml(config).get("run_dir")
                target = Path(str(raw)) if raw is not None and "${" not in str(raw) else None
                if target is not None and (target / "config.yaml").exists():
                    runs[target.resolve()] = None
                elif target is not None:
                    lost.append(Skipped(job, f"multirun job: its run_dir {target} holds no config.yaml"))
                continue
            if {"checkpoints", "adapter"} & set(config.parts[len(root.parts) : -1]):
                continue
            runs[config.parent.resolve()] = None
    return list(runs), lost


def _summary_scores(path: Path, scenarios: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """``{model: {scenario: {acc, ps}}}`` from a run's eval/summary.csv; ValueError says what is missing."""
    scores: dict[str, dict[str, dict[str, float]]] = {model: {} for model in MODELS}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing_columns = {"model", "scenario", *METRICS} - set(reader.fieldnames or [])
        if missing_columns:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing_columns))} (an MCQA summary has acc, ps)")
        settings = set()
        for line, row in enumerate(reader, start=2):
            setting = row.get("setting", PLAIN_SETTING)
            settings.add(setting)
            if row["model"] not in scores or row["scenario"] == "Avg" or setting != PLAIN_SETTING:
                continue
            if row["scenario"] in scores[row["model"]]:
                raise ValueError(f"{path}:{line}: {row['model']} {row['scenario']} appears twice")
            try:
                values = {key: float(row[key]) for key in METRICS}
                values["invalid"] = _invalid_endings(row)
                scores[row["model"]][row["scenario"]] = values
            except ValueError as error:
                raise ValueError(f"{path}:{line}: {error}") from error
    if settings and PLAIN_SETTING not in settings:
        raise ValueError(
            f"{path}: holds settings {sorted(settings)}, not the plain {PLAIN_SETTING!r} the study compares"
        )
    for model in MODELS:
        absent = [s for s in scenarios if s not in scores[model] or math.isnan(scores[model][s]["acc"])]
        if absent:
            raise ValueError(f"{path}: no {model} score for {', '.join(absent)}")
    return scores


def _invalid_endings(row: dict[str, str]) -> float:
    """% of answer-ended episodes that ended invalid: each such episode has exactly one final answer."""
    if any(not row.get(key) for key in ENDINGS):
        return math.nan
    endings = sum(float(row[key]) for key in ENDINGS)
    return 100.0 * float(row["invalid_pct"]) / endings if endings else math.nan


def load_run(folder: Path) -> Run | Skipped:
    """The run in ``folder``, or why it cannot be averaged (failed, incomplete, not an MCQA evaluation)."""
    try:
        config = _read_yaml(folder / "config.yaml")
    except (OSError, ValueError) as error:
        return Skipped(folder, str(error))
    flat = _flatten(config)
    if flat.get("eval.mode", "mcqa") != "mcqa":
        return Skipped(folder, f"eval.mode is {flat['eval.mode']!r}; the report compares MCQA accuracy")
    scenarios = list(flat.get("eval.scenarios") or flat.get("data.eval_scenarios") or ())
    if not scenarios:
        return Skipped(folder, "config.yaml lists no data.eval_scenarios")
    summary = folder / "eval" / "summary.csv"
    if not summary.exists():
        return Skipped(folder, "no final evaluation (eval/summary.csv missing): failed or interrupted")
    try:
        scores = _summary_scores(summary, scenarios)
    except (OSError, ValueError) as error:
        return Skipped(folder, str(error))
    return Run(folder, flat, list(flat.get("data.train_scenarios") or ()), scenarios, scores)


def _is_execution_key(key: str, seed_keys: Sequence[str], ignore: Sequence[str]) -> bool:
    return any(key == k or key.startswith(k + ".") for k in (*EXECUTION_KEYS, *seed_keys, *ignore))


def _describe(config_items: Iterable[tuple[str, Any]]) -> str:
    def show(value: Any) -> str:
        return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)

    text = " ".join(f"{key}={show(value)}" for key, value in sorted(config_items)) or "all runs"
    return text.replace("|", "/")  # names go into markdown table cells


def group_runs(
    runs: list[Run], seed_keys: Sequence[str] = DEFAULT_SEED_KEYS, ignore: Sequence[str] = ()
) -> list[Group]:
    """Runs grouped by their config minus the seed and execution keys, named by what tells the groups apart."""
    keyed: dict[frozenset, list[Run]] = {}
    for run in runs:
        items = frozenset(
            (key, value) for key, value in run.config.items() if not _is_execution_key(key, seed_keys, ignore)
        )
        keyed.setdefault(items, []).append(run)
    differing = set().union(*keyed) - set.intersection(*map(set, keyed)) if keyed else set()
    differing_keys = {key for key, _ in differing}
    if "held_out" in differing_keys:
        differing_keys.discard("data.train_scenarios")  # implied by held_out; the name stays short
    groups = []
    for items, members in keyed.items():
        shown = [(key, value) for key, value in items if key in differing_keys]
        variant = [(key, value) for key, value in shown if key not in FOLD_KEYS]
        members.sort(key=lambda run: tuple(str(run.config.get(k)) for k in seed_keys))
        groups.append(Group(_describe(shown), _describe(variant), members))
    return sorted(groups, key=lambda group: (group.variant, group.name))


# ---- statistics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    mean: float
    std: float  # sample standard deviation over runs; NaN for one run
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        values = [v for v in values if not math.isnan(v)]
        if not values:
            return cls(math.nan, math.nan, 0)
        return cls(statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else math.nan, len(values))

    def text(self, digits: int = 1, signed: bool = False) -> str:
        if self.n == 0:
            return "-"
        mean = f"{self.mean:+.{digits}f}" if signed else f"{self.mean:.{digits}f}"
        return mean if math.isnan(self.std) else f"{mean} ± {self.std:.{digits}f}"


def _run_split_gain(run: Run, role: str) -> float:
    gains = [run.gain(s) for s in run.scenarios if run.role(s) == role]
    return statistics.fmean(gains) if gains else math.nan


@dataclass(frozen=True)
class Headline:
    variant: str
    folds: int
    runs: int
    trained_gain: Spread  # mean over folds of the seed-mean gain on the training scenarios; std over runs
    held_out_gain: Spread
    held_out_positive: int  # folds whose seed-mean held-out gain is > 0
    held_out_folds: int  # folds with a held-out scenario
    # on the held-out scenario, base and fine-tuned: interventions per episode, % episodes ending invalid
    held_out_ps: tuple[float, float] = (math.nan, math.nan)
    held_out_invalid: tuple[float, float] = (math.nan, math.nan)


def _held_out_mean(folds: list[Group], model: str, metric: str) -> float:
    """Mean over folds of the seed-mean of ``metric`` on each fold's held-out scenarios."""
    per_fold = []
    for group in folds:
        values = [
            run.scores[model][s][metric] for run in group.runs for s in run.scenarios if run.role(s) == "held out"
        ]
        spread = Spread.of(values)
        if spread.n:
            per_fold.append(spread.mean)
    return statistics.fmean(per_fold) if per_fold else math.nan


def headlines(groups: list[Group]) -> list[Headline]:
    """Per variant: mean gain on trained and on held-out scenarios over folds (each fold weighs the same)."""
    by_variant: dict[str, list[Group]] = {}
    for group in groups:
        by_variant.setdefault(group.variant, []).append(group)
    result = []
    for variant, folds in by_variant.items():
        spreads = {}
        fold_means = {}
        for role in ("trained", "held out"):
            per_fold = [Spread.of([_run_split_gain(run, role) for run in group.runs]) for group in folds]
            fold_means[role] = [spread.mean for spread in per_fold if spread.n]
            every_run = [_run_split_gain(run, role) for group in folds for run in group.runs]
            std = Spread.of(every_run).std
            mean = statistics.fmean(fold_means[role]) if fold_means[role] else math.nan
            spreads[role] = Spread(mean, std, len(fold_means[role]))
        result.append(
            Headline(
                variant,
                len(folds),
                sum(len(group.runs) for group in folds),
                spreads["trained"],
                spreads["held out"],
                sum(mean > 0 for mean in fold_means["held out"]),
                len(fold_means["held out"]),
                tuple(_held_out_mean(folds, model, "ps") for model in MODELS),
                tuple(_held_out_mean(folds, model, "invalid") for model in MODELS),
            )
        )
    return result


# ---- writing ---------------------------------------------------------------------------------------------

CSV_HEADER = [
    "group",
    "variant",
    "scenario",
    "role",
    "runs",
    *(f"{model}_{metric}_{stat}" for model in MODELS for metric in REPORTED for stat in ("mean", "std")),
    "gain_mean",
    "gain_std",
]


def _scenario_spreads(group: Group, scenario: str) -> dict[str, Spread]:
    spreads = {
        f"{model}_{metric}": Spread.of([run.scores[model][scenario][metric] for run in group.runs])
        for model in MODELS
        for metric in REPORTED
    }
    spreads["gain"] = Spread.of([run.gain(scenario) for run in group.runs])
    return spreads


def _csv_text(groups: list[Group]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for group in groups:
        for scenario in group.scenarios:
            spreads = _scenario_spreads(group, scenario)
            row: list[Any] = [group.name, group.variant, scenario, group.runs[0].role(scenario), len(group.runs)]
            for key in [f"{m}_{k}" for m in MODELS for k in REPORTED] + ["gain"]:
                row += [_round(spreads[key].mean), _round(spreads[key].std)]
            writer.writerow(row)
    return buffer.getvalue()


def _round(value: float) -> float | str:
    return "" if math.isnan(value) else round(value, 4)


def _markdown(study: Study) -> str:
    seeds = ", ".join(study.seed_keys)
    lines = [f"# Study report: {sum(len(g.runs) for g in study.groups)} runs in {len(study.groups)} groups", ""]
    lines += [
        f"Mean ± sample std over the runs of a group (runs differing only by {seeds}); acc in %, ps in "
        "interventions per episode; gain = fine-tuned acc - base acc, in points.",
        "",
    ]
    if study.groups:
        lines += ["## Headline (per variant; each fold weighs the same, ± is the std over all its runs)", ""]
        lines += [
            "| variant | folds | runs | gain on trained scenarios | gain on held-out | held-out gain > 0 "
            "| held-out ps: base -> fine-tuned | held-out invalid endings %: base -> fine-tuned |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|"]
        for headline in headlines(study.groups):
            positive = f"{headline.held_out_positive} of {headline.held_out_folds}" if headline.held_out_folds else "-"
            lines.append(
                f"| {headline.variant} | {headline.folds} | {headline.runs} | "
                f"{headline.trained_gain.text(signed=True)} | {headline.held_out_gain.text(signed=True)} | {positive} | "
                f"{_arrow(headline.held_out_ps, 2)} | {_arrow(headline.held_out_invalid, 1)} |"
            )
        lines += [
            "",
            "Invalid endings: % of the episodes that ended on an answer whose answer was neither an option nor an "
            "accepted request.",
            "",
        ]
    for group in study.groups:
        seeds_seen = ", ".join("/".join(str(run.config.get(key)) for key in study.seed_keys) for run in group.runs)
        lines += [f"## {group.name} ({len(group.runs)} runs; {seeds}: {seeds_seen})", ""]
        lines += [
            "| scenario | role | base acc | fine-tuned acc | gain | base ps | fine-tuned ps "
            "| base invalid % | fine-tuned invalid % |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|---|"]
        for scenario in group.scenarios:
            spreads = _scenario_spreads(group, scenario)
            cells = [
                spreads["base_acc"].text(),
                spreads["fine-tuned_acc"].text(),
                spreads["gain"].text(signed=True),
                spreads["base_ps"].text(2),
                spreads["fine-tuned_ps"].text(2),
                spreads["base_invalid"].text(),
                spreads["fine-tuned_invalid"].text(),
            ]
            lines.append(f"| {scenario} | {group.runs[0].role(scenario)} | " + " | ".join(cells) + " |")
        lines.append("")
    if study.skipped:
        lines += [f"## Not averaged ({len(study.skipped)}: failed, incomplete or not comparable)", ""]
        lines += [f"- `{skipped.path}`: {skipped.reason}" for skipped in study.skipped]
        lines.append("")
    return "\n".join(lines)


def _arrow(pair: tuple[float, float], digits: int) -> str:
    return " -> ".join("-" if math.isnan(value) else f"{value:.{digits}f}" for value in pair)


def _write_plot(groups: list[Group], path: Path) -> None:
    """Per variant, per scenario: base and fine-tuned acc where it was trained and where it was held out."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    variants: dict[str, list[Group]] = {}
    for group in groups:
        variants.setdefault(group.variant, []).append(group)
    bars = [("trained", "base"), ("trained", "fine-tuned"), ("held out", "base"), ("held out", "fine-tuned")]
    colours = ["#A6BDDB", "#2B8CBE", "#FDBB84", "#E34A33"]
    figure, axes = plt.subplots(len(variants), 1, figsize=(11, 3.6 * len(variants)), squeeze=False)
    for axis, (variant, members) in zip(axes[:, 0], variants.items(), strict=True):
        scenarios = list(dict.fromkeys(s for group in members for s in group.scenarios))
        width = 0.2
        for index, ((role, model), colour) in enumerate(zip(bars, colours, strict=True)):
            spreads = [
                Spread.of(
                    [
                        run.scores[model][s]["acc"]
                        for group in members
                        for run in group.runs
                        if s in run.scenarios and run.role(s) == role
                    ]
                )
                for s in scenarios
            ]
            shown = [
                (i, spread) for i, spread in enumerate(spreads) if spread.n
            ]  # no bar where it never had that role
            axis.bar(
                [i + (index - 1.5) * width for i, _ in shown],
                [spread.mean for _, spread in shown],
                width,
                yerr=[0.0 if math.isnan(spread.std) else spread.std for _, spread in shown],
                capsize=2,
                color=colour,
                label=f"{model} ({role})",
            )
        axis.set_xticks(range(len(scenarios)), scenarios)
        axis.set_ylim(0, 120)
        axis.set_yticks(range(0, 101, 20))
        axis.set_ylabel("MCQA acc (%)")
        axis.set_title(variant, fontsize=9)
        axis.legend(fontsize=7, ncols=4, loc="upper center")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def report(
    paths: Sequence[str | Path],
    output_dir: str | Path,
    seed_keys: Sequence[str] = DEFAULT_SEED_KEYS,
    ignore: Sequence[str] = (),
) -> Study:
    """Find the runs under ``paths``, group them, write report.md, report.csv and report.png to ``output_dir``."""
    folders, skipped = find_run_folders(paths)
    output = Path(output_dir).resolve()
    runs: list[Run] = []
    for folder in folders:
        if output == folder or output in folder.parents:
            continue
        loaded = load_run(folder)
        (runs if isinstance(loaded, Run) else skipped).append(loaded)
    study = Study(group_runs(runs, seed_keys, ignore), skipped, tuple(seed_keys))
    output.mkdir(parents=True, exist_ok=True)
    study.markdown = _markdown(study)
    study.files = {"markdown": output / "report.md", "csv": output / "report.csv"}
    _write_atomic(study.files["markdown"], study.markdown)
    _write_atomic(study.files["csv"], _csv_text(study.groups))
    if study.groups:
        study.files["plot"] = output / "report.png"
        _write_plot(study.groups, study.files["plot"])
    return study


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proactive-rl report",
        usage="proactive-rl report DIR... [--out OUT_DIR] [--seed-key KEY]... [--ignore KEY]...",
        description="Aggregate finished train runs (run folders or folders of them, e.g. a multirun) into one "
        "table: per scenario base and fine-tuned acc/ps, mean ± std over seeds, trained vs held out.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run folders, or folders searched for them")
    parser.add_argument("--out", help="where report.md/.csv/.png go (default: DIR/report for the first DIR)")
    parser.add_argument(
        "--seed-key",
        action="append",
        dest="seed_keys",
        metavar="KEY",
        help="config key whose values are the seeds averaged over (repeatable; default: seed)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="KEY",
        help="config key (or prefix) that does not split groups (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> Study:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = Path(args.out) if args.out else Path(args.dirs[0]) / "report"
    try:
        study = report(args.dirs, output, tuple(args.seed_keys or DEFAULT_SEED_KEYS), args.ignore)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    print(study.markdown)
    print("\n".join(f"{kind}: {path}" for kind, path in study.files.items()))
    return study
