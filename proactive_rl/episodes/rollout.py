"""Sampled episodes for training, played by the evaluation's episode engine, with every turn recorded.

Training and evaluation play the benchmark through one loop, ``proactive_rl.evaluation.play_episodes`` (a
pool of live episodes, one batched ``generate`` per turn). The engine only talks to a ``Policy``; the
``RecordingPolicy`` here is the evaluation's ``HFPolicy`` that also keeps, for every turn it answers, the
conversation it was shown (messages and images), the sampled answer tokens (up to and including the first
end-of-sequence token, as TRL's completions) and their log-probabilities under the sampling temperature.
The environments are built here, so after the loop each episode's ``EpisodeSummary`` is read from its own
environment: with a deterministic policy the outcomes are those ``proactive-rl eval`` records.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import envs
from envs import EpisodeSummary
from proactive_rl.episodes.curriculum import PartwayEnv, right_moves
from proactive_rl.evaluation.engine import EpisodeJob, play_episodes
from proactive_rl.evaluation.policy import Conversation, HFPolicy, InputRejected


@dataclass(frozen=True, eq=False)
class EpisodeStart(EpisodeJob):
    """An episode to sample: a benchmark entry, the folder its images live in, and its slot in the batch."""

    root: str = ""
    index: int = 0
    partway: float = 0.0  # > 0: start after right moves (``curriculum``; training only)


@dataclass
class Turn:
    """One turn as a training sample: what the policy was shown and what it answered."""

    conversation: Conversation  # messages + images shown (``env`` dropped)
    prompt_text: str  # the chat-templated prompt the processor encoded
    completion_ids: list[int]
    logprobs: list[float]  # of each completion token at sampling, log_softmax(logits / temperature)
    answer: str  # the decoded answer the environment judged
    state: tuple  # (frame path, displayed options): turns from one entry with the same state are comparable


@dataclass
class EpisodeRollout:
    start: EpisodeStart
    turns: list[Turn] = field(default_factory=list)
    summary: EpisodeSummary | None = None  # None when the episode failed (see ``error``)
    error: str | None = None
    skipped: int = 0  # right moves carried out before the policy's first turn (part-way starts)


class RecordingPolicy(HFPolicy):
    """``HFPolicy`` that records every turn it answers (see the module docstring)."""

    def __init__(self, *args: Any, eos_token_ids: Sequence[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.eos_token_ids = set(eos_token_ids) or {self.tokenizer.eos_token_id}
        self.turns: dict[int, list[Turn]] = {}  # id(env) -> turns, in order
        self.generated_tokens = 0
        self._sampled: list[tuple[list[int], list[float]]] = []

    def generation_overrides(self) -> dict[str, Any]:
        # Raw logits, so the recorded log-probabilities are those the training forward pass computes (TRL
        # scores completions under log_softmax(logits / temperature), without top-k/top-p filtering).
        return {"return_dict_in_generate": True, "output_logits": True}

    def on_generated(self, inputs: Any, output: Any) -> Any:
        import torch

        sequences = output.sequences
        answer = sequences[:, inputs["input_ids"].shape[1] :]
        logits = torch.stack(output.logits, dim=1).float() / self.temperature
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, answer.unsqueeze(-1)).squeeze(-1)
        self._sampled = []
        for ids, values in zip(answer.tolist(), logprobs.tolist(), strict=True):
            end = next((i + 1 for i, token in enumerate(ids) if token in self.eos_token_ids), len(ids))
            self._sampled.append((ids[:end], values[:end]))
            self.generated_tokens += end
        return sequences

    def generate(self, conversations: Sequence[Conversation]) -> list[Any]:
        self._sampled = []
        replies = super().generate(conversations)
        sampled = iter(self._sampled)
        for conversation, reply in zip(conversations, replies, strict=True):
            if isinstance(reply, InputRejected):
                continue
            ids, logprobs = next(sampled)
            observation = conversation.observation
            self.turns.setdefault(id(conversation.env), []).append(
                Turn(
                    conversation=dataclasses.replace(conversation, env=None),
                    prompt_text=self._chat_text(conversation),
                    completion_ids=ids,
                    logprobs=logprobs,
                    answer=reply,
                    state=(observation.get("image_path"), tuple(observation["options"])),
                )
            )
        return replies


def play_rollouts(
    policy: RecordingPolicy,
    starts: Sequence[EpisodeStart],
    batch_size: int,
    history: bool = False,
    max_turns: int | None = None,
) -> list[EpisodeRollout]:
    """Play every start once with ``policy`` (all in flight together up to ``batch_size``); one rollout per start.

    ``max_turns`` lowers the environment's own turn cap (never raises it).
    """
    environments: dict[int, Any] = {}
    paths: dict[tuple, list[str]] = {}

    def make_env(start: EpisodeStart) -> Any:
        env = envs.make(start.scenario, start.entry, start.root)
        if max_turns is not None:
            env.turn_cap = min(env.turn_cap, max_turns)
        if start.partway > 0.0:  # the G copies of a start share one replay of its right moves
            key = (start.scenario, start.id, start.root, env.turn_cap)
            if key not in paths:
                paths[key] = right_moves(env)
            env = PartwayEnv(env, start.partway, paths[key])
        environments[start.index] = env
        return env

    policy.turns = {}
    errors = {}
    for record in play_episodes(policy, starts, make_env, batch_size, history=history):
        if record["error"]:
            errors[(record["scenario"], str(record["id"]))] = record["error"]
    rollouts = []
    for start in starts:
        env = environments.get(start.index)
        rollout = EpisodeRollout(
            start, turns=policy.turns.get(id(env), []) if env is not None else [], skipped=getattr(env, "skipped", 0)
        )
        if env is not None and env.done:
            rollout.summary = env.summary
        else:
            rollout.error = errors.get((start.scenario, start.id), "episode did not finish")
        rollouts.append(rollout)
    return rollouts


def load_episode_starts(root: str | Path, scenarios: Sequence[str]):
    """Episode starts (a ``datasets.Dataset``: scenario, entry as JSON, root) from an official-format folder.

    ``root`` holds ``<official name>_preprocessed.jsonl`` files and their images, as the test split does;
    every entry is kept (no test filter). The ``scenario`` column lets ``rebalance_scenarios`` reweight them.
    """
    from datasets import Dataset

    root = Path(root)
    rows: dict[str, list] = {"scenario": [], "entry": [], "root": []}
    for scenario in scenarios:
        short = envs.canonical_scenario(scenario)
        entries = envs.load_entries(short, root, filter=False)
        rows["scenario"] += [short] * len(entries)
        rows["entry"] += [json.dumps(entry) for entry in entries]
        rows["root"] += [str(root)] * len(entries)
    if not rows["entry"]:
        raise ValueError(f"no episode starts in {root} for scenarios {list(scenarios)}")
    return Dataset.from_dict(rows)


def starts_from_rows(rows: Sequence[dict], first_index: int = 0) -> list[EpisodeStart]:
    """Rows of ``load_episode_starts`` (as TRL's dataloader hands them over) -> episode starts."""
    return [
        EpisodeStart(row["scenario"], json.loads(row["entry"]), root=row["root"], index=first_index + offset)
        for offset, row in enumerate(rows)
    ]
