"""Schema of the ``reward`` config group.

The selected components are a *list* and their weights a separate *dict* on purpose: OmegaConf merges a
dict from a group file into the schema's default dict key by key (a union), so a dict of selected
components could never be narrowed by ``conf/reward/accuracy_only.yaml``; a list is replaced whole. A
weight for a component that is not selected is simply unused (but must still name a registered one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_COMPONENTS = [
    "correct_category",
    "valid_intervention",
    "informative_intervention",
    "abstain",
    "invalid",
    "over_asking",
]

# Episode rewards (rollout=episode; rewards/episode.py): summed over an episode's turns, see docs/episode_training.md.
DEFAULT_EPISODE_COMPONENTS = [
    "episode_correct",
    "episode_intervention",
    "episode_turn",
    "episode_turn_cap",
    "episode_invalid",
]
DEFAULT_EPISODE_WEIGHTS = {
    "episode_correct": 1.0,
    "episode_intervention": 0.05,
    "episode_turn": -0.1,
    "episode_turn_cap": -0.5,
    "episode_invalid": -0.5,
}

DEFAULT_WEIGHTS = {
    "correct_category": 1.0,
    "valid_intervention": 0.5,
    "informative_intervention": 0.2,
    "abstain": -0.1,
    "invalid": -0.5,
    "over_asking": -0.25,
}


@dataclass
class RewardConfig:
    # reward components to build, in this order (names from rewards.REWARDS); each is logged on its own
    components: list[str] = field(default_factory=lambda: list(DEFAULT_COMPONENTS))
    # weight of each component in the GRPO reward (TRL reward_weights); negative weights are penalties
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # whose confidence columns to read: "qwen" (qwen_conf, qwen_delta) or "llava" (llava_conf, llava_delta)
    confidence_source: str = "qwen"
    # confidence gain that earns the full informative_intervention bonus (gains are divided by it, then clipped)
    delta_scale: float = 1.0
    # over-asking switch: when false, asking on an informative frame earns nothing from the intervention rewards
    reward_asking_on_informative: bool = False
    # pay correct_category on ambiguous frames too; false: a right guess on a frame that cannot show the answer
    # earns nothing (it is luck, and rewarding it teaches hallucinating answers from uninformative images)
    reward_guessing_on_ambiguous: bool = True
    # when a row has no usable `state`, a base confidence at or above this marks the frame informative (null: off)
    informative_conf_threshold: float | None = None
    # episode rollouts (trainer.rollout=episode): the per-turn components to sum into an episode's return, and
    # their weights (names from rewards.EPISODE_REWARDS)
    episode_components: list[str] = field(default_factory=lambda: list(DEFAULT_EPISODE_COMPONENTS))
    episode_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EPISODE_WEIGHTS))
