"""Penalty hook for the over-asking failure mode: asking although the frame already answers the question.

A policy rewarded for asking can learn to ask always; in the environment that wastes turns (and on
MVP-N/IN-C/QD the last turn only accepts a category). This indicator marks an intervention request
(valid or not) on an informative frame; give it a negative weight. A frame is informative when its ``state``
says so, else when the row has no valid proactive action, else (optionally) when the base model's
confidence reaches ``informative_conf_threshold``.
"""

from __future__ import annotations

from typing import Any

from rewards.answers import Judged
from rewards.config import RewardConfig
from rewards.examples import example_columns  # noqa: F401  (docstring examples)
from rewards.registry import register
from rewards.scoring import score_each


def _over_asked(judged: Judged, config: RewardConfig) -> bool:
    return judged.asked and judged.informative(config.confidence_source, config.informative_conf_threshold)


@register("over_asking", bounds=(0.0, 1.0))
def over_asking(completions: Any, reward_config: RewardConfig | None = None, **columns: Any) -> list[float]:
    """Marks asking for an intervention on an informative frame, so the default weight can penalise it.

    >>> over_asking(["A", "Move left.", "E", "C"], **example_columns(4, state="informative", proactive_actions=[]))
    [1.0, 1.0, 0.0, 0.0]
    """
    return score_each(completions, columns, reward_config, _over_asked)
