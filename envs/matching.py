"""The official ProactiveBench answer matcher, shared by the environments and the rewards.

An answer selects an option either by its full text or by its letter. Both comparisons follow the
official package (v0.1.1) to the character, quirks included, because accuracy numbers are only comparable
when the same strings are accepted:

- full text: everything up to the *last* "<capital letter>." on the first line is dropped (so "B. cat"
  and "Answer B. cat" both read "cat"), then case and every plain space are ignored;
- letter: the text before the first "." must be a single character after trimming ("b", " B. cat");
- full text is tried before letters, and an answer is judged separately against the interventions
  (letters A, B, ...) and against the categories (letters continue after the interventions).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

_LEADING_LETTER = re.compile(r"^.*[A-Z]\.\s*")

Verdict = Literal["correct", "wrong", "mismatch"]
OutcomeKind = Literal["intervention", "correct", "wrong", "abstain", "invalid"]


def standardize_text(answer: str) -> str:
    """Full-text key of an answer or option: drop an "X." prefix, lower-case, remove plain spaces."""
    return _LEADING_LETTER.sub("", answer).lower().strip().replace(" ", "")


def standardize_letter(answer: str) -> str:
    """Letter key of an answer: the single character before the first ".", or "#" when longer."""
    head = answer.split(".")[0].lower().strip()
    return "#" if len(head) > 1 else head


def letter(index: int) -> str:
    """Letter of the option at ``index`` in the displayed list (A, B, ...; the official chr(65 + i))."""
    return chr(65 + index)


def is_abstain_option(option: str) -> bool:
    """Abstain options are the ones the official code never counts as an intervention."""
    lowered = option.lower()
    return "cannot" in lowered or "do not" in lowered


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    option: str  # the matched option, "" on mismatch


def judge(answer: str, correct: Sequence[str], options: Sequence[str], letter_offset: int = 0) -> Judgement:
    """Judge ``answer`` against ``options`` (lettered from ``letter_offset``), ``correct`` being a subset."""
    text_key = standardize_text(answer)
    option_keys = [standardize_text(option) for option in options]
    correct_keys = {standardize_text(option) for option in correct}
    if text_key in option_keys:
        matched = options[option_keys.index(text_key)]
        return Judgement("correct" if text_key in correct_keys else "wrong", matched)

    letter_key = standardize_letter(answer)
    option_letters = [standardize_letter(letter(i + letter_offset)) for i in range(len(options))]
    # The official code letters each correct answer by its first position in ``options``; a correct
    # answer that is not an option (the official code would raise) simply has no letter.
    correct_letters = {
        standardize_letter(letter(list(options).index(option) + letter_offset))
        for option in correct
        if option in options
    }
    if letter_key in option_letters:
        matched = options[option_letters.index(letter_key)]
        return Judgement("correct" if letter_key in correct_letters else "wrong", matched)
    return Judgement("mismatch", "")


@dataclass(frozen=True)
class TurnOutcome:
    """How one answer was judged on one turn."""

    kind: OutcomeKind
    option: str  # the option the answer selected ("" when it matched none)
    action: Judgement
    category: Judgement

    @property
    def continues(self) -> bool:
        return self.kind == "intervention"


def classify_turn(
    answer: str,
    valid_options: Sequence[str],
    correct_options: Sequence[str],
    categories: Sequence[str],
    correct_categories: Sequence[str],
    reference: bool = False,
) -> TurnOutcome:
    """Classify an answer the way the official environment does, plus a finer label for analysis.

    Priority is the official one: a correct category ends the episode correct, else a correct
    intervention continues it, else the episode ends wrong. The label refines "wrong" into
    ``abstain`` (the answer selected an abstain option) and ``invalid`` (it selected no option).
    """
    if reference:
        action = Judgement("mismatch", "")
        category = judge(answer, correct_categories, categories, 0)
    else:
        action = judge(answer, correct_options, valid_options, 0)
        category = judge(answer, correct_categories, categories, len(valid_options))
    return decide(action, category)


def decide(action: Judgement, category: Judgement) -> TurnOutcome:
    """The turn outcome from the two official verdicts (interventions, categories), in the official priority."""
    if category.verdict == "correct":
        return TurnOutcome("correct", category.option, action, category)
    if action.verdict == "correct":
        return TurnOutcome("intervention", action.option, action, category)
    selected = action.option or category.option
    if not selected:
        return TurnOutcome("invalid", "", action, category)
    if action.option and is_abstain_option(action.option):
        return TurnOutcome("abstain", action.option, action, category)
    return TurnOutcome("wrong", selected, action, category)
