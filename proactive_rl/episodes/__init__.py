"""Episode GRPO: sample whole ProactiveBench episodes, train on every turn (see docs/episode_training.md).

``rollout`` plays sampled episodes through the evaluation's engine and records each turn; ``credit`` turns
episode and step returns into per-turn advantages; ``trainer`` feeds the turns to TRL's GRPOTrainer.
"""

from proactive_rl.episodes.credit import CREDIT_MODES, ScoredEpisode, discounted_returns, turn_advantages
from proactive_rl.episodes.rollout import (
    EpisodeRollout,
    EpisodeStart,
    RecordingPolicy,
    Turn,
    load_episode_starts,
    play_rollouts,
    starts_from_rows,
)
from proactive_rl.episodes.trainer import (
    ROLLOUT_MODES,
    TRL_TESTED,
    EpisodeComponent,
    EpisodeSettings,
    check_episode_config,
    episode_settings,
    episode_trainer_class,
)

__all__ = [
    "CREDIT_MODES",
    "ROLLOUT_MODES",
    "TRL_TESTED",
    "EpisodeComponent",
    "EpisodeRollout",
    "EpisodeSettings",
    "EpisodeStart",
    "RecordingPolicy",
    "ScoredEpisode",
    "Turn",
    "check_episode_config",
    "discounted_returns",
    "episode_settings",
    "episode_trainer_class",
    "load_episode_starts",
    "play_rollouts",
    "starts_from_rows",
    "turn_advantages",
]
