"""Property tests: rewards never raise and stay in bounds whatever the policy emits or the data holds, the fast
matcher agrees with the shared official matcher, and no completion earns more than its environment outcome."""

from __future__ import annotations

import math
import time
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from envs.matching import classify_turn, letter
from rewards import RewardConfig, total_bounds, total_reward
from rewards.answers import Question, QuestionMatcher, completion_text, make_question
from rewards.examples import EXAMPLE_ROW, example_columns
from rewards.registry import REWARDS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FRAGMENTS = [
    *EXAMPLE_ROW["options"],
    *"ABCDEFGHabcdefgh",
    ".",
    ". ",
    " ",
    "\n",
    "\t",
    "The answer is ",
    "X.",
    "I cannot",
    "do not",
    "dog",
    "DOG",
    "Ｅ",
    "\u0130",
    "\x85",
    "\u00a0",
    "🐶",
    "<answer>",
    ",",
    ":",
]

texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
    st.sampled_from(["", " ", "\n\n", "\u3000", "\x00"]),
)
junk = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=10),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
parts = st.lists(st.one_of(st.fixed_dictionaries({"type": st.just("text"), "text": texts}), junk), max_size=3)
messages = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["assistant", "user", "tool"]), "content": st.one_of(texts, parts, junk)}
        ),
        junk,
    ),
    max_size=3,
)
completions_strategy = st.lists(st.one_of(texts, messages, junk), min_size=1, max_size=6)

option_lists = st.one_of(
    st.just(EXAMPLE_ROW["options"]),
    st.lists(st.one_of(texts, st.sampled_from(EXAMPLE_ROW["options"])), max_size=9),
    junk,
)
delta_lists = st.one_of(
    st.just(EXAMPLE_ROW["qwen_delta"]),
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "key": st.one_of(st.sampled_from(EXAMPLE_ROW["options"]), texts, junk),
                    "value": st.one_of(st.floats(allow_nan=True, allow_infinity=True), junk),
                }
            ),
            junk,
        ),
        max_size=4,
    ),
    st.dictionaries(st.one_of(texts, st.sampled_from(EXAMPLE_ROW["options"])), st.floats(), max_size=3),
    junk,
)
row_strategy = st.fixed_dictionaries(
    {},
    optional={
        "options": option_lists,
        "proactive_actions": st.one_of(st.just(EXAMPLE_ROW["proactive_actions"]), st.lists(texts, max_size=3), junk),
        "ground_truth": st.one_of(st.sampled_from(["dog", "cat", "Move left."]), texts, junk),
        "categories": st.one_of(st.just(["cat", "dog", "car", "cup"]), st.lists(texts, max_size=4), junk),
        "state": st.one_of(st.sampled_from(["ambiguous", "informative", " Informative "]), junk),
        "qwen_conf": st.one_of(st.floats(allow_nan=True, allow_infinity=True), junk),
        "llava_conf": st.one_of(st.floats(allow_nan=True, allow_infinity=True), junk),
        "qwen_delta": delta_lists,
        "llava_delta": delta_lists,
        "scenario": junk,
    },
)
configs = st.builds(
    RewardConfig,
    confidence_source=st.sampled_from(["qwen", "llava"]),
    delta_scale=st.floats(min_value=1e-6, max_value=1e6),
    reward_asking_on_informative=st.booleans(),
    informative_conf_threshold=st.one_of(st.none(), st.floats(min_value=-2, max_value=2)),
)


def _assert_in_bounds(name: str, values: list[Any], count: int) -> None:
    low, high = REWARDS[name].bounds
    assert len(values) == count, name
    for value in values:
        assert isinstance(value, float) and math.isfinite(value), (name, value)
        assert low <= value <= high, (name, value)


