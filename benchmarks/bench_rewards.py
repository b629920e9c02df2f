"""How fast the default reward scores completions, so we know rewards never throttle GRPO training.

Scores a realistic mix of completions (option letters, option texts, "X. text", chatty sentences, listings of
every option, reasoning paragraphs, empty strings, chat-message form) in TRL-sized batches: each batch holds
``--group`` completions for each of its prompts, rows are new every batch (as in training), and every
component of the default combination is called once per batch, exactly as GRPOTrainer does.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_rewards.py            # 100,000 completions
    PYTHONPATH=. .venv/bin/python benchmarks/bench_rewards.py --total 20000 --batch 64 --config accuracy_only
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path

import yaml

from rewards import build, classify, completion_text, make_question
from rewards.config import RewardConfig

CONF_REWARD = Path(__file__).resolve().parent.parent / "conf" / "reward"
INTERVENTIONS = [
    "Move the occluding blocks to the left.",
    "Move the occluding blocks to the right.",
    "Rewind the video.",
    "Wait for the object to appear.",
    "Rotate the object.",
    "Increase the brightness.",
    "Denoise the image.",
    "Add more details to the drawing.",
    "Move the camera up.",
    "Move farther from the object.",
]
ABSTAIN = ["I cannot answer the question.", "I do not know."]
CATEGORIES = [
    f"{noun}" for noun in "apple bicycle camera dolphin envelope fork guitar hammer igloo jacket kite".split()
]


def make_row(rng: random.Random, index: int) -> dict:
    informative = rng.random() < 0.4
    displayed = rng.sample(INTERVENTIONS, rng.randint(1, 3))
    valid = [] if informative else displayed[: rng.randint(1, len(displayed))]
    categories = rng.sample(CATEGORIES, 4)
    categories[0] = f"{categories[0]} {index}"  # distinct rows, so per-row caches see training-like misses
    rng.shuffle(categories)
    options = displayed + [rng.choice(ABSTAIN)] + categories
    return {
        "options": options,
        "proactive_actions": valid,
        "ground_truth": rng.choice(categories),
        "state": "informative" if informative else "ambiguous",
        "qwen_conf": rng.random(),
        "qwen_delta": [{"key": action, "value": rng.uniform(-0.5, 0.5)} for action in valid],
        "llava_conf": rng.random(),
        "llava_delta": [],
        "scenario": "ROD",
    }


def make_completion(rng: random.Random, row: dict) -> str | list:
    options = row["options"]
    index = rng.randrange(len(options))
    letter = chr(65 + index)
    kind = rng.random()
    if kind < 0.30:
        text = letter
    elif kind < 0.55:
        text = options[index]
    elif kind < 0.70:
        text = f"{letter}. {options[index]}"
    elif kind < 0.80:
        text = f"The answer is {options[index].lower()}"
    elif kind < 0.85:
        text = "\n".join(f"{chr(65 + i)}. {option}" for i, option in enumerate(options))
    elif kind < 0.95:
        text = "Let me think. " * rng.randint(10, 60) + f"So the answer is {letter}."
    else:
        text = rng.choice(["", " ", "???", "I am not sure what this is."])
    return [{"role": "assistant", "content": text}] if rng.random() < 0.5 else text


def load_config(name: str) -> RewardConfig:
    values = yaml.safe_load((CONF_REWARD / f"{name}.yaml").read_text())
    values.pop("defaults", None)
    return RewardConfig(**values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=100_000, help="completions to score")
    parser.add_argument("--batch", type=int, default=256, help="completions per reward call (TRL's global batch)")
    parser.add_argument("--group", type=int, default=8, help="completions per prompt (num_generations)")
    parser.add_argument("--config", default="default", help="conf/reward/<name>.yaml")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    functions, weights = build(load_config(args.config))
    prompts_per_batch = max(1, args.batch // args.group)
    batches = []
    for batch_index in range(-(-args.total // args.batch)):
        rows = [make_row(rng, batch_index * prompts_per_batch + i) for i in range(prompts_per_batch)]
        grouped = [row for row in rows for _ in range(args.group)]
        completions = [make_completion(rng, row) for row in grouped]
        columns = {name: [row[name] for row in grouped] for name in grouped[0]}
        batches.append((completions, columns))
    scored = sum(len(completions) for completions, _ in batches)

    start, start_cpu = time.perf_counter(), time.process_time()
    totals = []
    for completions, columns in batches:
        per_function = [function(completions, **columns) for function in functions]
        totals.extend(
            sum(w * values[i] for w, values in zip(weights, per_function, strict=True))
            for i in range(len(completions))
        )
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    kinds = Counter()
    for completions, columns in batches[:20]:
        for i, completion in enumerate(completions):
            question = make_question(
                columns["options"][i], columns["proactive_actions"][i], columns["ground_truth"][i]
            )
            kinds[classify(completion_text(completion), question).kind] += 1
    print(f"config={args.config} components={[f.__name__ for f in functions]}")
    print(f"outcome mix (first 20 batches): {dict(kinds)}")
    print(f"mean total reward: {sum(totals) / len(totals):.3f}")
    print(f"scored {scored} completions x {len(functions)} components: {elapsed:.2f} s wall, {elapsed_cpu:.2f} s CPU")
    print(f"{scored / elapsed_cpu:,.0f} completions/s (CPU time; wall: {scored / elapsed:,.0f}/s)")


if __name__ == "__main__":
    main()
