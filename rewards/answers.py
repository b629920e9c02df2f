"""Read one GRPO batch: completion text, the row's question, and how the official matcher judges the answer.

Rewards must never grant more than the environment would, so answers are judged by the one shared matcher
(``envs.matching``), with the official rules, and the displayed options are split into interventions and
categories by the one shared splitter (``envs.options.split_options``: a ``categories`` column when present,
else the last four options, whatever order the interventions and the abstain option came in).

A train row only carries what the turn displayed (``options``), the valid ``proactive_actions`` and the
``ground_truth`` category. Two columns say what the display cannot: ``state`` (informative / partial /
ambiguous) and ``categories_scored``: false on a turn where the environment scores every category wrong
(ROD's first turn), so no category is correct there. A row without ``categories_scored`` is taken to score
its ground truth, which is what the environment does on every turn but ROD's first.

A row whose options are not a non-empty list of strings, that cannot be split, or whose ground truth matches
no category, is *unscorable*: every component gives it 0, so a data bug yields no learning signal instead of
a wrong one.

Every column is read defensively (None, wrong types, NaN, junk in delta lists): the policy and the data may
emit anything, a reward function must not raise.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from envs.matching import (
    Judgement,
    TurnOutcome,
    decide,
    is_abstain_option,
    letter,
    standardize_letter,
    standardize_text,
)
from envs.options import OptionSplitError, find_option, is_listed, loose_key, split_options

STATES = ("ambiguous", "partial", "informative")  # partial: the object is partly visible (not informative)
CACHED_ANSWER_CHARS = 2048  # longer answers are judged every time instead of filling the cache


def _is_sequence(value: Any) -> bool:
    """A list-like column or message list (the common list/tuple first: ABC checks are slow)."""
    if type(value) in (list, tuple):
        return True
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def completion_text(completion: Any) -> str:
    """The answer text of a completion given as a string or as chat messages (content str or text parts)."""
    if type(completion) is str:
        return completion
    if type(completion) is list and len(completion) == 1 and type(completion[0]) is dict:
        if completion[0].get("role") == "assistant" and type(completion[0].get("content")) is str:
            return completion[0]["content"]
    if isinstance(completion, str):
        return str(completion)
    if isinstance(completion, Mapping):
        return _content_text(completion.get("content"))
    if _is_sequence(completion) and completion:
        messages = [m for m in completion if isinstance(m, Mapping)]
        assistant = [m for m in messages if m.get("role") == "assistant"]
        chosen = assistant or messages
        return _content_text(chosen[-1].get("content")) if chosen else ""
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return str(content)
    if _is_sequence(content):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


@dataclass(frozen=True)
class Question:
    """What the matcher needs to judge an answer to one train row (hashable, so it can key caches)."""

    actions: tuple[str, ...]  # action options, lettered from A
    categories: tuple[str, ...]  # category options, lettered after the actions
    correct_actions: tuple[str, ...]  # the valid proactive actions, as displayed
    ground_truth: str  # the row's category, as displayed
    categories_scored: bool = True  # False: the environment scores every category wrong on this turn (ROD's first)


def _string_list(value: Any) -> list[str] | None:
    if not _is_sequence(value):
        return None
    if not all(type(item) is str for item in value) and not all(isinstance(item, str) for item in value):
        return None
    return [str(item) for item in value]


def make_question(
    options: Any, proactive_actions: Any, ground_truth: Any, categories: Any = None, categories_scored: Any = None
) -> Question | None:
    """The row's Question, or None when the row cannot be scored (see the module docstring)."""
    options = _string_list(options)
    if not options or not isinstance(ground_truth, str):
        return None
    proactive = _string_list(proactive_actions) or []
    categories = _string_list(categories)
    scored = categories_scored is not False  # absent (None) or true: the ground truth is scored
    return _question(tuple(options), tuple(proactive), ground_truth, tuple(categories) if categories else (), scored)


@lru_cache(maxsize=4096)
def _question(
    options: tuple[str, ...],
    proactive: tuple[str, ...],
    ground_truth: str,
    categories: tuple[str, ...],
    categories_scored: bool,
) -> Question | None:
    try:
        actions, category_options = split_options(
            options, ground_truth, proactive_actions=proactive, categories=categories
        )
    except OptionSplitError:
        return None
    truth = find_option(ground_truth, category_options)
    if truth is None:
        return None
    correct_actions = tuple(a for a in actions if is_listed(a, proactive) and not is_abstain_option(a))
    return Question(tuple(actions), tuple(category_options), correct_actions, truth, categories_scored)


class _OptionGroup:
    """One option group (actions or categories) with its match keys computed once."""

    def __init__(self, options: Sequence[str], correct: Sequence[str], letter_offset: int):
        self.options = list(options)
        self.text_index: dict[str, int] = {}
        for index, option in enumerate(self.options):
            self.text_index.setdefault(standardize_text(option), index)
        self.correct_text = {standardize_text(option) for option in correct}
        self.letter_index: dict[str, int] = {}
        for index in range(len(self.options)):
            self.letter_index.setdefault(standardize_letter(letter(index + letter_offset)), index)
        self.correct_letters = {
            standardize_letter(letter(self.options.index(option) + letter_offset))
            for option in correct
            if option in self.options
        }

    def judge(self, text_key: str, letter_key: str) -> Judgement:
        index = self.text_index.get(text_key)
        if index is not None:
            return Judgement("correct" if text_key in self.correct_text else "wrong", self.options[index])
        index = self.letter_index.get(letter_key)
        if index is not None:
            return Judgement("correct" if letter_key in self.correct_letters else "wrong", self.options[index])
        return Judgement("mismatch", "")


