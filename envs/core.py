"""One episode of a ProactiveBench scenario, as a small Gymnasium-style environment.

The official package exposes ``get_state`` / ``evaluate_generated_answer`` objects that crash on some
inputs and hold scoring, image paths and statistics in one mutable class per scenario. Here the game is
written once: a turn shows a frame, ``envs.matching.classify_turn`` judges the answer, and the episode
either ends or applies the requested intervention. Everything scenario-specific comes from the
``ScenarioSpec`` in ``envs.scenarios``.

Conventions (documented because RL code depends on them):

- ``reset() -> (obs, info)`` must be called before ``step``; it may be called again to replay.
- ``step(answer) -> (obs, reward, terminated, truncated, info)``. ``terminated`` is True on the step
  that ends the episode, whatever the reason, so ``while not terminated`` loops work. ``truncated`` is
  True on that same step only when the last answer was an accepted intervention that could not be
  carried out: the turn cap was reached (the official ``_check_max_steps``), or, in a case where the
  official code would crash, there is no next frame.
- ``reward`` is 1.0 on the step that ends the episode correct, else 0.0.
- after the episode ends ``obs`` is None and ``step`` raises RuntimeError.
- ``info["outcome"]`` is the ``TurnOutcome`` of the answer; on the last step ``info["episode"]`` holds
  the episode summary (``EpisodeSummary.as_dict()``).
- images are opened only when a frame is observed and the file is closed at once, so an episode holds at
  most the frame it returned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from envs.matching import TurnOutcome, classify_turn
from envs.scenarios import EpisodeState, ScenarioSpec, listed_interventions, requested_action

EndReason = str  # "correct" | "wrong" | "abstain" | "invalid" | "max_turns" | "no_next_frame"


@dataclass
class EpisodeSummary:
    correct: bool = False
    num_turns: int = 0
    hit_max_turns: bool = False  # official statistic: num_turns == turn cap
    end_reason: EndReason | None = None
    outcomes: list[str] = field(default_factory=list)  # TurnOutcome.kind per turn
    answers: list[str] = field(default_factory=list)
    image_ids: list[int | float] = field(default_factory=list)  # frame shown on each turn
    image_paths: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # interventions carried out, in order

    @property
    def proactive_suggestions(self) -> int:
        """The official "ps" count: every turn but the last asked for an intervention."""
        return self.num_turns - 1

    def as_dict(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["proactive_suggestions"] = self.proactive_suggestions
        return record


def validate_entry(spec: ScenarioSpec, entry: dict) -> None:
    """Reject entries the episode cannot run on, naming the entry id and the field."""
    entry_id = entry.get("id", "<no id>")
    missing = [name for name in spec.required_fields if name not in entry]
    if missing:
        raise ValueError(f"{spec.short} entry id {entry_id}: missing field(s) {', '.join(missing)}")
    for name in ("options", "categories"):
        values = entry[name]
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise ValueError(f"{spec.short} entry id {entry_id}: field {name!r} must be a list of strings")
    if entry["answer"] not in entry["categories"]:
        raise ValueError(
            f"{spec.short} entry id {entry_id}: answer {entry['answer']!r} is not one of the categories "
            f"{entry['categories']}"
        )
    state = EpisodeState(image_id=entry["first_image"])
    for reference in (False, True):
        try:
            spec.relative_image_path(entry, entry["reference_image" if reference else "first_image"], state, reference)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"{spec.short} entry id {entry_id}: image_template {entry['image_template']!r} cannot be "
                f"formatted ({error!r})"
            ) from error


class ProactiveEnv:
    """An episode over one entry. Build it with ``envs.make``."""

    def __init__(self, spec: ScenarioSpec, entry: dict, root: str, hint: bool = False, reference: bool = False):
        validate_entry(spec, entry)
        self.spec = spec
        self.entry = entry
        self.root = str(root)
        self.hint = hint
        self.reference = reference
        self.action_space = spec.action_space(entry)
        self.turn_cap = spec.turn_cap(entry)
        self._listed = listed_interventions(spec, entry)
        self._state = self._initial_state()
        self._summary = EpisodeSummary()
        self._started = False
        self._done = False

    # ---- read-only state -----------------------------------------------------------------------

    @property
    def scenario(self) -> str:
        return self.spec.short

    @property
    def answer(self) -> str:
        """The correct category."""
        return self.entry["answer"]

    @property
    def num_turns(self) -> int:
        return self._state.num_turns

    @property
    def done(self) -> bool:
        return self._done

    @property
    def image_id(self) -> int | float:
        return self.entry["reference_image"] if self.reference else self._state.image_id

    @property
    def image_path(self) -> str:
        return self.spec.image_path(self.root, self.entry, self._state, self.reference)

    @property
    def prompt(self) -> str:
        question = self.entry["prompt"]
        if self.reference and self.spec.reference_prompt is not None:
            question = self.spec.reference_prompt
        if self.spec.pre_prompt:
            question = f"{self.spec.pre_prompt} {question}"
        if self.hint:
            question = f"{question} {self.spec.hint_text(self.entry)}"
        return question

    @property
    def options(self) -> list[str]:
        """Displayed options: currently valid interventions and abstentions, then the categories."""
        if self.reference:
            return list(self.entry["categories"])
        return self._displayed_interventions(self._state) + list(self.entry["categories"])

    @property
    def summary(self) -> EpisodeSummary:
        return self._summary

    def valid_interventions(self) -> list[str]:
        """The displayed options that would be accepted as an intervention on the current turn."""
        if self.reference:
            return []
        displayed = self._displayed_interventions(self._state)
        return [option for option in self._right_interventions(self._state) if option in displayed]

    def correct_categories(self) -> list[str]:
        """Categories that end the episode correct on the current turn (empty on ROD's first turn)."""
        if not self.reference and self.spec.first_turn_needs_intervention and self._state.last_action is None:
            return []
        return [self.answer]

    def action_of(self, option: str) -> str | None:
        """The action an intervention option asks for in this scenario (None when it names none or several)."""
        return requested_action(option, self.action_space)

    def open_ended_answers(self) -> str:
        """The official open-ended list of valid answers, computed for the episode's first state."""
        initial = self._initial_state()
        return self.spec.open_ended(self.entry, self._listed_for_state(initial))

    # ---- episode -------------------------------------------------------------------------------

    def reset(self) -> tuple[dict[str, Any], dict[str, Any]]:
        self._state = self._initial_state()
        self._summary = EpisodeSummary()
        self._started = True
        self._done = False
        return self._observe(), {"outcome": None, "valid_interventions": self.valid_interventions()}

    def judge(self, answer: str) -> TurnOutcome:
        """How ``answer`` would be judged on the current turn, without playing it (``step`` plays it)."""
        outcome = classify_turn(
            answer,
            [] if self.reference else self._displayed_interventions(self._state),
            [] if self.reference else self.valid_interventions(),
            self.entry["categories"],
            self.correct_categories(),
            reference=self.reference,
        )
        if outcome.kind == "intervention" and self.action_of(outcome.option) is None:
            outcome = dataclasses.replace(outcome, kind="wrong")
        return outcome

    def step(self, answer: str) -> tuple[dict[str, Any] | None, float, bool, bool, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError(f"the {self.scenario} episode of entry id {self.entry['id']} is over; call reset()")
        state = self._state
        outcome = self.judge(answer)
        action = self.action_of(outcome.option) if outcome.kind == "intervention" else None

        summary = self._summary
        summary.outcomes.append(outcome.kind)
        summary.answers.append(answer)
        summary.image_ids.append(self.image_id)
        summary.image_paths.append(self.image_path)
        state.num_turns += 1
        summary.num_turns = state.num_turns
        summary.hit_max_turns = state.num_turns == self.turn_cap

        end_reason: EndReason | None = None
        if outcome.kind != "intervention":
            end_reason = outcome.kind
        elif summary.hit_max_turns:
            end_reason = "max_turns"
        else:
            summary.actions.append(action)
            state.last_action = action
            next_id = self.spec.transition(self.entry, state, action)
            if next_id is None or next_id not in self.spec.valid_image_ids(self.entry):
                end_reason = "no_next_frame"
            else:
                state.image_id = next_id

        info: dict[str, Any] = {"outcome": outcome, "action": action}
        if end_reason is None:
            info["valid_interventions"] = self.valid_interventions()
            return self._observe(), 0.0, False, False, info
        self._done = True
        summary.end_reason = end_reason
        summary.correct = end_reason == "correct"
        info["episode"] = summary.as_dict()
        truncated = end_reason in ("max_turns", "no_next_frame")
        return None, float(summary.correct), True, truncated, info

    # ---- internals -----------------------------------------------------------------------------

    def _initial_state(self) -> EpisodeState:
        horizontal, vertical = self.spec.initial_steps(self.entry)
        return EpisodeState(image_id=self.entry["first_image"], horizontal_step=horizontal, vertical_step=vertical)

    def _displayed_interventions(self, state: EpisodeState) -> list[str]:
        options = list(self.entry["options"])
        return self.spec.prune(options, self.entry, state) if self.spec.prune else options

    def _listed_for_state(self, state: EpisodeState) -> list[str]:
        """The official right interventions of a state (before checking they name an action)."""
        if self.reference:
            return []
        if self.spec.last_turn_category_only and state.num_turns + 1 >= self.entry["num_images"]:
            return []
        listed = list(self._listed)
        return self.spec.prune(listed, self.entry, state) if self.spec.prune else listed

    def _right_interventions(self, state: EpisodeState) -> list[str]:
        return [option for option in self._listed_for_state(state) if self.action_of(option) is not None]

    def _observe(self) -> dict[str, Any]:
        path = self.image_path
        return {"image": self._load_frame(path), "image_path": path, "prompt": self.prompt, "options": self.options}

    def _load_frame(self, path: str) -> Image.Image:
        try:
            with Image.open(path) as source:
                frame = source.convert("RGB")
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"{self.scenario} entry id {self.entry['id']}: image file {path} does not exist"
            ) from error
        if self.spec.crop_box is None or self.reference:
            return frame
        left, top, right, bottom = self.spec.crop_box(self.entry, self._state)
        # The official crop raises when the window is inverted; we keep at least an empty window.
        return frame.crop((left, top, max(left, right), max(top, bottom)))
