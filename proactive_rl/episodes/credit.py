"""Credit assignment for episode rollouts: one advantage per turn, from episode returns and step groups.

Two modes (``trainer.credit``):

- ``episode``: GRPO over episodes. The return of an episode (its weighted rewards summed over turns) is
  normalised within its group, the G episodes sampled from one start entry, and that advantage is given
  to every turn of the episode.
- ``gigpo`` (default): the episode advantage plus ``trainer.step_advantage_weight`` times a step-level
  advantage in the spirit of GiGPO (Feng et al. 2025, verl-agent's ``compute_gigpo_outcome_advantage``).
  Our frames are deterministic, so turns of one group that saw the same state (same frame, same displayed
  options) are *anchor states* reached by different episodes; their discounted returns from that turn on
  (``trainer.step_discount``) are normalised within that step group. A step group of one turn carries no
  comparison and gets 0. This tells apart, say, "move left" and "move right" from the same frame even when
  both episodes of the group end with the same return.
- ``step``: the step-level advantage alone (no episode term). With ``trainer.step_discount=0`` each turn is
  judged by its own reward against the other turns taken from the same state: row GRPO on the states the
  policy visits, where the environment (not a frozen row) supplies each next frame.

Normalisation follows ``trainer.scale_rewards`` as TRL's row advantages do: ``group`` divides by the
group's standard deviation (unbiased, as TRL's), ``batch`` by the whole batch's, ``none`` only centres.
Episodes that failed (an unreadable frame, an input the processor rejected) have no return: they take no
part in any group and their turns get advantage 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

CREDIT_MODES = ("episode", "gigpo", "step")
SCALE_MODES = ("group", "batch", "none")
EPS = 1e-4  # as TRL's advantage normalisation


@dataclass(frozen=True)
class ScoredEpisode:
    """What credit assignment needs of one episode."""

    group: Hashable  # the GRPO group: the start entry's slot in the generation batch
    turn_rewards: Sequence[float] | None  # weighted reward earned on each turn; None for a failed episode
    states: Sequence[Hashable]  # one key per turn: the state the turn was taken from


def discounted_returns(rewards: Sequence[float], discount: float) -> list[float]:
    """G_t = r_t + discount * G_{t+1}, for every turn t."""
    returns = [0.0] * len(rewards)
    running = 0.0
    for index in range(len(rewards) - 1, -1, -1):
        running = rewards[index] + discount * running
        returns[index] = running
    return returns


def _std(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))


def _normalised(values: dict[Hashable, list[float]], scale: str, batch_std: float) -> dict[Hashable, list[float]]:
    out = {}
    for key, members in values.items():
        mean = sum(members) / len(members)
        if scale == "none":
            out[key] = [value - mean for value in members]
            continue
        std = _std(members) if scale == "group" else batch_std
        out[key] = [(value - mean) / (std + EPS) for value in members]
    return out


def turn_advantages(
    episodes: Sequence[ScoredEpisode],
    credit: str = "gigpo",
    scale: str = "group",
    step_weight: float = 1.0,
    discount: float = 0.95,
) -> list[list[float]]:
    """One advantage per turn of every episode (a list per episode, in the order given)."""
    if credit not in CREDIT_MODES:
        raise ValueError(f"trainer.credit={credit!r}: expected one of {list(CREDIT_MODES)}")
    if scale not in SCALE_MODES:
        raise ValueError(f"trainer.scale_rewards={scale!r}: expected one of {list(SCALE_MODES)}")
    scored = [index for index, episode in enumerate(episodes) if episode.turn_rewards is not None]
    for index in scored:
        episode = episodes[index]
        if len(episode.turn_rewards) != len(episode.states):
            raise ValueError(
                f"episode {index}: {len(episode.turn_rewards)} turn rewards for {len(episode.states)} states"
            )
    advantages = [[0.0] * len(episode.states) for episode in episodes]

    returns = {index: sum(episodes[index].turn_rewards) for index in scored}
    by_group: dict[Hashable, list[int]] = defaultdict(list)
    for index in scored:
        by_group[episodes[index].group].append(index)
    batch_std = _std(list(returns.values()))
    normalised = _normalised(
        {group: [returns[i] for i in members] for group, members in by_group.items()}, scale, batch_std
    )
    if credit != "step":
        for group, members in by_group.items():
            for index, value in zip(members, normalised[group], strict=True):
                advantages[index] = [value] * len(episodes[index].states)

    if credit in ("gigpo", "step") and step_weight != 0.0:
        steps: dict[Hashable, list[tuple[int, int]]] = defaultdict(list)
        step_values: dict[Hashable, list[float]] = defaultdict(list)
        for index in scored:
            episode = episodes[index]
            for turn, value in enumerate(discounted_returns(episode.turn_rewards, discount)):
                key = (episode.group, episode.states[turn])
                steps[key].append((index, turn))
                step_values[key].append(value)
        all_steps = [value for members in step_values.values() for value in members]
        normalised_steps = _normalised(step_values, scale, _std(all_steps))
        for key, members in steps.items():
            if len(members) < 2:
                continue
            for (index, turn), value in zip(members, normalised_steps[key], strict=True):
                advantages[index][turn] += step_weight * value
    return advantages
