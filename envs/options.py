"""Which displayed options are interventions (or abstentions) and which are categories.

A turn shows the entry's intervention options, its abstain option among them in the entry's own order
(official data has them in any order, and prunes some per state), then the entry's categories: four in
every scenario of the official format. A train row records only what was displayed (``options``), so the
split is derived from what the row and the format say, never from where the abstain option happens to be:

1. a ``categories`` column, when present, names the categories; they must be the last options shown;
2. otherwise the categories are the last ``NUM_CATEGORIES`` options, provided the ground truth is among
   them and none of them is an abstain option or one of the row's valid interventions (what the official
   format guarantees);
3. data in another format (fewer categories, say) falls back to the options after the last abstain option,
   listed valid intervention or option naming an action of the benchmark's vocabulary
   (``envs.scenarios.ACTION_KEYWORDS``), never past the ground truth.

A list none of these rules can split raises :class:`OptionSplitError`; the rewards turn it into an
unscorable row (no learning signal instead of a wrong one).

>>> split_options(["Move the camera left.", "I cannot tell.", "Rewind.", "cat", "dog", "car", "cup"], "dog")
(['Move the camera left.', 'I cannot tell.', 'Rewind.'], ['cat', 'dog', 'car', 'cup'])
>>> split_options(["I cannot tell.", "Move left.", "cat", "dog"], "dog", proactive_actions=["Move left."])
(['I cannot tell.', 'Move left.'], ['cat', 'dog'])
"""

from __future__ import annotations

from collections.abc import Sequence

from envs.matching import is_abstain_option
from envs.scenarios import ACTION_KEYWORDS, SCENARIO_INFERENCE_ORDER, SPECS

NUM_CATEGORIES = 4  # categories shown on every turn of every official scenario (the last options)


class OptionSplitError(ValueError):
    """An option list that cannot be split into interventions and categories."""


def loose_key(text: str) -> str:
    """Case- and whitespace-insensitive key for matching data columns to option texts.

    Not the answer matcher's standardization: its "X." stripping maps "Use JPEG." and "Add details." alike to
    the empty key, which is right for judging answers the official way but wrong for reading data.
    """
    return "".join(text.casefold().split())


def find_option(text: str, options: Sequence[str]) -> str | None:
    """The option ``text`` names: the exact string first, else the first loosely equal one."""
    if text in options:
        return text
    key = loose_key(text)
    return next((option for option in options if loose_key(option) == key), None)


def is_listed(option: str, listed: Sequence[str]) -> bool:
    return option in listed or any(loose_key(item) == loose_key(option) for item in listed)


def names_an_action(option: str) -> bool:
    """Whether ``option`` uses the benchmark's intervention vocabulary (abstentions excluded)."""
    lowered = option.lower()
    return not is_abstain_option(option) and any(keyword in lowered for keyword in ACTION_KEYWORDS)


def split_options(
    options: Sequence[str],
    ground_truth: str | None = None,
    *,
    proactive_actions: Sequence[str] = (),
    categories: Sequence[str] | None = None,
    num_categories: int = NUM_CATEGORIES,
) -> tuple[list[str], list[str]]:
    """(intervention and abstain options, categories) of a displayed list, by the rules of the module docstring."""
    options = list(options)
    if categories:
        tail = options[len(options) - len(categories) :]
        if len(categories) > len(options) or sorted(map(loose_key, tail)) != sorted(map(loose_key, categories)):
            raise OptionSplitError(f"the categories {list(categories)} are not the last options of {options}")
        return options[: len(options) - len(categories)], tail

    tail = options[len(options) - num_categories :] if len(options) >= num_categories else []
    if tail and (ground_truth is None or find_option(ground_truth, tail) is not None):
        if not any(is_abstain_option(option) or is_listed(option, proactive_actions) for option in tail):
            return options[: len(options) - num_categories], tail

    boundary = 0
    for index, option in enumerate(options):
        if is_abstain_option(option) or is_listed(option, proactive_actions) or names_an_action(option):
            boundary = index + 1
    if ground_truth is not None:
        truth = find_option(ground_truth, options)
        if truth is None:
            raise OptionSplitError(f"the ground truth {ground_truth!r} is not among the options {options}")
        boundary = min(boundary, options.index(truth))
    if boundary >= len(options):
        raise OptionSplitError(f"no category among the options {options}")
    return options[:boundary], options[boundary:]


def infer_scenario(options: Sequence[str]) -> str | None:
    """The scenario whose intervention wording appears in a displayed option list, or None when none does.

    Only the intervention part is read (a category word may hold a keyword: "triangle" holds "angle"), the
    abstain option ignored, and the scenarios tried in ``SCENARIO_INFERENCE_ORDER`` with each spec's
    ``option_keywords``. Turns that show categories only (the last turn of MVP-N, IN-C and QD) match nothing.
    """
    try:
        interventions, _ = split_options(options)
    except OptionSplitError:
        return None
    texts = [text.lower() for text in interventions if not is_abstain_option(text)]
    for scenario in SCENARIO_INFERENCE_ORDER:
        if any(keyword in text for text in texts for keyword in SPECS[scenario].option_keywords):
            return scenario
    return None
