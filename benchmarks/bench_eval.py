"""Throughput of the batched MCQA runner against a one-episode-at-a-time loop in the official example's style.

Both play the same synthetic test episodes with the same tiny Qwen2.5-VL (greedy, 50 new tokens, float32
on CPU). The baseline follows ``proactivebench/tests/mcqa.py``: per turn it builds one conversation, runs
the processor, generates, decodes and scores. The runner keeps ``--batch-size`` episodes in flight and
writes its per-episode JSONL as a real run does. Per-episode outcomes must be identical (asserted).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_eval.py                  # random-weight tiny model
    PYTHONPATH=. .venv/bin/python benchmarks/bench_eval.py --model PATH     # a saved model folder
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import envs
from proactive_rl.evaluation import EpisodeJob, run_mcqa
from proactive_rl.evaluation.metrics import mcqa_metrics
from proactive_rl.evaluation.policy import HFPolicy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.prompting import format_mcqa, user_message


def load_model(path: str | None):
    if path:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        return AutoModelForImageTextToText.from_pretrained(
            path, dtype=torch.float32
        ).eval(), AutoProcessor.from_pretrained(path)
    from proactive_rl.models.config import TinyModelConfig
    from proactive_rl.models.tiny_build import build_tiny

    processor, model = build_tiny(TinyModelConfig(bootstrap_steps=0), ["What is the object in the image?"])
    return model.eval(), processor


def one_at_a_time(model, processor, jobs: list[EpisodeJob], test_root: Path, max_new_tokens: int) -> list[dict]:
    """The official example's loop: one conversation, one processor call, one generate per turn."""
    records = []
    tokenizer = processor.tokenizer
    for job in jobs:
        env = envs.make(job.scenario, job.entry, test_root)
        observation, _ = env.reset()
        kinds, answers, info, error = [], [], {}, None
        terminated = False
        while not terminated:
            conversation = [user_message(format_mcqa(observation["prompt"], observation["options"]), 1)]
            chat = processor.apply_chat_template(conversation, add_generation_prompt=True)
            try:
                inputs = processor(images=[observation["image"]], text=[chat], padding=True, return_tensors="pt")
            except (ValueError, TypeError, ZeroDivisionError) as failure:
                error = str(failure)
                break
            length = inputs["input_ids"].shape[1]
            with torch.inference_mode():
                generated = model.generate(
                    **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
                )
            answer = tokenizer.decode(generated[0][length:], skip_special_tokens=True)
            observation, _, terminated, _, info = env.step(answer)
            kinds.append(info["outcome"].kind)
            answers.append(answer)
        episode = info.get("episode", {})
        records.append(
            {
                "id": job.entry["id"],
                "scenario": job.scenario,
                "kinds": kinds,
                "answers": answers,
                "correct": bool(episode.get("correct", False)) if error is None else False,
                "num_turns": episode.get("num_turns", len(kinds)) if error is None else len(kinds),
                "error": error,
            }
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="saved model folder (default: random-weight tiny Qwen2.5-VL)")
    parser.add_argument("--data-root", default=None, help="synthetic data folder (default: a temporary one)")
    parser.add_argument("--per-scenario", type=int, default=20, help="synthetic test episodes per scenario")
    parser.add_argument("--batch-size", type=int, default=32, help="episodes in flight in the batched runner")
    parser.add_argument("--max-new-tokens", type=int, default=50, help="official MCQA budget")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 avoids OpenMP oversubscription on a shared 2-core machine)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from proactive_rl.data import DataConfig, prepare_data

    work = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    data_root = Path(args.data_root) if args.data_root else work / "data"
    test_root = prepare_data(
        DataConfig(root=str(data_root), test_per_scenario=args.per_scenario, train_rows=14)
    ).test_root
    jobs = [EpisodeJob(s, entry) for s in envs.SCENARIOS for entry in envs.load_entries(s, test_root)]
    model, processor = load_model(args.model)
    print(
        f"{len(jobs)} episodes over {len(envs.SCENARIOS)} scenarios; {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; {args.threads} threads"
    )

    start = time.perf_counter()
    sequential = one_at_a_time(model, processor, jobs, test_root, args.max_new_tokens)
    sequential_seconds = time.perf_counter() - start

    store = RecordStore(work / "out", "bench/mcqa", {"bench": True}, resume=False)
    policy = HFPolicy(model, processor, max_new_tokens=args.max_new_tokens)
    make_env = lambda job: envs.make(job.scenario, job.entry, test_root)  # noqa: E731
    start = time.perf_counter()
    run_mcqa(policy, jobs, make_env, store, args.batch_size)
    batched_seconds = time.perf_counter() - start

    keys = ("kinds", "answers", "correct", "num_turns")
    batched_by_id = {(r["scenario"], r["id"]): r for s in envs.SCENARIOS for r in store.load(s)}
    for record in sequential:
        mine = batched_by_id[(record["scenario"], record["id"])]
        assert {k: mine[k] for k in keys} == {k: record[k] for k in keys}, (record, mine)
        assert bool(mine["error"]) == bool(record["error"])
    for scenario in envs.SCENARIOS:
        ours = mcqa_metrics(scenario, store.load(scenario))
        theirs = mcqa_metrics(scenario, [r for r in sequential if r["scenario"] == scenario])
        assert (ours.acc, ours.ps, ours.errors) == (theirs.acc, theirs.ps, theirs.errors), scenario

    turns = sum(r["num_turns"] for r in sequential)
    print(
        f"one at a time: {len(jobs) / sequential_seconds:7.2f} episodes/s ({sequential_seconds:6.1f} s, {turns} turns)"
    )
    print(f"batched ({args.batch_size:3d}): {len(jobs) / batched_seconds:7.2f} episodes/s ({batched_seconds:6.1f} s)")
    print(f"speed-up: {sequential_seconds / batched_seconds:.1f}x; per-episode outcomes identical")


if __name__ == "__main__":
    main()
