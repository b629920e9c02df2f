"""Translate our typed settings into TRL's GRPOConfig / PEFT's LoraConfig, and rows into GRPO prompts.

Kept apart from ``train.py`` so the benchmark that compares our step with a bare TRL script, and the tests,
build exactly the same trainer arguments.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from proactive_rl.settings import LoraSettings, TrainerSettings

# Fields of TrainerSettings that are ours (episode rollouts), not GRPOConfig's.
EPISODE_FIELDS = (
    "rollout",
    "episode_max_turns",
    "episode_history",
    "credit",
    "step_advantage_weight",
    "step_discount",
    "episode_turn_budget",
    "episode_partway",
)


def check_batch_geometry(trainer: TrainerSettings | DictConfig, num_processes: int) -> None:
    """GRPO needs whole groups per generation batch; say which keys to change instead of TRL's late error."""
    steps_per_generation = trainer.steps_per_generation or trainer.gradient_accumulation_steps
    generation_batch = trainer.per_device_train_batch_size * num_processes * steps_per_generation
    if generation_batch % trainer.num_generations:
        raise ValueError(
            f"trainer.per_device_train_batch_size ({trainer.per_device_train_batch_size}) x processes ({num_processes})"
            f" x steps_per_generation ({steps_per_generation}) = {generation_batch} completions per generation batch,"
            f" which is not a multiple of trainer.num_generations ({trainer.num_generations})."
        )


def build_grpo_config(cfg: DictConfig, output_dir: Path, report_to: list[str], reward_weights: list[float]):
    from trl import GRPOConfig

    trainer = OmegaConf.to_container(cfg.trainer, resolve=True)
    extra = trainer.pop("extra") or {}
    use_cpu = trainer.pop("use_cpu")
    for key in EPISODE_FIELDS:
        trainer.pop(key, None)
    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ValueError(f"trainer.extra has keys GRPOConfig does not know: {unknown}")
    if not trainer["use_vllm"]:
        for key in ("vllm_server_base_url",):
            trainer.pop(key)
    return GRPOConfig(
        output_dir=str(output_dir),
        seed=cfg.seed,
        data_seed=cfg.seed,
        report_to=report_to or "none",
        run_name=cfg.logger.run_name or Path(cfg.run_dir).name,
        use_cpu=(not torch.cuda.is_available()) if use_cpu is None else use_cpu,
        remove_unused_columns=False,
        reward_weights=list(reward_weights),
        save_strategy="steps",
        **trainer,
        **extra,
    )


def build_lora_config(settings: LoraSettings | DictConfig, freeze_vision: bool = True):
    """PEFT's LoraConfig; with ``freeze_vision`` (``model.freeze_vision``) no adapter goes on the vision tower."""
    from peft import LoraConfig

    from proactive_rl.models.loading import VISION_MODULE_PATTERN

    target = settings.target_modules
    target = OmegaConf.to_container(target) if OmegaConf.is_config(target) else target
    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=target,
        exclude_modules=VISION_MODULE_PATTERN if freeze_vision else None,
        bias=settings.bias,
        use_rslora=settings.use_rslora,
        task_type="CAUSAL_LM",
    )


def add_image_placeholders(prompt: list[dict], num_images: int) -> list[dict]:
    """Put one image part per row image at the head of the first user turn, unless the prompt has them.

    The published train split stores prompts as text-only parts next to an ``images`` column; TRL fills
    image parts with the row's images, so the parts must exist.
    """
    messages = [dict(message) for message in prompt]
    parts = [part for message in messages for part in (message.get("content") or []) if isinstance(part, dict)]
    if any(part.get("type") == "image" for part in parts) or num_images == 0:
        return messages
    for message in messages:
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            message["content"] = [{"type": "image", "text": None}] * num_images + list(content)
            break
    return messages


def to_grpo_dataset(dataset):
    """Rows of the train schema -> GRPO rows (prompt with image parts + images + the reward columns)."""
    from datasets import Image, Sequence

    features = dataset.features
    if "prompt" not in features or "images" not in features:
        raise ValueError(f"train split needs columns 'prompt' and 'images'; it has {sorted(features)}")
    lazy = dataset.cast_column("images", Sequence(Image(decode=False)))
    lazy = lazy.map(
        lambda row: {"prompt": add_image_placeholders(row["prompt"], len(row["images"] or []))},
        desc="image placeholders",
    )
    return lazy.cast_column("images", features["images"])


def messages_as_text(messages) -> str:
    """A chat prompt as one string, images shown as "<image>" (for logs and W&B tables)."""
    if not isinstance(messages, list):
        return str(messages)
    lines = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(
                "<image>" if part.get("type") == "image" else str(part.get("text") or "") for part in content
            )
        lines.append(f"{message.get('role', '?')}: {content}")
    return "\n".join(lines)


def grpo_trainer_class():
    """TRL's GRPOTrainer, logging rollout prompts as text.

    TRL logs VLM prompts as structured messages whose image and text parts have different shapes, which a
    W&B table rejects; as text, the rollout table (with its images column) logs fine.
    """
    from trl import GRPOTrainer

    # TRL 1.16 reads transformers' deprecated `is_gradient_checkpointing` at every step; the warning is not ours to fix
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)

    class ProactiveGRPOTrainer(GRPOTrainer):
        def log(self, logs, start_time=None):
            prompts = getattr(self, "_logs", {}).get("prompt")
            if prompts:
                flattened = [messages_as_text(prompt) for prompt in prompts]
                prompts.clear()
                prompts.extend(flattened)
            super().log(logs, start_time)

    return ProactiveGRPOTrainer
