"""Episode rewards: what a whole ProactiveBench episode earns, turn by turn, for episode rollouts.

Row rewards judge one answer to one frozen frame; an episode reward judges what the policy did in the
environment, where every accepted intervention shows a new frame. Each component maps an episode (the
environment's ``EpisodeSummary``) to one value per turn, placed on the turn that earned it, so that

- the episode return (the sum over turns, weighted) drives the group-normalised episode advantage, and
- the per-turn values give the discounted step returns of the step-level (GiGPO-style) advantage.

Components are indicators (or per-turn counts); sign and size live in ``reward.episode_weights``, so the
logged ``rewards/<name>/mean`` reads as a rate per episode. The defaults (``rewards.config``) make the best
return "ask exactly as often as the frame needs, then answer right":

- ``episode_correct`` +1.0: the only way to score.
- ``episode_intervention`` +0.05 and ``episode_turn`` -0.1: each extra turn spent on an accepted intervention
  nets -0.05, so asking when the frame already shows the answer lowers the return, while asking on a frame
  that cannot show it is what makes the +1 reachable (a guess on an ambiguous frame earns 1 only a quarter
  of the time: 0.25 - 0.1 < 1 - 0.1 - 0.05 k for any realistic number k of needed asks). The small
  intervention credit keeps an accepted ask ahead of a wrong or wrong-direction ending, which is the only
  signal an episode gets before the policy first answers right.
- ``episode_turn_cap`` -0.5: the episode ran out of turns (or frames) while still asking; oscillating
  left/right until the cap is the failure mode this removes.
- ``episode_invalid`` -0.5: the answer matched no option (as for rows).
- ``episode_useful_intervention`` (not selected by default): ``episode_intervention`` paid only in episodes
  that ended correct, a hindsight credit for asks where asking does not help.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from envs import EpisodeSummary
from rewards.registry import register

EpisodeRewardFn = Callable[[EpisodeSummary], list[float]]
EPISODE_REWARDS: dict[str, EpisodeRewardFn] = {}
TRUNCATED_ENDS = ("max_turns", "no_next_frame")  # asked on the last turn the environment could show


def register_episode(name: str, bounds: tuple[float, float]):
    """Register an episode component (one value per turn, each within ``bounds``)."""
    return register(name, bounds, registry=EPISODE_REWARDS)


def _on_last_turn(episode: EpisodeSummary, hit: bool) -> list[float]:
    values = [0.0] * episode.num_turns
    if hit and values:
        values[-1] = 1.0
    return values


@register_episode("episode_correct", bounds=(0.0, 1.0))
def episode_correct(episode: EpisodeSummary) -> list[float]:
    """1 on the turn that answered the right category (the episode ends correct)."""
    return _on_last_turn(episode, episode.correct)


@register_episode("episode_intervention", bounds=(0.0, 1.0))
def episode_intervention(episode: EpisodeSummary) -> list[float]:
    """1 on every turn whose intervention the environment accepted and carried out (a new frame followed)."""
    values = [1.0 if kind == "intervention" else 0.0 for kind in episode.outcomes]
    if values and episode.end_reason in TRUNCATED_ENDS:
        values[-1] = 0.0  # accepted but not carried out: there was no next turn
    return values


@register_episode("episode_useful_intervention", bounds=(0.0, 1.0))
def episode_useful_intervention(episode: EpisodeSummary) -> list[float]:
    """``episode_intervention`` of an episode that ended correct, 0 on every turn of one that did not.

    An alternative to ``episode_intervention`` (select one of the two): an ask is credited in hindsight,
    when the frames it led to ended in the right answer. Where the policy cannot use what an ask shows (it
    names the object at chance even on the frame that shows it), asking then pays no more than guessing,
    so it is not learnt there, while on a scenario the policy reads every right ask still pays in full.
    """
    return episode_intervention(episode) if episode.correct else [0.0] * episode.num_turns


@register_episode("episode_turn", bounds=(1.0, 1.0))
def episode_turn(episode: EpisodeSummary) -> list[float]:
    """1 on every turn (weighted negative: the cost of a turn)."""
    return [1.0] * episode.num_turns


@register_episode("episode_turn_cap", bounds=(0.0, 1.0))
def episode_turn_cap(episode: EpisodeSummary) -> list[float]:
    """1 on the last turn when the episode ended still asking: at the turn cap, or with no next frame."""
    return _on_last_turn(episode, episode.end_reason in TRUNCATED_ENDS)


@register_episode("episode_invalid", bounds=(0.0, 1.0))
def episode_invalid(episode: EpisodeSummary) -> list[float]:
    """1 on the last turn when the answer selected no option."""
    return _on_last_turn(episode, episode.end_reason == "invalid")


def episode_reward_setup(cfg: Any) -> tuple[list[str], list[float]]:
    """The selected episode components and their weights from the ``reward`` config, validated."""
    components = _get(cfg, "episode_components")
    weights = _get(cfg, "episode_weights")
    valid = sorted(EPISODE_REWARDS)
    if isinstance(components, str) or not isinstance(components, Sequence) or not components:
        raise ValueError(f"reward.episode_components must be a non-empty list of component names; valid: {valid}")
    unknown = [name for name in components if name not in EPISODE_REWARDS]
    if unknown:
        raise ValueError(f"reward.episode_components: unknown episode reward component(s) {unknown}; valid: {valid}")
    if len(set(components)) != len(components):
        raise ValueError(f"reward.episode_components lists a component more than once: {list(components)}")
    if not isinstance(weights, Mapping):
        raise ValueError("reward.episode_weights must map episode component names to floats")
    chosen = []
    for name in components:
        weight = weights.get(name)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise ValueError(f"reward.episode_weights.{name} must be a finite number, got {weight!r}")
        chosen.append(float(weight))
    return list(components), chosen


def _get(cfg: Any, key: str) -> Any:
    return cfg[key] if isinstance(cfg, Mapping) else getattr(cfg, key)


def episode_rewards(
    episode: EpisodeSummary, components: Sequence[str], weights: Sequence[float]
) -> tuple[list[float], dict[str, float]]:
    """(weighted reward per turn, unweighted episode total per component) of one finished episode."""
    per_turn = [0.0] * episode.num_turns
    totals: dict[str, float] = {}
    for name, weight in zip(components, weights, strict=True):
        values = EPISODE_REWARDS[name](episode)
        if len(values) != episode.num_turns:
            raise RuntimeError(f"episode reward {name} gave {len(values)} values for {episode.num_turns} turns")
        totals[name] = sum(values)
        per_turn = [total + weight * value for total, value in zip(per_turn, values, strict=True)]
    return per_turn, totals
