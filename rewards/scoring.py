"""The loop every component shares: judge each completion, score it, give 0 to unscorable rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rewards.answers import Judged, judge_batch
from rewards.config import RewardConfig


def score_each(
    completions: Any,
    columns: Mapping[str, Any],
    reward_config: RewardConfig | None,
    score: Callable[[Judged, RewardConfig], float],
) -> list[float]:
    """One finite score per completion; ``score`` only sees completions of scorable rows."""
    config = reward_config if reward_config is not None else RewardConfig()
    return [
        float(score(judged, config)) if judged.outcome is not None else 0.0
        for judged in judge_batch(completions, columns)
    ]


def asking_pays(judged: Judged, config: RewardConfig) -> bool:
    """Whether an intervention may be rewarded on this row (the over-asking switch)."""
    if config.reward_asking_on_informative:
        return True
    return not judged.informative(config.confidence_source, config.informative_conf_threshold)


def guessing_pays(judged: Judged, config: RewardConfig) -> bool:
    """A category answer earns its reward on informative frames, and on ambiguous ones only if configured."""
    if config.reward_guessing_on_ambiguous:
        return True
    return judged.informative(config.confidence_source, config.informative_conf_threshold)
