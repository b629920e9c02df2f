"""One registry of reward components, and ``build`` that turns a ``RewardConfig`` into TRL's reward list.

A component is a plain function ``fn(completions, reward_config=None, **columns) -> list[float]`` with TRL's
reward signature; it is usable as is (default config) and carries ``bounds`` (the range of each value it
returns). ``build`` binds the config into a picklable ``RewardFunction`` whose ``__name__`` is the component
name, which is what TRL logs each reward under (``rewards/<name>/mean``): the score breakdown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from rewards.config import RewardConfig

RewardFn = Callable[..., list[float | None]]
REWARDS: dict[str, RewardFn] = {}
CONFIDENCE_SOURCES = ("qwen", "llava")


def register(
    name: str, bounds: tuple[float, float], registry: dict[str, Callable] | None = None
) -> Callable[[RewardFn], RewardFn]:
    """Register a reward component under ``name``; ``bounds`` = (lowest, highest) value it can return.

    ``registry`` defaults to the row rewards (``REWARDS``); the episode rewards keep their own.
    """
    registry = REWARDS if registry is None else registry

    def decorator(fn: RewardFn) -> RewardFn:
        if name in registry:
            raise ValueError(f"reward component {name!r} is already registered (by {registry[name].__module__})")
        low, high = bounds
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise ValueError(f"reward component {name!r}: bounds must be finite with low <= high, got {bounds}")
        fn.bounds = (float(low), float(high))
        fn.reward_name = name
        registry[name] = fn
        return fn

    return decorator


class RewardFunction:
    """A registered component bound to a config; picklable, named for TRL's per-reward logging."""

    def __init__(self, name: str, config: RewardConfig):
        self.__name__ = name
        self.component = REWARDS[name]
        self.bounds = self.component.bounds
        self.config = config

    def __call__(self, completions: Any, **columns: Any) -> list[float | None]:
        columns.pop("reward_config", None)
        return self.component(completions, reward_config=self.config, **columns)

    def __repr__(self) -> str:
        return f"RewardFunction({self.__name__!r})"


def as_reward_config(cfg: Any) -> RewardConfig:
    """A validated RewardConfig from a RewardConfig, a DictConfig or a plain mapping with the same keys."""
    if cfg is None:
        cfg = RewardConfig()
    if not isinstance(cfg, RewardConfig):
        try:
            from omegaconf import DictConfig, OmegaConf

            if isinstance(cfg, DictConfig):
                cfg = OmegaConf.to_container(cfg, resolve=True)
        except ImportError:  # omegaconf is only needed for DictConfig input
            pass
        if not isinstance(cfg, Mapping):
            raise TypeError(f"reward config must be a RewardConfig or a mapping, got {type(cfg).__name__}")
        known = {f.name for f in fields(RewardConfig)}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f"unknown reward config key(s) {unknown}; valid keys: {sorted(known)}")
        cfg = RewardConfig(**{key: value for key, value in cfg.items()})
    _validate(cfg)
    return cfg


def _validate(cfg: RewardConfig) -> None:
    valid = sorted(REWARDS)
    if isinstance(cfg.components, str) or not isinstance(cfg.components, Sequence) or not cfg.components:
        raise ValueError(f"reward.components must be a non-empty list of component names; valid: {valid}")
    for name in cfg.components:
        if name not in REWARDS:
            raise ValueError(f"reward.components: unknown reward component {name!r}; valid: {valid}")
    duplicates = sorted({name for name in cfg.components if list(cfg.components).count(name) > 1})
    if duplicates:
        raise ValueError(f"reward.components lists {duplicates} more than once")
    if not isinstance(cfg.weights, Mapping):
        raise ValueError("reward.weights must map component names to floats")
    for name, weight in cfg.weights.items():
        if name not in REWARDS:
            raise ValueError(f"reward.weights: unknown reward component {name!r}; valid: {valid}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise ValueError(f"reward.weights.{name} must be a finite number, got {weight!r}")
    missing = [name for name in cfg.components if name not in cfg.weights]
    if missing:
        raise ValueError(f"reward.weights has no weight for selected component(s) {missing}")
    if cfg.confidence_source not in CONFIDENCE_SOURCES:
        raise ValueError(
            f"reward.confidence_source must be one of {list(CONFIDENCE_SOURCES)}, got {cfg.confidence_source!r}"
        )
    if not (isinstance(cfg.delta_scale, int | float) and math.isfinite(cfg.delta_scale) and cfg.delta_scale > 0):
        raise ValueError(f"reward.delta_scale must be a positive finite number, got {cfg.delta_scale!r}")
    threshold = cfg.informative_conf_threshold
    if threshold is not None and not (isinstance(threshold, int | float) and math.isfinite(threshold)):
        raise ValueError(f"reward.informative_conf_threshold must be null or a finite number, got {threshold!r}")


def build(cfg: Any = None) -> tuple[list[RewardFunction], list[float]]:
    """The reward functions the config selects (in order) and their weights, for GRPOTrainer/GRPOConfig.

    >>> functions, weights = build(RewardConfig(components=["correct_category", "invalid"]))
    >>> [f.__name__ for f in functions], weights
    (['correct_category', 'invalid'], [1.0, -0.5])
    """
    cfg = as_reward_config(cfg)
    functions = [RewardFunction(name, cfg) for name in cfg.components]
    return functions, [float(cfg.weights[name]) for name in cfg.components]


def total_reward(completions: Any, cfg: Any = None, **columns: Any) -> list[float]:
    """The weighted sum TRL computes from the built components (for benchmarks, tests and analysis)."""
    functions, weights = build(cfg)
    totals = [0.0] * (len(completions) if isinstance(completions, Sequence) else 0)
    for function, weight in zip(functions, weights, strict=True):
        for index, value in enumerate(function(completions, **columns)):
            if value is not None:
                totals[index] += weight * value
    return totals


def total_bounds(cfg: Any = None) -> tuple[float, float]:
    """Lowest and highest total reward the config can give one completion (a loose, per-component bound)."""
    functions, weights = build(cfg)
    low = sum(min(w * f.bounds[0], w * f.bounds[1]) for f, w in zip(functions, weights, strict=True))
    high = sum(max(w * f.bounds[0], w * f.bounds[1]) for f, w in zip(functions, weights, strict=True))
    return low, high
