"""Part-way episode starts: an exploration aid for episode rollouts (``trainer.episode_partway``).

An episode pays its +1 only when the policy answers right, and on most first frames that needs several
accepted interventions in a row (3 to 4.4 on the synthetic benchmark). A base that rarely asks twice in a
row never samples those paths, so group-normalised returns teach it to stop asking (docs/episode_training.md).
Starting some episodes further along the environment's own path brings the paying answer within one or
two asks: an episode starts after ``k`` *right* interventions (the first right option of each state, the
moves the environment carries out), ``k`` drawn uniformly from 1 to the number of right moves the entry
offers, the last of which leaves the policy on the final frame with nothing left to ask for. This is a
reverse curriculum (Florensa et al. 2017): states near the goal first, so that the value of asking reaches
the states far from it.

The skipped turns are not the policy's: they are not in the episode's summary (rewards, turn counts and
logs cover the policy's own turns only), and in history mode the first prompt shows the frame reached,
with no earlier turns. The turn cap still counts them, as the environment does. Evaluation never starts
part-way: ``proactive-rl eval`` plays every episode from its first frame.

Every episode of one GRPO group starts at the same point (group-normalised advantages compare episodes of
one start), drawn from ``(seed, step, group)`` alone, so processes agree without talking.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from envs import EpisodeSummary


def right_moves(env: Any) -> list[str]:
    """The right interventions a fresh replay of ``env`` can carry out in a row, first option each time.

    Stops before a move that would end the episode (the turn cap, or no next frame), so replaying any
    prefix of the returned list leaves the episode running. Resets ``env`` (call before the episode).
    """
    env.reset()
    moves: list[str] = []
    while env.num_turns + 1 < env.turn_cap:
        valid = env.valid_interventions()
        if not valid:
            break
        _, _, terminated, _, _ = env.step(valid[0])
        if terminated:
            break
        moves.append(valid[0])
    return moves


def partway_fraction(seed: int, step: int, group: int, share: float) -> float:
    """Where along its path a group starts: 0 (first frame) with probability ``1 - share``, else in (0, 1].

    A function of its arguments only (string-seeded ``random.Random``, independent of ``PYTHONHASHSEED``).
    """
    if share <= 0.0:
        return 0.0
    draw = random.Random(f"partway:{seed}:{step}:{group}")
    if draw.random() >= share:
        return 0.0
    return 1.0 - draw.random()  # (0, 1]


def skipped_moves(fraction: float, available: int) -> int:
    """How many of ``available`` right moves a start at ``fraction`` skips: uniform over 1..available."""
    if fraction <= 0.0 or available == 0:
        return 0
    return min(available, 1 + int(fraction * available))


class PartwayEnv:
    """An environment whose ``reset`` carries out ``k`` right moves first; the policy plays from there.

    Everything else is the wrapped environment's (attributes are delegated), except ``summary``, which
    leaves out the skipped turns.
    """

    def __init__(self, env: Any, fraction: float, moves: list[str] | None = None) -> None:
        """``moves``: ``right_moves`` of this entry under this turn cap, when already known (else replayed here)."""
        moves = right_moves(env) if moves is None else moves
        object.__setattr__(self, "_env", env)
        object.__setattr__(self, "_moves", moves[: skipped_moves(fraction, len(moves))])

    @property
    def skipped(self) -> int:
        return len(self._moves)

    def reset(self) -> tuple[dict[str, Any], dict[str, Any]]:
        observation, info = self._env.reset()
        for move in self._moves:
            observation, _, terminated, _, info = self._env.step(move)
            if terminated:  # right_moves stops before any ending move; a replay must match it
                raise RuntimeError(
                    f"{self._env.scenario} entry {self._env.entry['id']}: a skipped move ended the episode"
                )
        return observation, info

    @property
    def summary(self) -> EpisodeSummary:
        full, skip = self._env.summary, self.skipped
        return dataclasses.replace(
            full,
            num_turns=full.num_turns - skip,
            outcomes=full.outcomes[skip:],
            answers=full.answers[skip:],
            image_ids=full.image_ids[skip:],
            image_paths=full.image_paths[skip:],
            actions=full.actions[skip:],
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._env, name, value)
