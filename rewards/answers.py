"""Read one GRPO batch: completion text, the row's question, and how the official matcher judges the answer.

Rewards must never grant more than the environment would, so answers are judged by the one shared matcher
(``envs.matching``), with the official rules. A train row only carries the displayed ``options``, the valid
``proactive_actions`` and the ``ground_truth`` category, so the displayed list is split into action options
(lettered first) and categories by this rule:

1. a ``categories`` column, when present, names the categories (the options must end with them);
2. otherwise the categories are the options after the last one that is an abstain option
   (``envs.matching.is_abstain_option``) or a valid proactive action;
3. the ground truth is always a category: the split never falls after it.

A row whose options are not a non-empty list of strings, or whose ground truth matches no category, is
*unscorable*: every component gives it 0, so a data bug yields no learning signal instead of a wrong one.

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
    ground_truth: str  # the correct category, as displayed


def _string_list(value: Any) -> list[str] | None:
    if not _is_sequence(value):
        return None
    if not all(type(item) is str for item in value) and not all(isinstance(item, str) for item in value):
        return None
    return [str(item) for item in value]


def split_options(
    options: Sequence[str],
    proactive_actions: Sequence[str],
    ground_truth: str,
    categories: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Split the displayed options into (action options, categories) by the rule in the module docstring.

    >>> split_options(["Move left.", "I cannot tell.", "cat", "dog"], ["Move left."], "dog")
    (['Move left.', 'I cannot tell.'], ['cat', 'dog'])
    """
    options = list(options)
    if categories:
        tail = options[len(options) - len(categories) :]
        if len(categories) <= len(options) and sorted(tail) == sorted(categories):
            return options[: len(options) - len(categories)], tail
    boundary = 0
    for index, option in enumerate(options):
        if is_abstain_option(option) or _is_listed(option, proactive_actions):
            boundary = index + 1
    truth = _find(ground_truth, options)
    if truth is not None:
        boundary = min(boundary, options.index(truth))
    return options[:boundary], options[boundary:]


def _loose_key(text: str) -> str:
    """Case- and whitespace-insensitive key for matching column values to option texts.

    Not the answer matcher's standardization: its "X." stripping maps "Use JPEG." and "Add details." alike to
    the empty key, which is right for judging answers the official way but wrong for reading data.
    """
    return "".join(text.casefold().split())


def _find(text: str, options: Sequence[str]) -> str | None:
    """The option ``text`` names: the exact string first, else the first loosely equal one."""
    if text in options:
        return text
    key = _loose_key(text)
    return next((option for option in options if _loose_key(option) == key), None)


def _is_listed(option: str, listed: Sequence[str]) -> bool:
    return option in listed or any(_loose_key(item) == _loose_key(option) for item in listed)


def make_question(options: Any, proactive_actions: Any, ground_truth: Any, categories: Any = None) -> Question | None:
    """The row's Question, or None when the row cannot be scored (see the module docstring)."""
    options = _string_list(options)
    if not options or not isinstance(ground_truth, str):
        return None
    proactive = _string_list(proactive_actions) or []
    categories = _string_list(categories)
    return _question(tuple(options), tuple(proactive), ground_truth, tuple(categories) if categories else ())


@lru_cache(maxsize=4096)
def _question(
    options: tuple[str, ...], proactive: tuple[str, ...], ground_truth: str, categories: tuple[str, ...]
) -> Question | None:
    actions, category_options = split_options(options, proactive, ground_truth, categories)
    truth = _find(ground_truth, category_options)
    if truth is None:
        return None
    correct_actions = tuple(a for a in actions if _is_listed(a, proactive) and not is_abstain_option(a))
    return Question(tuple(actions), tuple(category_options), correct_actions, truth)


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
        self.categories = _OptionGroup(question.categories, [question.ground_truth], len(question.actions))

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
    for same in (lambda key: key == option, lambda key: _loose_key(key) == _loose_key(option)):
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
    "options", "proactive_actions", "ground_truth", "categories", "state",
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
        question = make_question(row["options"], row["proactive_actions"], row["ground_truth"], row["categories"])
        outcome = classify(completion_text(completion), question) if question is not None else None
        judged.append(Judged(outcome, question, row))
    _last_batch = _LastBatch(tuple(completions), {name: tuple(c) for name, c in usable.items()}, judged)
    return judged
