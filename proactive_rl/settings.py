"""Typed settings of the config groups the trainer owns: GRPO (`trainer`), LoRA (`peft`), tracking (`logger`).

The defaults are the tiny CPU run's (``conf/trainer/cpu.yaml`` only names itself); the other presets hold what
differs (``conf/trainer/gpu.yaml``).

Every field maps to one knob of TRL's ``GRPOConfig``, PEFT's ``LoraConfig`` or W&B, under the same name
where one exists, so the TRL documentation applies as written. Anything ``GRPOConfig`` accepts that is not
listed here goes through ``trainer.extra`` (checked against ``GRPOConfig`` at startup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainerSettings:
    max_steps: int = 400  # optimizer steps of GRPO
    learning_rate: float = 5e-4  # LoRA learning rate (high, as usual for small adapters)
    lr_scheduler_type: str = "constant_with_warmup"  # transformers scheduler name
    warmup_steps: int = 0  # linear warm-up steps
    per_device_train_batch_size: int = 32  # completions per device per micro-batch (4 prompts x 8 generations)
    gradient_accumulation_steps: int = 1  # micro-batches per optimizer step
    num_generations: int = 8  # completions per prompt (the GRPO group size)
    steps_per_generation: int | None = None  # reuse one generation batch for this many micro-batches (TRL default)
    num_iterations: int = 1  # policy updates per generation batch (mu in the GRPO paper)
    beta: float = 0.0  # KL coefficient; 0 drops the reference model (TRL default)
    epsilon: float = 0.2  # lower clipping range
    epsilon_high: float | None = None  # upper clipping range (DAPO clip-higher); None = epsilon
    loss_type: str = "dapo"  # grpo | dr_grpo | dapo | bnpo | ... (any TRL loss_type)
    scale_rewards: str = "group"  # group | batch | none: how advantages are normalized
    temperature: float = 1.0  # sampling temperature of rollouts
    top_p: float = 1.0  # nucleus sampling of rollouts
    max_completion_length: int = 12  # tokens per completion; an MCQA answer is one option
    mask_truncated_completions: bool = False  # drop completions that hit the length limit from the loss
    activation_checkpointing: bool = (
        False  # recompute activations in the backward pass: memory for compute (large models)
    )
    bf16: bool = False  # bf16 mixed precision (GPU); the tiny CPU default runs in float32
    use_cpu: bool | None = None  # None = CPU only when no accelerator is visible
    logging_steps: int = 5  # log every N steps (reward components, frac_reward_zero_std, ...)
    save_steps: int = 200  # checkpoint every N steps (adapter + optimizer + scheduler + RNG)
    save_total_limit: int | None = 2  # keep this many checkpoints
    # rollouts of every logging step go to W&B (with images) and <run_dir>/checkpoints/completions/*.parquet
    log_completions: bool = True
    num_completions_to_print: int = 0  # also print N of them to the console as a table (0: keep it quiet)
    dataloader_num_workers: int = 0  # workers for the train dataloader
    use_vllm: bool = False  # generate rollouts with vLLM
    vllm_mode: str = "colocate"  # colocate (same GPUs) | server (`trl vllm-serve` on other GPUs)
    vllm_server_base_url: str | None = None  # server mode: URL of `trl vllm-serve`
    vllm_gpu_memory_utilization: float = 0.3  # colocate mode: GPU memory share for vLLM
    vllm_tensor_parallel_size: int = 1  # colocate mode: tensor parallel degree
    extra: dict[str, Any] = field(default_factory=dict)  # other GRPOConfig fields, passed through as-is
    # ---- episode rollouts (docs/episode_training.md); ours, not GRPOConfig's ----
    rollout: str = "row"  # row: one frozen frame per prompt | episode: G sampled episodes per start entry
    episode_max_turns: int | None = None  # lower the environments' turn cap in training episodes; None = theirs
    episode_history: bool = False  # show earlier turns (frames and answers) in each turn's prompt
    credit: str = "gigpo"  # episode: group-normalised episode return on every turn | gigpo: + step-level term
    step_advantage_weight: float = 1.0  # gigpo: weight of the step-level advantage
    step_discount: float = 0.95  # gigpo: discount of the step returns
    episode_partway: float = 0.0  # share of GRPO groups that start part-way along the right moves (exploration aid)
    episode_turn_budget: int | None = None  # stop once this many answer turns were generated (compare with row runs)


@dataclass
class LoraSettings:
    enabled: bool = True  # False = full fine-tuning (large memory; mind the vision tower)
    r: int = 16  # LoRA rank
    alpha: int = 32  # LoRA alpha (scaling = alpha / r)
    dropout: float = 0.0  # LoRA dropout
    target_modules: Any = "all-linear"  # "all-linear" or a list of module names / a regex
    use_rslora: bool = False  # rank-stabilized scaling
    bias: str = "none"  # none | all | lora_only


@dataclass
class LoggerSettings:
    report_to: list[str] = field(default_factory=lambda: ["wandb"])  # TRL report_to; [] or ["none"] disables
    project: str = "proactive-rl"  # W&B project
    entity: str | None = None  # W&B entity (team); None = your default
    run_name: str | None = None  # W&B run name; None = the run folder's name
    tags: list[str] = field(default_factory=list)  # W&B tags
    mode: str = "auto"  # auto (online when an API key is set, else offline) | online | offline | disabled
