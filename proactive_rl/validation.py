"""Every setting that can be checked without data or a model, checked at startup, in one place.

``check_train_config`` and ``check_eval_config`` run first in ``train`` and ``evaluate``: before data is
generated, a model is built or loaded, or anything is written. They collect every problem they find and
raise one :class:`ConfigError` listing each as ``key=value: what is allowed``. Hydra's schema already rejects
unknown keys and wrong types at composition; this adds what a type cannot say (ranges, scenario names,
paths that must exist, batch geometry, hub ids that cannot be reached offline).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo")
SCALE_REWARDS = ("group", "batch", "none")
DATA_SOURCES = ("synthetic", "proactivebench")


class ConfigError(ValueError):
    """One or more settings are invalid; the message lists each with its key, value and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid config:\n  - " + "\n  - ".join(problems))


def exit_on_config_error(entry: Callable[[], Any]) -> Any:
    """Run a command-line entry; a :class:`ConfigError` ends it with its message and exit status 2, no traceback."""
    import sys

    try:
        return entry()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.items.append(f"{key}={value!r}: {allowed}")

    def capture(self, check: Callable[[], Any]) -> Any:
        """Run a validator of another module and keep its message (they raise ValueError/FileNotFoundError)."""
        try:
            return check()
        except (ValueError, FileNotFoundError, TypeError) as error:
            self.items.append(str(error))
            return None

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _number(problems: _Problems, key: str, value: Any, low: float, high: float = math.inf, **bounds: bool) -> None:
    """``low <= value <= high`` (open ends with ``low_open``/``high_open``), finite, not a bool."""
    low_open, high_open = bounds.get("low_open", False), bounds.get("high_open", False)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = ("(" if low_open else "["), (")" if high_open else "]")
        problems.add(key, value, f"expected a number in {left}{low}, {high}{right}")


def _scenarios(problems: _Problems, key: str, names: Iterable[str] | None, allow_empty: bool = False) -> list[str]:
    import envs

    names = list(names or [])
    if not names and not allow_empty:
        problems.add(key, names, "expected at least one scenario, of " + ", ".join(envs.SCENARIOS))
    canonical = []
    for name in names:
        try:
            canonical.append(envs.canonical_scenario(name))
        except ValueError:
            valid = ", ".join(f"{short} ({envs.OFFICIAL_NAMES[short]})" for short in envs.SCENARIOS)
            problems.add(key, name, f"unknown scenario; valid names: {valid}")
    if len(set(canonical)) != len(canonical):
        problems.add(key, names, "lists a scenario twice")
    return canonical


def _get(problems: _Problems, cfg: DictConfig, key: str) -> Any:
    """``cfg.<key>`` resolved; an interpolation that fails (e.g. a bad ``held_out``) becomes a problem."""
    try:
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
    except Exception as error:  # omegaconf wraps resolver errors in its own exception types
        cause = error.__cause__ or error
        problems.items.append(f"{key}: {cause}")
        return None
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def _check_data(problems: _Problems, cfg: DictConfig, train: bool) -> None:
    name = _get(problems, cfg, "data.name")
    if name not in DATA_SOURCES:
        problems.add("data.name", name, f"expected one of {DATA_SOURCES}")
    trained = _get(problems, cfg, "data.train_scenarios")
    if trained is not None:
        _scenarios(problems, "data.train_scenarios", trained, allow_empty=not train)
    evaluated = _get(problems, cfg, "data.eval_scenarios")
    if evaluated is not None:
        _scenarios(problems, "data.eval_scenarios", evaluated)
    if name == "synthetic":
        from proactive_rl.synth.generator import check_generation_settings

        problems.capture(lambda: check_generation_settings(cfg.data))
        _number(problems, "data.num_workers", cfg.data.num_workers, 1)
    elif name == "proactivebench":
        test_root = cfg.data.test_root
        if not test_root or not Path(test_root).expanduser().is_dir():
            problems.add("data.test_root", test_root, "expected the folder holding the official *_preprocessed.jsonl")
        elif evaluated is not None:
            import envs

            wanted = {f"{envs.OFFICIAL_NAMES[s]}_preprocessed.jsonl" for s in _scenarios(_Problems(), "", evaluated)}
            missing = sorted(name for name in wanted if not (Path(test_root).expanduser() / name).is_file())
            if missing:
                problems.add(
                    "data.test_root", test_root, f"lacks {', '.join(missing)} (needed by data.eval_scenarios)"
                )
        if train:
            source = cfg.data.train_source
            if not source:
                problems.add("data.train_source", source, "expected a local train split or a hub dataset id")
            else:
                from proactive_rl.hub import check_source

                problems.capture(lambda: check_source(source, "data.train_source", kind="dataset"))
    if train:
        _number(problems, "data.diversity.hint_rate", _get(problems, cfg, "data.diversity.hint_rate"), 0, 1)
    if train and cfg.data.scenario_weights:
        from proactive_rl.data import scenario_shares

        problems.capture(lambda: scenario_shares(cfg.data))


def _check_model(problems: _Problems, cfg: DictConfig) -> None:
    from proactive_rl.hub import check_source
    from proactive_rl.models import as_model_config

    model = problems.capture(lambda: as_model_config(cfg.model))
    if model is not None and model.name_or_path:
        problems.capture(lambda: check_source(model.name_or_path, "model.name_or_path"))


