"""Per-scenario skills of a base model on train-format rows: recognise, know what helps, ask.

GRPO can only reinforce what a base already does now and then. When a scenario does not learn, the first
question is which of three skills its base lacks, and the bootstrap report (``build_info.json``) mixes every
scenario into one figure. This probe answers it per scenario, with greedy answers:

- ``recognition``: category accuracy on informative frames (can it name the object when the frame shows it?);
- ``capability``: on ambiguous frames asked "which action would help?", the share answered with a valid
  intervention (does it know which request leads to the object?);
- ``ask_rate``: on ambiguous frames asked the benchmark question, the share answered with a valid intervention
  (does it ask on its own? GRPO has to sample an ask before it can reinforce one);
- ``ambiguous_accuracy``: the category accuracy on those ambiguous frames (a guess, by construction).

Point it at rows the base was not trained on: a train split generated with another data seed, e.g.
``python -m proactive_rl.synth --out /tmp/probe-rows --seed 1 --test-per-scenario 1 --train-rows 2000``, then
``python -m proactive_rl.tiny.probe .cache/models/tiny-<hash> /tmp/probe-rows/train``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

FIELDS = ("recognition", "capability", "ask_rate", "ambiguous_accuracy", "informative", "ambiguous")


def probe_rows(rows, per_scenario: int, seed: int = 0) -> dict[str, tuple[list[int], list[int]]]:
    """Up to ``per_scenario`` informative and ambiguous row indices of each scenario, drawn with ``seed``."""
    for column in ("scenario", "state"):
        if column not in rows.column_names:
            raise ValueError(f"probe: the rows have no {column!r} column (ProactiveBench-Synth's train split has it)")
    by_scenario: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, (scenario, state) in enumerate(zip(rows["scenario"], rows["state"], strict=True)):
        by_scenario[scenario][state].append(index)
    rng = random.Random(seed)
    drawn = {}
    for scenario in sorted(by_scenario):
        states = by_scenario[scenario]
        drawn[scenario] = tuple(
            sorted(rng.sample(states[state], min(per_scenario, len(states[state]))))
            for state in ("informative", "ambiguous")
        )
    return drawn


def probe(model, processor, rows, per_scenario: int = 40, seed: int = 0) -> dict[str, dict[str, float]]:
    """``{scenario: {recognition, capability, ask_rate, ambiguous_accuracy, informative, ambiguous}}``."""
    import torch

    from proactive_rl.tiny.bootstrap import measure_answers, measure_capability

    results = {}
    with torch.no_grad():
        for scenario, (informative, ambiguous) in probe_rows(rows, per_scenario, seed).items():
            answers = measure_answers(model, processor, rows, informative, ambiguous)
            results[scenario] = {
                "recognition": answers["informative_accuracy"],
                "capability": measure_capability(model, processor, [rows[i] for i in ambiguous]),
                "ask_rate": answers["ambiguous_intervention_rate"],
                "ambiguous_accuracy": answers["ambiguous_accuracy"],
                "informative": len(informative),
                "ambiguous": len(ambiguous),
            }
    return results


def markdown(results: dict[str, dict[str, float]]) -> str:
    lines = ["| scenario | " + " | ".join(FIELDS) + " |", "|---" * (len(FIELDS) + 1) + "|"]
    for scenario, values in results.items():
        cells = [f"{values[f]:.2f}" if isinstance(values[f], float) else str(values[f]) for f in FIELDS]
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a model folder (a cached tiny base, a merged checkpoint)")
    parser.add_argument("rows", help="a train split folder (save_to_disk or parquet), ideally unseen by the base")
    parser.add_argument("--per-scenario", type=int, default=40, help="rows of each state per scenario (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.per_scenario < 1:
        parser.error(f"--per-scenario must be at least 1, got {args.per_scenario}")
    for name, path in (("model", args.model), ("rows", args.rows)):
        if not Path(path).exists():
            parser.error(f"{name}: {path} does not exist")

    from transformers import AutoModelForImageTextToText, AutoProcessor

    from proactive_rl.data import load_train_split

    rows = load_train_split(args.rows)
    processor = AutoProcessor.from_pretrained(args.model)
    model = AutoModelForImageTextToText.from_pretrained(args.model).eval()
    results = probe(model, processor, rows, args.per_scenario, args.seed)
    print(markdown(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
