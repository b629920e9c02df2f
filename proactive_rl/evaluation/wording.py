"""The reading diagnostic (``eval.wording=paraphrased``): the test episodes with unseen intervention wording.

A policy that reads the options in front of it keeps its accuracy when every intervention option says the
same thing in other words; one that recites strings memorised in training loses it (the "Fake" diagnostic of
Lin et al. 2025, arXiv 2510.00237). ``ParaphrasedEnv`` wraps an environment without touching its rules: the
observation shows each intervention option in its ``proactive_rl.diversity.EVAL_PARAPHRASES`` wording, never
seen in training, in the same place (so its letter is unchanged), and an answer naming the paraphrase is handed
to the environment as the official option text. The official text of a replaced option is no longer displayed,
so it selects nothing (an invalid answer), exactly as any other string that is not an option would.
"""

from __future__ import annotations

from typing import Any

from envs.matching import standardize_text
from proactive_rl.diversity import EVAL_PARAPHRASES

WORDINGS = ("official", "paraphrased")  # eval.wording
UNLISTED = "##"  # matches no option text and no option letter: what a hidden official text becomes


class ParaphrasedEnv:
    """An environment whose displayed intervention options are paraphrased (rules, images, episodes unchanged)."""

    def __init__(self, env: Any, paraphrases: dict[str, str] | None = None) -> None:
        self.env = env
        self.paraphrases = EVAL_PARAPHRASES if paraphrases is None else paraphrases
        self._to_official: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        if name == "env":  # not set yet (copy.deepcopy builds the object without __init__)
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, *args: Any, **kwargs: Any) -> tuple[dict, dict]:
        observation, info = self.env.reset(*args, **kwargs)
        return self._shown(observation), info

    def step(self, answer: str) -> tuple[dict | None, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(self.official_answer(answer))
        return (self._shown(observation) if observation is not None else None), reward, terminated, truncated, info

    def official_answer(self, answer: str) -> str:
        """What the environment is asked: the official text for a displayed paraphrase, nothing for a hidden
        official text, the answer itself otherwise (letters and categories mean the same in both wordings)."""
        return self._to_official.get(standardize_text(answer), answer)

    def _shown(self, observation: dict) -> dict:
        options = list(observation["options"])
        shown = [self.paraphrases.get(option, option) for option in options]
        self._to_official = {standardize_text(option): UNLISTED for option in options if option in self.paraphrases}
        self._to_official |= {
            standardize_text(text): option for option, text in zip(options, shown, strict=True) if text != option
        }
        return {**observation, "options": shown}
