"""GRPO fine-tuning of a vision-language model on ProactiveBench, with LoRA.

The body of ``train`` reads in the order the work happens: seed -> data -> model -> rewards -> trainer ->
train -> save -> evaluate. Every choice lives in the composed config (``conf/train.yaml``), saved beside the
run's outputs.

Launch (the README lists more):
    proactive-rl train                                   # tiny default: synthetic data, CPU, minutes
    proactive-rl train experiment=leave_one_out held_out=COCO   # hold a scenario out of training
    accelerate launch --config_file launch/accelerate/multi_gpu.yaml -m proactive_rl.train \
        model=qwen2_5_vl_3b data=proactivebench trainer=gpu logger.mode=online
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from proactive_rl.config import CONF_DIR, register_configs

log = logging.getLogger("proactive_rl.train")


@dataclass
class TrainResult:
    run_dir: Path
    adapter_dir: Path  # LoRA adapter (safetensors) + processor
    base_model_path: str  # what the base weights were loaded from
    global_step: int
    summary_markdown: str | None  # base vs fine-tuned table, when evaluated
    trainer: object  # the GRPOTrainer, for inspection in notebooks and tests
    accuracy: dict[str, dict[str, float]]  # {"base" | "fine-tuned": {"train" | "held_out": mean MCQA acc}}


def train(cfg: DictConfig) -> TrainResult:
    import torch
    from accelerate import PartialState
    from transformers import set_seed

    from proactive_rl.data import prepare_data, rebalance_scenarios, scenario_shares, train_episodes_root
    from proactive_rl.distributed import (
        count_sharded,
        evaluates_in_place,
        fsdp_on_cpu_processes,
        record_backend,
        whole_weights,
    )
    from proactive_rl.episodes import EpisodeComponent, episode_settings, episode_trainer_class, load_episode_starts
    from proactive_rl.folds import grpo_rows
    from proactive_rl.grpo import build_grpo_config, build_lora_config, grpo_trainer_class, to_grpo_dataset
    from proactive_rl.models import load_model_and_processor, prepare_model
    from proactive_rl.tracking import finish_tracking, log_eval_summary, log_to_file, setup_tracking
    from proactive_rl.validation import check_train_config
    from rewards import build as build_rewards

    use_cpu = cfg.trainer.use_cpu if cfg.trainer.use_cpu is not None else not torch.cuda.is_available()
    state = PartialState(cpu=use_cpu)  # on CPU, processes started by torchrun join over gloo
    check_train_config(cfg, state.num_processes)  # every setting, before anything is read, built or written
    run_dir = Path(cfg.run_dir).resolve()
    reward_funcs, reward_weights = build_rewards(cfg.reward)
    episode = episode_settings(cfg) if cfg.trainer.rollout == "episode" else None  # checked above
    if episode is not None:
        reward_funcs, reward_weights = [EpisodeComponent(name) for name in episode.components], episode.weights
    checkpoint = _checkpoint_to_resume(run_dir, cfg.resume)
    if state.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        log_to_file(run_dir / "train.log")
        _write_config(cfg, run_dir / "config.yaml")
    set_seed(cfg.seed)

    with state.main_process_first():
        paths = prepare_data(cfg.data)
        model_path = prepare_model(
            cfg.model, train_source=paths.train_source, scenarios=list(cfg.data.train_scenarios)
        )
    if episode is None:
        train_set = to_grpo_dataset(grpo_rows(cfg.data, paths.train_source, cfg.seed))
    else:
        starts = load_episode_starts(train_episodes_root(cfg.data, paths), list(cfg.data.train_scenarios))
        train_set = rebalance_scenarios(starts, scenario_shares(cfg.data), cfg.seed)
    log.info(
        "train split: %d rows (%s rollouts, scenarios %s)",
        len(train_set),
        cfg.trainer.rollout,
        cfg.data.train_scenarios,
    )

    # The trainer arguments exist before the model loads, so DeepSpeed ZeRO-3 partitions it while loading.
    report_to = setup_tracking(cfg.logger, run_dir)
    args = build_grpo_config(cfg, run_dir / "checkpoints", report_to, reward_weights)
    model, processor = load_model_and_processor(cfg.model, path=model_path)
    sharding_at_load = count_sharded(model)
    evaluations: dict[str, object] = {}
    if cfg.evaluate_base:  # several processes: each plays a share of the episodes
        with whole_weights(model):
            evaluations["base"] = _evaluate(cfg, model, processor, paths.test_root, run_dir, tag="base")

    if episode is None:
        trainer_class = grpo_trainer_class()
    else:
        trainer_class = functools.partial(episode_trainer_class(), episode=episode)
    with fsdp_on_cpu_processes():
        trainer = trainer_class(
            model=model,
            processing_class=processor,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=train_set,
            peft_config=build_lora_config(cfg.peft, cfg.model.freeze_vision) if cfg.peft.enabled else None,
        )
    if state.is_main_process:
        print(f"GRPO on {state.num_processes} process(es), {len(train_set)} rows, run folder {run_dir}", flush=True)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    adapter_dir = run_dir / "adapter"
    trainer.save_model(str(adapter_dir))
    if state.is_main_process:
        processor.save_pretrained(str(adapter_dir))
    record_backend(trainer, run_dir, sharding_at_load)

    summary = None
    if cfg.evaluate_after:
        from trl.models import unwrap_model_for_generation

        from proactive_rl.evaluation import compare_runs

        if evaluates_in_place(trainer):
            with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as model:  # ZeRO-3: gathered
                evaluations["fine-tuned"] = _evaluate(cfg, model, processor, paths.test_root, run_dir, "fine-tuned")
        else:  # FSDP: every process loads the saved weights whole and plays its share
            trainer.accelerator.wait_for_everyone()
            model = _load_trained(cfg, model_path, adapter_dir)
            evaluations["fine-tuned"] = _evaluate(cfg, model, processor, paths.test_root, run_dir, "fine-tuned")
            del model
        if state.is_main_process:
            summary = compare_runs(
                evaluations, train_scenarios=list(cfg.data.train_scenarios), output_dir=run_dir / "eval"
            )
            print(summary.markdown)
            print(_learning_line(evaluations, list(cfg.data.train_scenarios)))
            log_eval_summary(summary)
    if state.is_main_process:
        finish_tracking()
    accuracy = {
        tag: split_means(evaluation, list(cfg.data.train_scenarios)) for tag, evaluation in evaluations.items()
    }
    return TrainResult(
        run_dir,
        adapter_dir,
        model_path,
        trainer.state.global_step,
        summary.markdown if summary else None,
        trainer,
        accuracy,
    )


def _load_trained(cfg: DictConfig, model_path: Path, adapter_dir: Path):
    """The trained model from the run's saved weights: the base with its LoRA adapter, or the full model."""
    from proactive_rl.models import load_model_and_processor

    if not cfg.peft.enabled:
        return load_model_and_processor(cfg.model, path=adapter_dir)[0]
    return load_model_and_processor(cfg.model, adapter=adapter_dir, path=model_path)[0]


