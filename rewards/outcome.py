"""Indicator rewards, one per way the environment can judge a turn.

Each returns 1.0 when the completion ends the turn that way and 0.0 otherwise; the sign and size live in
the weight (``reward.weights``), so TRL's logged ``rewards/<name>/mean`` reads directly as the rate of that
behaviour in the batch.
"""

from __future__ import annotations

from typing import Any

from rewards.config import RewardConfig
from rewards.examples import example_columns  # noqa: F401  (docstring examples)
from rewards.registry import register
from rewards.scoring import asking_pays, guessing_pays, score_each


@register("correct_category", bounds=(0.0, 1.0))
def correct_category(completions: Any, reward_config: RewardConfig | None = None, **columns: Any) -> list[float]:
    """Rewards selecting the ground-truth category: the only way an episode ends correct.

    >>> correct_category(["E", "dog", "D. cat", "A B C D E"], **example_columns(4))
    [1.0, 1.0, 0.0, 0.0]
    """

    def score(judged, config):
        return judged.outcome.kind == "correct" and guessing_pays(judged, config)

    return score_each(completions, columns, reward_config, score)


@register("valid_intervention", bounds=(0.0, 1.0))
def valid_intervention(completions: Any, reward_config: RewardConfig | None = None, **columns: Any) -> list[float]:
    """Rewards asking for one of the row's valid interventions on a frame that needs one: the proactive act.

    >>> valid_intervention(["B", "Move left.", "C", "E"], **example_columns(4))
    [1.0, 1.0, 0.0, 0.0]
    """

    def score(judged, config):
        return judged.outcome.kind == "intervention" and asking_pays(judged, config)

    return score_each(completions, columns, reward_config, score)


@register("abstain", bounds=(0.0, 1.0))
def abstain(completions: Any, reward_config: RewardConfig | None = None, **columns: Any) -> list[float]:
    """Marks selecting the abstain option: it ends the episode wrong, and is what unproactive models do.

    >>> abstain(["C", "I cannot tell.", "A"], **example_columns(3))
    [1.0, 1.0, 0.0]
    """
    return score_each(completions, columns, reward_config, lambda judged, _: judged.outcome.kind == "abstain")


@register("invalid", bounds=(0.0, 1.0))
def invalid(completions: Any, reward_config: RewardConfig | None = None, **columns: Any) -> list[float]:
    """Marks answers that select no option (format failure): the environment ends the episode wrong.

    >>> invalid(["It is a dog.", "", "E"], **example_columns(3))
    [1.0, 1.0, 0.0]
    """
    return score_each(completions, columns, reward_config, lambda judged, _: judged.outcome.kind == "invalid")