class QuestionMatcher:
    """``envs.matching.classify_turn`` for one question, with the options standardized once.

    Same verdicts as ``classify_turn(answer, actions, correct_actions, categories, [ground_truth])``
    (a differential test in tests/test_rewards_properties.py holds it to that); the answer is standardized
    once instead of once per option group and the options once per question instead of once per answer.
    """

    def __init__(self, question: Question):
        self.actions = _OptionGroup(question.actions, question.correct_actions, 0)
        scored = [question.ground_truth] if question.categories_scored else []
        self.categories = _OptionGroup(question.categories, scored, len(question.actions))

    def classify(self, answer: str) -> TurnOutcome:
        text_key, letter_key = standardize_text(answer), standardize_letter(answer)
        action = self.actions.judge(text_key, letter_key)
        category = self.categories.judge(text_key, letter_key)
        return decide(action, category)


@lru_cache(maxsize=4096)
def matcher_for(question: Question) -> QuestionMatcher:
    return QuestionMatcher(question)


@lru_cache(maxsize=16384)
def _classify_cached(answer: str, question: Question) -> TurnOutcome:
    return matcher_for(question).classify(answer)


def classify(answer: str, question: Question) -> TurnOutcome:
    """How the environment judges ``answer`` on ``question`` (cached: every component asks the same thing)."""
    if len(answer) > CACHED_ANSWER_CHARS:
        return matcher_for(question).classify(answer)
    return _classify_cached(answer, question)


def finite_float(value: Any) -> float | None:
    """A finite float from a column value, or None (bools, strings, NaN and infinities are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def delta_for(deltas: Any, option: str) -> float | None:
    """The confidence gain recorded for ``option`` in a ``*_delta`` column ([{"key", "value"}] or a mapping).

    >>> delta_for([{"key": "Move left.", "value": 0.4}, {"key": "move RIGHT.", "value": "junk"}], "Move left.")
    0.4
    """
    if isinstance(deltas, Mapping):
        items = [{"key": key, "value": value} for key, value in deltas.items()]
    elif isinstance(deltas, Sequence) and not isinstance(deltas, str):
        items = deltas
    else:
        return None
    valid = [item for item in items if isinstance(item, Mapping) and isinstance(item.get("key"), str)]
    for same in (lambda key: key == option, lambda key: loose_key(key) == loose_key(option)):
        for item in valid:
            if same(item["key"]):
                value = finite_float(item.get("value"))
                if value is not None:
                    return value
    return None


@dataclass(frozen=True)
class Judged:
    """One completion judged against its row; ``outcome`` is None when the row is unscorable."""

    outcome: TurnOutcome | None
    question: Question | None
    row: dict[str, Any]

    @property
    def asked(self) -> bool:
        """The answer selected an intervention option (valid or not), not an abstention nor a category."""
        outcome = self.outcome
        if outcome is None or outcome.kind in ("correct", "abstain", "invalid"):
            return False
        return bool(outcome.action.option) and not is_abstain_option(outcome.action.option)

    def informative(self, confidence_source: str, conf_threshold: float | None) -> bool:
        """Whether the frame can already be answered: the ``state`` column, else no valid action, else conf."""
        state = self.row.get("state")
        if isinstance(state, str) and state.strip().lower() in STATES:
            return state.strip().lower() == "informative"
        if self.question is None or not self.question.correct_actions:
            return True
        conf = finite_float(self.row.get(f"{confidence_source}_conf"))
        return conf_threshold is not None and conf is not None and conf >= conf_threshold


ROW_COLUMNS = (
    "options", "proactive_actions", "ground_truth", "categories", "categories_scored", "state",
    "qwen_conf", "llava_conf", "qwen_delta", "llava_delta",
)  # fmt: skip


@dataclass
class _LastBatch:
    """The last batch judged, kept alive so identity checks cannot be fooled by a recycled id()."""

    completions: tuple[Any, ...]
    columns: dict[str, tuple[Any, ...]]
    judged: list[Judged]

    def matches(self, completions: Sequence[Any], columns: dict[str, Sequence[Any]]) -> bool:
        return _same_items(self.completions, completions) and all(
            _same_items(self.columns[name], columns[name]) for name in ROW_COLUMNS
        )


def _same_items(cached: tuple[Any, ...], current: Sequence[Any]) -> bool:
    return len(cached) == len(current) and all(map(operator.is_, cached, current))


_last_batch: _LastBatch | None = None


def judge_batch(completions: Any, columns: Mapping[str, Any]) -> list[Judged]:
    """Judge every completion of a TRL batch against its row's columns (one row per completion).

    GRPOTrainer calls every component on the same batch objects, so the last batch is remembered and reused
    while the completions and every column hold the very same objects (this assumes, as TRL does, that a
    batch is not mutated in place between the calls).
    """
    global _last_batch
    if not _is_sequence(completions):
        return []
    usable = {name: columns.get(name) for name in ROW_COLUMNS}
    usable = {name: column if _is_sequence(column) else () for name, column in usable.items()}
    if _last_batch is not None and _last_batch.matches(completions, usable):
        return _last_batch.judged
    judged = []
    for index, completion in enumerate(completions):
        row = {name: column[index] if index < len(column) else None for name, column in usable.items()}
        question = make_question(
            row["options"], row["proactive_actions"], row["ground_truth"], row["categories"], row["categories_scored"]
        )
        outcome = classify(completion_text(completion), question) if question is not None else None
        judged.append(Judged(outcome, question, row))
    _last_batch = _LastBatch(tuple(completions), {name: tuple(c) for name, c in usable.items()}, judged)
    return judged
