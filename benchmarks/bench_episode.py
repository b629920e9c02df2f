"""Episode rollouts: batched vs one episode at a time, and the episode GRPO step vs the row step.

1. ``rollout``: the same episode starts played by the sampling ``RecordingPolicy`` with all episodes in
   flight (one batched ``generate`` per turn) and with one episode at a time; seconds per generated token.
2. ``step``: the default tiny setup's GRPO step in row mode (32 single-frame prompts) and in episode mode
   (4 starts x 8 episodes, every turn a training row); seconds per generated answer turn, first step
   excluded (warm-up).

Both on the default tiny model and synthetic data (built on first use). Ratios are measured in one run.

    python benchmarks/bench_episode.py [--starts 32] [--steps 6] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time


def bench_rollout(cfg, model, processor, starts: int) -> dict[str, float]:
    import torch

    from proactive_rl.data import prepare_data, train_episodes_root
    from proactive_rl.episodes import RecordingPolicy, load_episode_starts, play_rollouts, starts_from_rows

    root = train_episodes_root(cfg.data, prepare_data(cfg.data))
    rows = list(load_episode_starts(root, list(cfg.data.train_scenarios)).shuffle(seed=0).select(range(starts)))
    results = {}
    for name, batch in (("batched", starts), ("one at a time", 1)):
        torch.manual_seed(0)
        policy = RecordingPolicy(
            model, processor, max_new_tokens=cfg.trainer.max_completion_length, do_sample=True, temperature=1.0
        )
        begin = time.perf_counter()
        rollouts = play_rollouts(policy, starts_from_rows(rows), batch)
        seconds = time.perf_counter() - begin
        turns = sum(len(rollout.turns) for rollout in rollouts)
        results[name] = seconds / policy.generated_tokens
        print(
            f"rollout {name:>13}: {len(rows)} episodes, {turns} turns, {policy.generated_tokens} tokens, "
            f"{seconds:.1f} s, {1000 * results[name]:.2f} ms per generated token"
        )
    print(f"rollout: one at a time / batched = {results['one at a time'] / results['batched']:.2f}x per token")
    return results


def bench_step(steps: int) -> dict[str, float]:
    results = {rollout: step_time(rollout, steps) for rollout in ("row", "episode")}
    print(f"step: episode / row = {results['episode'] / results['row']:.2f}x per generated answer turn")
    return results


def step_time(rollout: str, steps: int) -> float:
    """Seconds per generated answer turn of ``steps`` GRPO steps in one rollout mode (first step excluded)."""
    from transformers import TrainerCallback

    from proactive_rl.config import compose_train_config
    from proactive_rl.data import load_train_split, prepare_data, train_episodes_root
    from proactive_rl.episodes import EpisodeComponent, episode_settings, episode_trainer_class, load_episode_starts
    from proactive_rl.grpo import build_grpo_config, build_lora_config, grpo_trainer_class, to_grpo_dataset
    from proactive_rl.models import load_model_and_processor, prepare_model
    from rewards import build as build_rewards

    overrides = [f"trainer.max_steps={steps}", "trainer.log_completions=false", "trainer.save_steps=100000"]
    cfg = compose_train_config([*overrides, f"trainer.rollout={rollout}", "logger=none", "run_dir=outputs/bench"])
    paths = prepare_data(cfg.data)
    scenarios = list(cfg.data.train_scenarios)
    model_path = prepare_model(cfg.model, train_source=paths.train_source, scenarios=scenarios)
    model, processor = load_model_and_processor(cfg.model, path=model_path)
    stamps: list[tuple[float, int]] = []  # (time, answer turns generated so far) at each step end
    row_turns = cfg.trainer.per_device_train_batch_size * cfg.trainer.gradient_accumulation_steps

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            generated = getattr(trainer, "turns_generated", None)
            stamps.append((time.perf_counter(), state.global_step * row_turns if generated is None else generated))

    common = {"model": model, "processing_class": processor, "peft_config": build_lora_config(cfg.peft)}
    if rollout == "row":
        funcs, weights = build_rewards(cfg.reward)
        dataset = to_grpo_dataset(load_train_split(paths.train_source, scenarios=scenarios))
        trainer_class = grpo_trainer_class()
    else:
        episode = episode_settings(cfg)
        funcs, weights = [EpisodeComponent(name) for name in episode.components], episode.weights
        dataset = load_episode_starts(train_episodes_root(cfg.data, paths), scenarios)
        trainer_class = episode_trainer_class()
        common["episode"] = episode
    trainer = trainer_class(
        reward_funcs=funcs,
        args=build_grpo_config(cfg, f"outputs/bench/{rollout}", [], weights),
        train_dataset=dataset,
        callbacks=[StepClock()],
        **common,
    )
    trainer.train()
    seconds = [b[0] - a[0] for a, b in zip(stamps, stamps[1:], strict=False)]
    turns = stamps[-1][1] - stamps[0][1]
    print(
        f"step {rollout:>7}: median {statistics.median(seconds):.2f} s per step, "
        f"{turns / len(seconds):.1f} answer turns per step, {1000 * sum(seconds) / turns:.1f} ms per answer turn "
        f"(steps 2-{steps})"
    )
    return sum(seconds) / turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=32, help="episodes in the rollout comparison")
    parser.add_argument("--steps", type=int, default=6, help="GRPO steps per mode in the step comparison")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from proactive_rl.config import compose_train_config
    from proactive_rl.data import prepare_data
    from proactive_rl.models import load_model_and_processor, prepare_model

    cfg = compose_train_config(["logger=none", "run_dir=outputs/bench"])
    paths = prepare_data(cfg.data)
    path = prepare_model(cfg.model, train_source=paths.train_source, scenarios=list(cfg.data.train_scenarios))
    model, processor = load_model_and_processor(cfg.model, path=path)
    bench_rollout(cfg, model, processor, args.starts)
    bench_step(args.steps)


if __name__ == "__main__":
    main()