@SETTINGS
@given(completions=completions_strategy, row=row_strategy, cfg=configs)
def test_every_component_is_finite_and_in_bounds_on_anything(completions, row, cfg):
    columns = {name: [value] * len(completions) for name, value in row.items()}
    for name, component in REWARDS.items():
        _assert_in_bounds(name, component(completions, reward_config=cfg, **columns), len(completions))
    low, high = total_bounds(cfg)
    for value in total_reward(completions, cfg, **columns):
        assert low - 1e-9 <= value <= high + 1e-9


@SETTINGS
@given(completions=completions_strategy, column_values=st.dictionaries(st.sampled_from(list(EXAMPLE_ROW)), junk))
def test_columns_of_the_wrong_shape_do_not_raise(completions, column_values):
    for name, component in REWARDS.items():
        _assert_in_bounds(name, component(completions, **column_values), len(completions))


def test_megabyte_completions_are_scored_quickly_and_in_bounds():
    huge = [
        "x" * 1_000_000,
        "E. dog" + " " * 1_000_000,
        "A B C D " * 125_000,
        "🐶\u0130\x85" * 333_333,
        "\n" * 1_000_000,
        "E." * 500_000,
        [{"role": "assistant", "content": [{"type": "text", "text": "Z." * 500_000}]}],
    ]
    start = time.perf_counter()
    for name, component in REWARDS.items():
        _assert_in_bounds(name, component(huge, **example_columns(len(huge))), len(huge))
    assert REWARDS["correct_category"](huge, **example_columns(len(huge)))[1] == 1.0
    assert time.perf_counter() - start < 20


# --- the fast matcher is the shared matcher ----------------------------------------------------------------


option_texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from([*EXAMPLE_ROW["options"], "A", "b", "B.", "", " ", "I do not know.", "cannot", "Add details."]),
)


@st.composite
def questions(draw) -> Question:
    actions = draw(st.lists(option_texts, max_size=5))
    categories = draw(st.lists(option_texts, min_size=1, max_size=5))
    correct_actions = tuple(a for a in actions if draw(st.booleans()))
    return Question(tuple(actions), tuple(categories), correct_actions, draw(st.sampled_from(categories)))


@st.composite
def answers_to(draw, question: Question) -> str:
    options = [*question.actions, *question.categories]
    pieces = [*options, *(letter(i) for i in range(len(options))), *FRAGMENTS]
    prefix = draw(st.sampled_from(["", " ", "Z. ", "b. ", "The answer is "]))
    return draw(
        st.one_of(
            st.sampled_from(options).map(lambda option: prefix + option),
            st.sampled_from([letter(i) for i in range(len(options))]).map(lambda option: prefix + option),
            st.lists(st.sampled_from(pieces), max_size=4).map("".join),
            texts,
        )
    )


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_fast_matcher_agrees_with_classify_turn(data):
    question = data.draw(questions())
    answer = data.draw(answers_to(question))
    expected = classify_turn(
        answer, question.actions, question.correct_actions, question.categories, [question.ground_truth]
    )
    assert QuestionMatcher(question).classify(answer) == expected


# --- no completion earns more than the environment grants it -----------------------------------------------


@SETTINGS
@given(completion=st.one_of(texts, messages), state=st.sampled_from(["ambiguous", "informative"]))
def test_reward_depends_only_on_the_environment_outcome(completion, state):
    """Junk around an answer, several options or repeated letters score exactly like the option the env reads."""
    question = make_question(EXAMPLE_ROW["options"], EXAMPLE_ROW["proactive_actions"], "dog")
    text = completion_text(completion)
    outcome = classify_turn(text, question.actions, question.correct_actions, question.categories, ["dog"])
    canonical = (
        "" if outcome.kind == "invalid" else letter([*question.actions, *question.categories].index(outcome.option))
    )
    assume(QuestionMatcher(question).classify(canonical) == outcome)
    columns = example_columns(2, state=state)
    for name, component in REWARDS.items():
        first, second = component([completion, canonical], **columns)
        assert first == second, (name, text, canonical)
