"""PNG figures of a comparison: per-scenario accuracy bars, accuracy against ps, actions per turn.

The bars answer "did fine-tuning help, and where" (reference accuracy drawn as a tick above each bar, the
ceiling proactiveness can reach); the scatter shows whether accuracy came with more interventions; the
stacked action shares per turn show *how* a model fails (abstaining, guessing, or no option at all).
"""

from __future__ import annotations

from pathlib import Path

from proactive_rl.evaluation.metrics import OUTCOME_KINDS, mean

MAX_TURNS_SHOWN = 10
KIND_COLOURS = {
    "intervention": "#4C72B0",
    "abstain": "#DD8452",
    "correct": "#55A868",
    "wrong": "#C44E52",
    "invalid": "#8C8C8C",
}


def write_plots(evaluations, output: Path, train_scenarios: list[str]) -> dict[str, Path]:
    if not evaluations:
        return {}
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    files: dict[str, Path] = {}
    mcqa = evaluations[0].mode == "mcqa"
    key = "acc" if mcqa else "agg"
    scenarios = evaluations[0].scenarios
    names = [f"{s}*" if s in train_scenarios else s for s in scenarios] + ["Avg"]
    width = 0.8 / len(evaluations)

    figure, axis = plt.subplots(figsize=(min(16.0, 3.0 + len(names) * (0.3 + 0.35 * len(evaluations))), 4))
    for index, evaluation in enumerate(evaluations):
        values = [getattr(evaluation.metrics[s], key) for s in scenarios] + [evaluation.average(key)]
        positions = [i + (index - (len(evaluations) - 1) / 2) * width for i in range(len(names))]
        bars = axis.bar(positions, [0 if v != v else v for v in values], width, label=_label(evaluation))
        for bar, value in zip(bars, values, strict=True):
            axis.annotate(
                f"{value:.0f}" if value == value else "-",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
        if mcqa and evaluation.reference:
            reference = [evaluation.reference[s].acc for s in scenarios] + [evaluation.reference_average()]
            axis.scatter(
                positions,
                reference,
                marker="_",
                s=200,
                color="black",
                zorder=3,
                label="reference acc (tick)" if index == 0 else None,
            )
    axis.set_xticks(range(len(names)), names)
    axis.set_ylim(0, 105)
    axis.set_ylabel("MCQA accuracy (%)" if mcqa else "OEG aggregate (%)")
    axis.set_title("Accuracy per scenario" + (" (* seen in training)" if train_scenarios else ""))
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    files["plot_accuracy"] = output / "accuracy_per_scenario.png"
    figure.savefig(files["plot_accuracy"], dpi=120)
    plt.close(figure)

    x_key, y_key = "ps", "acc" if mcqa else "cp"
    figure, axis = plt.subplots(figsize=(6, 4.5))
    for evaluation in evaluations:
        xs = [getattr(evaluation.metrics[s], x_key) for s in scenarios]
        ys = [getattr(evaluation.metrics[s], y_key) for s in scenarios]
        points = axis.scatter(xs, ys, alpha=0.7, label=_label(evaluation))
        axis.scatter([mean(xs)], [mean(ys)], marker="*", s=250, color=points.get_facecolor()[0], edgecolor="black")
        labels: dict[tuple[float, float], list[str]] = {}
        for scenario, x, y in zip(scenarios, xs, ys, strict=True):
            if x == x and y == y:
                labels.setdefault((round(x, 2), round(y, 1)), []).append(scenario)
        for (x, y), names_here in labels.items():
            axis.annotate(", ".join(names_here), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axis.set_xlabel("ps: interventions per episode" if mcqa else "ps: % samples suggesting an intervention")
    axis.set_ylabel("accuracy (%)" if mcqa else "cp: % samples naming the category")
    axis.set_ylim(-3, 103)
    axis.set_title("Accuracy against proactive suggestions (star = average)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    files["plot_acc_vs_ps"] = output / "accuracy_vs_ps.png"
    figure.savefig(files["plot_acc_vs_ps"], dpi=120)
    plt.close(figure)

    if mcqa:
        files["plot_actions"] = _actions_plot(evaluations, output, plt)
    return files


def _label(evaluation) -> str:
    return evaluation.label if evaluation.setting in ("mcqa", "oeg") else f"{evaluation.label} ({evaluation.setting})"


def _actions_plot(evaluations, output: Path, plt) -> Path:
    """Share of each outcome kind per turn index, summed over scenarios, one panel per model."""
    figure, axes = plt.subplots(1, len(evaluations), figsize=(4.2 * len(evaluations) + 1.5, 3.6), squeeze=False)
    for axis, evaluation in zip(axes[0], evaluations, strict=True):
        turns: list[dict[str, int]] = []
        for scenario in evaluation.scenarios:
            for index, counts in enumerate(evaluation.metrics[scenario].actions_per_turn):
                while len(turns) <= index:
                    turns.append(dict.fromkeys(OUTCOME_KINDS, 0))
                for kind in OUTCOME_KINDS:
                    turns[index][kind] += counts[kind]
        turns = turns[:MAX_TURNS_SHOWN]
        bottoms = [0.0] * len(turns)
        positions = list(range(1, len(turns) + 1))
        for kind in OUTCOME_KINDS:
            shares = [100.0 * t[kind] / max(1, sum(t.values())) for t in turns]
            axis.bar(positions, shares, bottom=bottoms, color=KIND_COLOURS[kind], label=kind)
            bottoms = [b + s for b, s in zip(bottoms, shares, strict=True)]
        for position, counts in zip(positions, turns, strict=True):
            axis.annotate(f"n={sum(counts.values())}", (position, 101), ha="center", fontsize=6)
        axis.set_title(_label(evaluation), fontsize=9)
        axis.set_xlabel("turn")
        axis.set_ylim(0, 108)
        axis.set_xticks(positions)
    axes[0][0].set_ylabel("% of episodes answering")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle(f"What the model answered at each turn (first {MAX_TURNS_SHOWN} turns)", fontsize=10)
    figure.tight_layout()
    path = output / "actions_per_turn.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
