"""The typed schema of `conf/train.yaml`, registered in Hydra's ConfigStore.

Each config group's YAML is merged onto a dataclass owned by the module that uses it (model presets onto
``ModelConfig``, data onto ``DataConfig``...), so a misspelt key or override fails at composition, before any
model loads. ``compose_train_config`` is the same composition for tests and notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from proactive_rl.data import DataConfig
from proactive_rl.evaluation import EvalSettings
from proactive_rl.models import ModelConfig
from proactive_rl.paths import CONF_DIR, REPO_ROOT  # noqa: F401  (re-exported: entry points and tests use them)
from proactive_rl.settings import LoggerSettings, LoraSettings, TrainerSettings
from rewards import RewardConfig


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)  # policy model preset (conf/model)
    data: DataConfig = field(default_factory=DataConfig)  # train split, test folder, scenarios (conf/data)
    reward: RewardConfig = field(default_factory=RewardConfig)  # reward components and weights (conf/reward)
    peft: LoraSettings = field(default_factory=LoraSettings)  # LoRA (conf/peft)
    trainer: TrainerSettings = field(default_factory=TrainerSettings)  # GRPO knobs (conf/trainer)
    logger: LoggerSettings = field(default_factory=LoggerSettings)  # W&B (conf/logger)
    eval: EvalSettings = field(default_factory=EvalSettings)  # evaluation after training (conf/eval)
    seed: int = 0  # seeds python, numpy, torch and the GRPO sampler
    run_dir: str = "outputs/train/${now:%Y-%m-%d_%H-%M-%S}"  # everything the run writes goes here
    resume: bool = False  # continue from the last checkpoint in run_dir (same step, optimizer, scheduler, RNG)
    evaluate_base: bool = True  # evaluate the base model before training, for the comparison table
    evaluate_after: bool = True  # evaluate the fine-tuned model at the end and print base vs fine-tuned
    held_out: str | None = None  # experiment=leave_one_out: the scenario kept out of training


@dataclass
class EvalConfig:
    model: ModelConfig = field(default_factory=ModelConfig)  # model (and tiny build) to evaluate (conf/model)
    data: DataConfig = field(default_factory=DataConfig)  # test folder and scenarios (conf/data)
    eval: EvalSettings = field(default_factory=EvalSettings)  # protocol, batching, adapters, outputs (conf/eval)


def scenarios_except(held_out: str | None) -> list[str]:
    """All seven scenarios but ``held_out`` (either spelling): the training set of a leave-one-out run."""
    from envs import SCENARIOS, canonical_scenario

    if held_out is None:
        raise ValueError("experiment=leave_one_out needs held_out=<scenario>, one of " + ", ".join(SCENARIOS))
    excluded = canonical_scenario(held_out)
    return [scenario for scenario in SCENARIOS if scenario != excluded]


def register_configs() -> None:
    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="eval_schema", node=EvalConfig)
    if not OmegaConf.has_resolver("scenarios_except"):
        OmegaConf.register_new_resolver("scenarios_except", scenarios_except)


def compose_train_config(overrides: list[str] | None = None, config_name: str = "train") -> DictConfig:
    """Compose a config exactly as the command line would (same defaults, same schema checks)."""
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides or [], return_hydra_config=False)
