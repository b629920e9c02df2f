"""Intervention reward shaped by the confidence gain a base model showed for that intervention.

The train split records, per row, a base model's confidence in the ground truth (``qwen_conf`` /
``llava_conf``) and its change after each intervention (``qwen_delta`` / ``llava_delta``: [{key, value}]).
An intervention that made the answer clearer earns more than one that did not. Gains are divided by
``delta_scale`` and clipped to [-1, 1]; a missing, empty or malformed record is neutral (0).
"""

from __future__ import annotations

from typing import Any

from rewards.answers import Judged, delta_for
from rewards.config import RewardConfig
from rewards.examples import example_columns  # noqa: F401  (docstring examples)
from rewards.registry import register
from rewards.scoring import asking_pays, score_each


def _gain(judged: Judged, config: RewardConfig) -> float:
    if judged.outcome.kind != "intervention" or not asking_pays(judged, config):
        return 0.0
    delta = delta_for(judged.row.get(f"{config.confidence_source}_delta"), judged.outcome.option)
    if delta is None:
        return 0.0
    return max(-1.0, min(1.0, delta / config.delta_scale))


@register("informative_intervention", bounds=(-1.0, 1.0))
def informative_intervention(
    completions: Any, reward_config: RewardConfig | None = None, **columns: Any
) -> list[float]:
    """Rewards a valid intervention by the confidence gain it brought: ask for the view that helps most.

    >>> informative_intervention(["A", "B", "E", "C"], **example_columns(4))
    [0.4, -0.2, 0.0, 0.0]
    """
    return score_each(completions, columns, reward_config, _gain)
