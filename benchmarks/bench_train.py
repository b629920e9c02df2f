"""Our GRPO training step against a bare TRL GRPOTrainer script: same tiny model, data, group size, LoRA.

"ours" is the trainer `proactive-rl train` builds (our GRPOConfig translation, dataset preparation, our
GRPOTrainer subclass, rollout logging off as in the bare script); "bare" is what a user would write from
TRL's docs: plain GRPOConfig + GRPOTrainer over the same rows, the same reward functions and weights, the
same knobs. Each run is its own process, so peak memory is its own. The variants alternate over
``--repeats`` runs (order flipped each repeat); each run reports its median step time (first step excluded:
warm-up); the ratio (goal <= 1.05) is printed best-of-runs and as the median of paired runs.

    python benchmarks/bench_train.py [--steps 12] [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def run(variant: str, steps: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from proactive_rl.config import compose_train_config
    from proactive_rl.data import load_train_split, prepare_data
    from proactive_rl.grpo import build_grpo_config, build_lora_config, grpo_trainer_class, to_grpo_dataset
    from proactive_rl.models import load_model_and_processor, prepare_model
    from proactive_rl.models.loading import VISION_MODULE_PATTERN
    from rewards import build as build_rewards

    overrides = [f"trainer.max_steps={steps}", "trainer.log_completions=false", "trainer.save_steps=100000"]
    cfg = compose_train_config(overrides + ["logger=none", "run_dir=outputs/bench_train"])
    paths = prepare_data(cfg.data)
    model_path = prepare_model(cfg.model, train_source=paths.train_source, scenarios=list(cfg.data.train_scenarios))
    model, processor = load_model_and_processor(cfg.model, path=model_path)
    rows = load_train_split(paths.train_source, scenarios=list(cfg.data.train_scenarios))

    stamps: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.perf_counter())

    if variant == "ours":
        funcs, weights = build_rewards(cfg.reward)
        trainer = grpo_trainer_class()(
            model=model,
            processing_class=processor,
            reward_funcs=funcs,
            args=build_grpo_config(cfg, "outputs/bench_train/ours", [], weights),
            train_dataset=to_grpo_dataset(rows),
            peft_config=build_lora_config(cfg.peft, cfg.model.freeze_vision),
            callbacks=[StepClock()],
        )
    else:
        funcs, weights = build_rewards(cfg.reward)
        t = cfg.trainer
        args = GRPOConfig(
            output_dir="outputs/bench_train/bare",
            max_steps=steps,
            learning_rate=t.learning_rate,
            per_device_train_batch_size=t.per_device_train_batch_size,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            num_generations=t.num_generations,
            max_completion_length=t.max_completion_length,
            temperature=t.temperature,
            loss_type=t.loss_type,
            beta=t.beta,
            bf16=False,  # TRL's defaults would pick bf16 autocast and checkpointing: not what we compare
            activation_checkpointing=False,
            reward_weights=weights,
            use_cpu=True,
            report_to="none",
            save_strategy="no",
            logging_steps=t.logging_steps,
            seed=cfg.seed,
        )
        lora = LoraConfig(r=cfg.peft.r, lora_alpha=cfg.peft.alpha, target_modules="all-linear", task_type="CAUSAL_LM",
                          exclude_modules=VISION_MODULE_PATTERN)  # fmt: skip
        trainer = GRPOTrainer(model=model, processing_class=processor, reward_funcs=funcs, args=args,
                              train_dataset=rows, peft_config=lora, callbacks=[StepClock()])  # fmt: skip
    start = time.perf_counter()
    trainer.train()
    intervals = [b - a for a, b in zip([start, *stamps], stamps, strict=False)][1:]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "variant": variant,
        "median_step_s": statistics.median(intervals),
        "steps": len(stamps),
        "peak_rss_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant, interleaved")
    parser.add_argument("--variant", choices=["ours", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run(args.variant, args.steps, args.threads)))
        return
    if args.repeats < 1 or args.steps < 3:
        parser.error("--repeats must be >= 1 and --steps >= 3 (the first step is warm-up)")
    results: dict[str, list[dict]] = {"bare": [], "ours": []}
    for repeat in range(args.repeats):
        # interleaved, order flipped every repeat, so drift in machine load hits both variants alike
        order = ("bare", "ours") if repeat % 2 == 0 else ("ours", "bare")
        for variant in order:
            command = [sys.executable, __file__, "--variant", variant, "--steps", str(args.steps),
                       "--threads", str(args.threads)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[variant].append(result)
            print(f"repeat {repeat + 1}/{args.repeats} {variant:5s} median step {result['median_step_s']:.3f} s "
                  f"over {result['steps'] - 1} steps, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
    medians = {variant: [r["median_step_s"] for r in runs] for variant, runs in results.items()}
    paired = [ours / bare for ours, bare in zip(medians["ours"], medians["bare"], strict=True)]
    for variant in ("bare", "ours"):
        peak = max(r["peak_rss_mb"] for r in results[variant])
        print(f"{variant:5s} step time: best {min(medians[variant]):.3f} s, median of runs "
              f"{statistics.median(medians[variant]):.3f} s; peak RSS {peak:.0f} MB")  # fmt: skip
    print(f"time ratio ours / bare: best-of-runs {min(medians['ours']) / min(medians['bare']):.3f}, "
          f"median of paired runs {statistics.median(paired):.3f} (goal <= 1.05; {args.repeats} repeats)")  # fmt: skip


if __name__ == "__main__":
    main()
