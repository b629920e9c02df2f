"""The episode engine: many episodes in flight, one batched ``generate`` per turn over all of them.

Shared by evaluation (MCQA, OEG's single turn) and anything else that plays the benchmark with a policy.

The official loop plays one episode at a time (build the conversation, generate, evaluate, repeat until
the environment stops). Here a pool of ``batch_size`` live episodes advances together: each round asks
the policy once for every live episode's next answer, steps every environment with its answer, records
episodes that ended and refills their slots from the queue, which runs across scenarios so the batch stays
full to the end. Each episode sees exactly the conversation the sequential loop would build, so with a
deterministic policy the per-episode outcomes are the same as one at a time (a test checks this).

An episode whose image cannot be loaded, or whose input the policy rejects, is recorded with ``error`` set
and excluded from scoring; the run continues.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from proactive_rl.evaluation.policy import Conversation, InputRejected, Policy
from proactive_rl.prompting import format_mcqa, user_message

# Errors that mean "this episode's data is unusable" (missing or corrupted image file); anything else is a bug.
EPISODE_DATA_ERRORS: tuple[type[Exception], ...] = (OSError, SyntaxError, ValueError)
MAX_TURNS_GUARD = 200  # an environment that never ends is a bug; stop the episode rather than hang


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to play: a benchmark entry of a scenario."""

    scenario: str
    entry: dict

    @property
    def id(self) -> str:
        return str(self.entry["id"])


@dataclass
class _LiveEpisode:
    job: EpisodeJob
    env: Any
    observation: dict
    messages: list[dict] = field(default_factory=list)  # earlier turns (history mode only)
    images: list[Any] = field(default_factory=list)
    turns: list[dict] = field(default_factory=list)

    def conversation(self, history: bool) -> Conversation:
        text = format_mcqa(self.observation["prompt"], self.observation["options"])
        image = self.observation["image"]
        current = user_message(text, num_images=1)
        if history:
            return Conversation([*self.messages, current], [*self.images, image], self.observation, self.env)
        return Conversation([current], [image], self.observation, self.env)

    def remember(self, conversation: Conversation, answer: str) -> None:
        self.messages = [*conversation.messages, {"role": "assistant", "content": [{"type": "text", "text": answer}]}]
        self.images = list(conversation.images)


def load_image(observation: dict) -> None:
    """Force decoding now so a truncated file fails here, inside the episode's error handling."""
    image = observation.get("image")
    if image is None:
        raise OSError(f"no image in the observation (path {observation.get('image_path')!r})")
    if hasattr(image, "load"):
        image.load()


def error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def episode_record(job: EpisodeJob, turns: list[dict], info: dict | None, error: str | None) -> dict:
    """The JSONL line of a finished (or failed) episode."""
    episode = (info or {}).get("episode") or {}
    num_turns = len(turns)
    return {
        "id": job.entry["id"],
        "scenario": job.scenario,
        "kinds": [turn["kind"] for turn in turns],
        "answers": [turn["answer"] for turn in turns],
        "options": [turn["option"] for turn in turns],
        "correct": bool(episode.get("correct", False)) if error is None else False,
        "num_turns": int(episode.get("num_turns", num_turns)) if error is None else num_turns,
        "hit_max_turns": bool(episode.get("hit_max_turns", False)),
        "error": error,
    }


def play_episodes(
    policy: Policy,
    jobs: Iterable[EpisodeJob],
    make_env: Callable[[EpisodeJob], Any],
    batch_size: int,
    history: bool = False,
) -> Iterator[dict]:
    """Play ``jobs`` with up to ``batch_size`` episodes in flight; yield each record as its episode ends."""
    queue = deque(jobs)
    live: list[_LiveEpisode] = []
    while queue or live:
        while queue and len(live) < batch_size:
            job = queue.popleft()
            try:
                env = make_env(job)
                observation, _ = env.reset()
                load_image(observation)
            except EPISODE_DATA_ERRORS as error:
                yield episode_record(job, [], None, f"reset failed: {error_text(error)}")
                continue
            live.append(_LiveEpisode(job, env, observation))
        if not live:
            continue

        conversations = [episode.conversation(history) for episode in live]
        replies = policy.generate(conversations)
        if len(replies) != len(conversations):
            raise RuntimeError(f"policy returned {len(replies)} replies for {len(conversations)} conversations")

        still_live: list[_LiveEpisode] = []
        for episode, conversation, reply in zip(live, conversations, replies, strict=True):
            if isinstance(reply, InputRejected):
                yield episode_record(episode.job, episode.turns, None, reply.reason)
                continue
            try:
                observation, _, terminated, truncated, info = episode.env.step(reply)
            except EPISODE_DATA_ERRORS as error:
                yield episode_record(episode.job, episode.turns, None, f"step failed: {error_text(error)}")
                continue
            outcome = info["outcome"]
            episode.turns.append({"answer": reply, "kind": outcome.kind, "option": outcome.option})
            if terminated or truncated:
                yield episode_record(episode.job, episode.turns, info, None)
                continue
            if len(episode.turns) >= MAX_TURNS_GUARD:
                yield episode_record(episode.job, episode.turns, None, f"no end after {MAX_TURNS_GUARD} turns")
                continue
            try:
                load_image(observation)
            except EPISODE_DATA_ERRORS as error:
                yield episode_record(episode.job, episode.turns, None, f"image failed: {error_text(error)}")
                continue
            if history:
                episode.remember(conversation, reply)
            episode.observation = observation
            still_live.append(episode)
        live = still_live
