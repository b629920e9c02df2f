"""Tailored GRPO rewards for ProactiveBench: plain TRL reward functions, one registry, built from config.

``build(cfg) -> (functions, weights)`` gives ``GRPOTrainer(reward_funcs=functions)`` and
``GRPOConfig(reward_weights=weights)``; every function is logged by TRL under its own name. Importing the
package registers the components (``rewards.REWARDS``).
"""

from rewards.answers import Question, classify, completion_text, make_question, split_options
from rewards.asking import over_asking
from rewards.confidence import informative_intervention
from rewards.config import DEFAULT_COMPONENTS, DEFAULT_WEIGHTS, RewardConfig
from rewards.episode import EPISODE_REWARDS, episode_reward_setup, episode_rewards
from rewards.outcome import abstain, correct_category, invalid, valid_intervention
from rewards.registry import REWARDS, RewardFunction, as_reward_config, build, register, total_bounds, total_reward

__all__ = [
    "DEFAULT_COMPONENTS",
    "DEFAULT_WEIGHTS",
    "EPISODE_REWARDS",
    "REWARDS",
    "Question",
    "RewardConfig",
    "RewardFunction",
    "abstain",
    "as_reward_config",
    "build",
    "classify",
    "completion_text",
    "correct_category",
    "episode_reward_setup",
    "episode_rewards",
    "informative_intervention",
    "invalid",
    "make_question",
    "over_asking",
    "register",
    "split_options",
    "total_bounds",
    "total_reward",
    "valid_intervention",
]