def _evaluate(cfg: DictConfig, model, processor, test_root: Path, run_dir: Path, tag: str):
    from proactive_rl.evaluation import evaluate_policy

    scenarios = list(cfg.eval.scenarios or cfg.data.eval_scenarios)
    return evaluate_policy(model, processor, cfg.eval, test_root, scenarios, run_dir / "eval", tag=tag)


def split_means(evaluation, train_scenarios: list[str]) -> dict[str, float]:
    """Mean MCQA accuracy over the training scenarios and over the held-out ones (the learning measure)."""
    from envs import canonical_scenario

    trained = {canonical_scenario(name) for name in train_scenarios}
    means = {}
    for split, members in (("train", True), ("held_out", False)):
        scores = [evaluation.metrics[s].acc for s in evaluation.scenarios if (s in trained) == members]
        means[split] = sum(scores) / len(scores) if scores else float("nan")
    return means


def _learning_line(evaluations: dict, train_scenarios: list[str]) -> str:
    if "base" not in evaluations:
        return ""
    base, tuned = (
        split_means(evaluations["base"], train_scenarios),
        split_means(evaluations["fine-tuned"], train_scenarios),
    )
    parts = []
    for split, label in (("train", "training scenarios"), ("held_out", "held-out scenarios")):
        if math.isnan(base[split]):  # no scenario of that kind was evaluated
            continue
        parts.append(
            f"{label}: base {base[split]:.1f} -> fine-tuned {tuned[split]:.1f} "
            f"({tuned[split] - base[split]:+.1f} points)"
        )
    return "mean MCQA acc, " + "; ".join(parts)


def _checkpoint_to_resume(run_dir: Path, resume: bool) -> Path | None:
    if not resume:
        return None
    from transformers.trainer_utils import get_last_checkpoint

    checkpoints = run_dir / "checkpoints"
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if last is None:
        raise FileNotFoundError(
            f"resume=true but no checkpoint-* folder in {checkpoints}; set run_dir to the folder of the run to resume."
        )
    return Path(last)


def _write_config(cfg: DictConfig, path: Path) -> None:
    """Save the composed config (resolved; secrets are never in it: W&B keys come from the environment)."""
    text = OmegaConf.to_yaml(cfg, resolve=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    (path.parent / "command.json").write_text(json.dumps({"overrides": _hydra_overrides()}))


def _hydra_overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


register_configs()


@hydra.main(config_path=str(CONF_DIR), config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from proactive_rl.validation import exit_on_config_error

    exit_on_config_error(lambda: train(cfg))


if __name__ == "__main__":
    main()