def _check_eval(problems: _Problems, cfg: DictConfig, model_family: str | None) -> None:
    from proactive_rl.evaluation.settings import as_eval_settings, judge_source

    settings = problems.capture(lambda: as_eval_settings(cfg.eval))
    if settings is None:
        return
    if settings.scenarios:
        _scenarios(problems, "eval.scenarios", settings.scenarios)
    if settings.do_sample:
        _number(problems, "eval.temperature", settings.temperature, 0, low_open=True)
        _number(problems, "eval.top_p", settings.top_p, 0, 1, low_open=True)
    for label, adapter in (settings.adapters or {}).items():
        if adapter is not None:
            from proactive_rl.models import check_adapter

            problems.capture(lambda adapter=adapter, label=label: check_adapter(adapter, f"eval.adapters.{label}"))
    if settings.mode == "oeg":
        from proactive_rl.hub import check_source

        source = judge_source(settings.judge, model_family)
        if source != "tiny":
            problems.capture(lambda: check_source(source, "eval.judge.name_or_path"))
        _number(problems, "eval.judge.batch_size", settings.judge.batch_size, 1)
        _number(problems, "eval.judge.max_new_tokens", settings.judge.max_new_tokens, 1)


def _check_trainer(problems: _Problems, cfg: DictConfig, num_processes: int) -> None:
    from proactive_rl.grpo import check_batch_geometry

    trainer = cfg.trainer
    _number(problems, "trainer.learning_rate", trainer.learning_rate, 0, 1, low_open=True)
    _number(problems, "trainer.max_steps", trainer.max_steps, 1)
    _number(problems, "trainer.warmup_steps", trainer.warmup_steps, 0)
    for key in ("per_device_train_batch_size", "gradient_accumulation_steps", "num_iterations"):
        _number(problems, f"trainer.{key}", trainer[key], 1)
    _number(problems, "trainer.num_generations", trainer.num_generations, 2)
    if trainer.steps_per_generation is not None:
        _number(problems, "trainer.steps_per_generation", trainer.steps_per_generation, 1)
    _number(problems, "trainer.temperature", trainer.temperature, 0, low_open=True)
    _number(problems, "trainer.top_p", trainer.top_p, 0, 1, low_open=True)
    _number(problems, "trainer.max_completion_length", trainer.max_completion_length, 1)
    _number(problems, "trainer.beta", trainer.beta, 0)
    _number(problems, "trainer.epsilon", trainer.epsilon, 0, low_open=True)
    if trainer.epsilon_high is not None:
        _number(problems, "trainer.epsilon_high", trainer.epsilon_high, 0, low_open=True)
    _number(problems, "trainer.logging_steps", trainer.logging_steps, 1)
    _number(problems, "trainer.save_steps", trainer.save_steps, 1)
    if trainer.loss_type not in LOSS_TYPES:
        problems.add("trainer.loss_type", trainer.loss_type, f"expected one of {LOSS_TYPES}")
    if trainer.scale_rewards not in SCALE_REWARDS:
        problems.add("trainer.scale_rewards", trainer.scale_rewards, f"expected one of {SCALE_REWARDS}")
    if all(
        isinstance(trainer[k], int) and trainer[k] >= 1 for k in ("per_device_train_batch_size", "num_generations")
    ):
        problems.capture(lambda: check_batch_geometry(trainer, num_processes))


def _check_peft(problems: _Problems, cfg: DictConfig) -> None:
    peft = cfg.peft
    if not peft.enabled:
        return
    _number(problems, "peft.r", peft.r, 1)
    _number(problems, "peft.alpha", peft.alpha, 0, low_open=True)
    _number(problems, "peft.dropout", peft.dropout, 0, 1, high_open=True)
    if peft.bias not in ("none", "all", "lora_only"):
        problems.add("peft.bias", peft.bias, "expected one of ('none', 'all', 'lora_only')")


def check_train_config(cfg: DictConfig, num_processes: int = 1) -> None:
    """Raise :class:`ConfigError` if any setting of a composed ``conf/train.yaml`` is invalid."""
    from rewards import build as build_rewards

    problems = _Problems()
    held_out = cfg.get("held_out")
    if held_out is not None and not _scenarios(problems, "held_out", [held_out]):
        problems.raise_if_any()  # every scenario list derived from it would repeat the same message
    _check_data(problems, cfg, train=True)
    _check_model(problems, cfg)
    problems.capture(lambda: build_rewards(cfg.reward))
    _check_trainer(problems, cfg, num_processes)
    if cfg.trainer.rollout != "row":
        from proactive_rl.episodes import check_episode_config

        problems.capture(lambda: check_episode_config(cfg))
    _check_peft(problems, cfg)
    _check_eval(problems, cfg, cfg.model.get("family"))
    from proactive_rl.distributed import check_launch_precision

    problems.capture(lambda: check_launch_precision(cfg.trainer))  # accelerate launch's mixed precision
    if cfg.trainer.rollout == "episode" and os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true":
        problems.add(
            "trainer.rollout",
            "episode",
            "episode rollouts are not supported under FSDP (each process plays episodes of its own length, while"
            " a sharded forward needs every process in step); launch with DDP or DeepSpeed, or use rollout=row",
        )
    if cfg.resume and not (Path(cfg.run_dir) / "checkpoints").is_dir():
        problems.add(
            "resume", True, f"no checkpoints folder in run_dir={cfg.run_dir}; set run_dir to the run to resume"
        )
    problems.raise_if_any()


def check_eval_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` if any setting of a composed ``conf/eval.yaml`` is invalid."""
    problems = _Problems()
    _check_data(problems, cfg, train=False)
    _check_model(problems, cfg)
    _check_eval(problems, cfg, cfg.model.get("family"))
    problems.raise_if_any()
