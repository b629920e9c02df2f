"""Reward components pinned on hand-written completions, the registry, the configs and the default ordering."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import rewards
from envs.matching import classify_turn
from envs.options import OptionSplitError
from rewards import RewardConfig, build, total_reward
from rewards.answers import QuestionMatcher, make_question, split_options
from rewards.examples import EXAMPLE_ROW, example_columns
from rewards.registry import REWARDS, register

CONF_REWARD = Path(__file__).resolve().parent.parent / "conf" / "reward"
ACTIONS = ["Move left.", "Move right.", "I cannot tell."]
CATEGORIES = ["cat", "dog", "car", "cup"]


def scores(name: str, completions: list[Any], cfg: RewardConfig | None = None, **overrides: Any) -> list[float]:
    return REWARDS[name](completions, reward_config=cfg, **example_columns(len(completions), **overrides))


def totals(completions: list[Any], cfg: RewardConfig | None = None, **overrides: Any) -> list[float]:
    return total_reward(completions, cfg, **example_columns(len(completions), **overrides))


def env_kind(answer: str) -> str:
    """What the environment itself (the shared matcher, official rules) decides for EXAMPLE_ROW."""
    return classify_turn(answer, ACTIONS, ACTIONS[:2], CATEGORIES, ["dog"]).kind


# --- each component on hand-written completions -------------------------------------------------------------


def test_correct_category_accepts_text_letter_and_prefixed_forms():
    completions = ["dog", "E", "e.", " E. dog", "DOG", "d o g", "The answer is E. dog", "cat", "D", "A"]
    assert scores("correct_category", completions) == [1.0] * 7 + [0.0] * 3


def test_valid_intervention_on_ambiguous_frame():
    completions = ["A", "B", "Move right.", "B. Move right.", "C", "E", "nothing"]
    assert scores("valid_intervention", completions) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_abstain_and_invalid_indicators():
    completions = ["C", "I cannot tell.", "A", "", "   ", "I don't know", "E"]
    assert scores("abstain", completions) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert scores("invalid", completions) == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "completion",
    [
        "A B C D",
        "A B C D E F G",
        "ABCDEFG",
        "A. Move left.\nB. Move right.\nC. I cannot tell.\nD. cat\nE. dog",
        "A. cat\nB. dog",
        "The answer is cat",
        "The answer is dog",
        "dog dog dog",
        "E E E",
        "E, D",
        "E or D",
        "<answer>E</answer>",
        "**E**",
        "Answer: dog",
        "dog.",
        "E) dog",
    ],
)
def test_degenerate_completions_earn_what_the_environment_grants(completion):
    kind = env_kind(completion)
    expected = {
        "correct_category": float(kind == "correct"),
        "valid_intervention": float(kind == "intervention"),
        "abstain": float(kind == "abstain"),
        "invalid": float(kind == "invalid"),
    }
    got = {name: scores(name, [completion])[0] for name in expected}
    assert got == expected
    best = max(totals(["E"]), totals(["A"]))[0]
    assert totals([completion])[0] <= best


def test_listing_every_option_is_not_rewarded():
    listing = "A. Move left.\nB. Move right.\nC. I cannot tell.\nD. cat\nE. dog\nF. car\nG. cup"
    # official quirk: the letter before the first "." selects A, a valid intervention, and nothing more
    assert env_kind(listing) == "intervention"
    assert totals([listing]) == totals(["A"])
    assert totals(["A B C D E F G"])[0] < 0
    assert totals(["The answer is cat"]) == totals([""])


def test_chat_message_completions_are_read_like_strings():
    as_text = ["E", "A", "junk"]
    as_messages = [[{"role": "assistant", "content": text}] for text in as_text]
    as_parts = [[{"role": "assistant", "content": [{"type": "text", "text": text}]}] for text in as_text]
    split_parts = [[{"role": "assistant", "content": [{"type": "text", "text": "d"}, {"type": "text", "text": "og"}]}]]
    for name in ("correct_category", "valid_intervention", "invalid"):
        expected = scores(name, as_text)
        assert scores(name, as_messages) == expected
        assert scores(name, as_parts) == expected
    assert scores("correct_category", split_parts) == [1.0]


def test_informative_intervention_scales_by_the_recorded_gain():
    assert scores("informative_intervention", ["A", "B", "E", "C", "zzz"]) == [0.4, -0.2, 0.0, 0.0, 0.0]
    halved = RewardConfig(delta_scale=0.5)
    assert scores("informative_intervention", ["A", "B"], halved) == [0.8, -0.4]
    big = [{"key": "Move left.", "value": 7.0}, {"key": "move   RIGHT.", "value": -3.0}]
    assert scores("informative_intervention", ["A", "B"], qwen_delta=big) == [1.0, -1.0]


def test_informative_intervention_reads_the_configured_source():
    llava = RewardConfig(confidence_source="llava")
    llava_delta = [{"key": "Move left.", "value": 0.9}]
    assert scores("informative_intervention", ["A"], llava, llava_delta=llava_delta) == [0.9]
    assert scores("informative_intervention", ["A"], llava) == [0.0]  # EXAMPLE_ROW has no llava_delta


@pytest.mark.parametrize(
    "delta",
    [
        None,
        [],
        "junk",
        3.0,
        [None],
        [{"key": "Move left."}],
        [{"key": "Move left.", "value": math.nan}],
        [{"key": "Move left.", "value": "0.4"}],
        [{"key": "Move left.", "value": True}],
        [{"value": 0.4}],
        [{"key": 5, "value": 0.4}],
        [["Move left.", 0.4]],
        [{"key": "Move left.", "value": math.inf}],
    ],
)
def test_informative_intervention_is_neutral_on_missing_or_malformed_deltas(delta):
    assert scores("informative_intervention", ["A"], qwen_delta=delta) == [0.0]


def test_informative_intervention_accepts_a_mapping_and_skips_junk_before_the_match():
    assert scores("informative_intervention", ["A"], qwen_delta={"Move left.": 0.3}) == [0.3]
    junk_first = [None, {"key": "Move left.", "value": "x"}, {"key": "Move left.", "value": 0.25}]
    assert scores("informative_intervention", ["A"], qwen_delta=junk_first) == [0.25]


def test_over_asking_marks_any_intervention_request_on_an_informative_frame():
    completions = ["A", "B", "Move left.", "C", "E", "D", "junk"]
    assert scores("over_asking", completions, state="informative") == [1.0, 1.0, 1.0, 0, 0, 0, 0]
    assert scores("over_asking", completions, state="ambiguous") == [0.0] * 7
    # no state column: a row without valid proactive actions is informative
    assert scores("over_asking", ["A", "E"], state=None, proactive_actions=[]) == [1.0, 0.0]
    assert scores("over_asking", ["A"], state=None) == [0.0]


def test_over_asking_switch_gates_the_intervention_rewards():
    assert scores("valid_intervention", ["A"], state="informative") == [0.0]
    assert scores("informative_intervention", ["A"], state="informative") == [0.0]
    paying = RewardConfig(reward_asking_on_informative=True)
    assert scores("valid_intervention", ["A"], paying, state="informative") == [1.0]
    assert scores("informative_intervention", ["A"], paying, state="informative") == [0.4]


def test_confidence_threshold_marks_frames_informative_only_without_state():
    cfg = RewardConfig(informative_conf_threshold=0.5)
    assert scores("valid_intervention", ["A"], cfg, state=None, qwen_conf=0.9) == [0.0]
    assert scores("valid_intervention", ["A"], cfg, state=None, qwen_conf=0.1) == [1.0]
    assert scores("valid_intervention", ["A"], cfg, state=None, qwen_conf=math.nan) == [1.0]
    assert scores("valid_intervention", ["A"], cfg, state="ambiguous", qwen_conf=0.9) == [1.0]
    assert scores("valid_intervention", ["A"], state=None, qwen_conf=0.9) == [1.0]  # threshold off by default


def test_unscorable_rows_get_zero_from_every_component():
    cases = [
        dict(options=None),
        dict(options=[]),
        dict(options="cat dog"),
        dict(ground_truth=None),
        dict(ground_truth="zebra"),
        dict(options=["cat", 3, "dog"]),
    ]
    for overrides in cases:
        for name in REWARDS:
            assert scores(name, ["E", "A", ""], **overrides) == [0.0, 0.0, 0.0], (name, overrides)


def test_missing_columns_and_short_columns_do_not_raise():
    assert REWARDS["correct_category"](["E", "A"]) == [0.0, 0.0]
    columns = example_columns(2)
    columns["options"] = columns["options"][:1]
    assert REWARDS["correct_category"](["E", "E"], **columns) == [1.0, 0.0]
    assert REWARDS["invalid"]([]) == []


def test_batch_memo_notices_new_rows_and_replaced_items():
    completions = ["E", "A"]
    columns = example_columns(2)
    assert scores("correct_category", completions) == [1.0, 0.0]
    assert REWARDS["correct_category"](completions, **columns) == [1.0, 0.0]
    other_truth = {**columns, "ground_truth": ["cat", "cat"]}
    assert REWARDS["correct_category"](completions, **other_truth) == [0.0, 0.0]
    completions[1] = "dog"
    assert REWARDS["correct_category"](completions, **columns) == [1.0, 1.0]
    columns["ground_truth"][0] = "cat"
    assert REWARDS["correct_category"](completions, **columns) == [0.0, 1.0]


# --- option split -----------------------------------------------------------------------------------------


def test_split_uses_the_categories_column_when_it_fits():
    options = ["Increase the brightness.", "I cannot tell.", "Denoise the image.", "cat", "dog", "car", "cup"]
    categories = ["dog", "cat", "cup", "car"]
    assert split_options(options, "dog", categories=categories) == (options[:3], options[3:])
    with pytest.raises(OptionSplitError, match="not the last options"):
        split_options(options, "dog", categories=["zebra"])


def test_split_options_shown_after_the_abstain_option_are_not_categories():
    # official rows show interventions and the abstain option in any order; an invalid fix after the abstain
    # option (IN-C) is still an intervention, not a category
    options = ["Increase the brightness.", "I cannot tell.", "Denoise the image.", "cat", "dog", "car", "cup"]
    assert split_options(options, "dog", proactive_actions=["Increase the brightness."]) == (options[:3], options[3:])
    assert split_options(options, "dog") == (options[:3], options[3:])  # informative row: no valid action listed
    question = make_question(options, [], "dog")
    assert question.categories == ("cat", "dog", "car", "cup")
    assert QuestionMatcher(question).classify("E").kind == "correct"  # letter E is "dog", after three actions


def test_split_falls_back_to_the_vocabulary_for_other_formats():
    options = ["Move the camera to the left.", "I do not know.", "cat", "dog"]  # two categories only
    assert split_options(options, "dog") == (options[:2], options[2:])
    options = ["cat", "dog", "Move left.", "I do not know."]
    assert split_options(options, "dog", proactive_actions=["Move left."]) == (["cat"], options[1:])
    assert split_options(["cat", "dog"], "dog") == ([], ["cat", "dog"])
    with pytest.raises(OptionSplitError, match="ground truth"):
        split_options(["Move left.", "I cannot tell.", "cat"], "zebra")


def test_category_letters_continue_after_the_actions():
    question = make_question(EXAMPLE_ROW["options"], EXAMPLE_ROW["proactive_actions"], "dog")
    assert question.actions == tuple(ACTIONS) and question.categories == tuple(CATEGORIES)
    assert question.correct_actions == ("Move left.", "Move right.")
    matcher = QuestionMatcher(question)
    assert [matcher.classify(x).option for x in "ABCDEFG"] == ACTIONS + CATEGORIES
    assert matcher.classify("H").kind == "invalid"


def test_options_ending_in_a_capital_and_dot_are_told_apart_when_reading_rows():
    # the official answer standardization maps both to "" (everything up to the last "X." is dropped)
    options = ["Use JPEG.", "Use PNG.", "I cannot tell.", "cat", "dog"]
    question = make_question(options, ["Use PNG."], "dog")
    assert question.correct_actions == ("Use PNG.",)
    assert make_question(options, ["use  png."], "DOG").correct_actions == ("Use PNG.",)
    assert make_question(options, ["use  png."], "DOG").ground_truth == "dog"


def test_abstain_options_are_never_valid_interventions():
    question = make_question(EXAMPLE_ROW["options"], ["Move left.", "I cannot tell."], "dog")
    assert question.correct_actions == ("Move left.",)
    assert scores("abstain", ["C"], proactive_actions=["Move left.", "I cannot tell."]) == [1.0]


# --- the default combination -------------------------------------------------------------------------------


def test_default_reward_group_is_the_schema_default():
    from omegaconf import OmegaConf

    from proactive_rl.config import compose_train_config

    composed = OmegaConf.to_container(compose_train_config(["reward=default"]).reward)
    assert composed == vars(RewardConfig())


def test_on_an_ambiguous_frame_asking_beats_guessing_and_abstaining():
    ask, wrong, abstain, invalid = totals(["A", "D", "C", "junk"])
    assert ask > wrong > abstain > invalid
    # worst case for asking: the base model's confidence dropped as much as it can
    worst_ask = totals(["A"], qwen_delta=[{"key": "Move left.", "value": -5.0}])[0]
    guess = sum(totals(["D", "E", "F", "G"])) / 4  # one category in four is right by chance
    assert worst_ask > guess > 0


def test_on_an_informative_frame_answering_beats_asking():
    correct, wrong, ask, abstain, invalid = totals(["E", "D", "A", "C", "junk"], state="informative")
    assert correct > wrong > abstain > ask > invalid
    assert ask < 0
    best_ask = totals(["A"], state="informative", qwen_delta=[{"key": "Move left.", "value": 1.0}])[0]
    assert best_ask < 0


def test_a_mixed_group_has_reward_variance():
    group = ["A", "E", "D", "C", "junk", "B", "F", "A"]
    for state in ("ambiguous", "informative"):
        values = totals(group, state=state)
        assert len(set(values)) >= 3


def test_total_bounds_cover_every_total():
    low, high = rewards.total_bounds()
    assert (low, high) == pytest.approx((-0.5 - 0.1 - 0.25 - 0.2, 1.0 + 0.5 + 0.2))
    for state in ("ambiguous", "informative"):
        for value in totals(["A", "B", "C", "D", "E", "", "x"], state=state):
            assert low <= value <= high


# --- registry and build -------------------------------------------------------------------------------------


def test_registry_rejects_duplicate_names():
    with pytest.raises(ValueError, match="already registered"):
        register("correct_category", bounds=(0.0, 1.0))(lambda completions, **_: [])


def test_registry_rejects_bad_bounds():
    with pytest.raises(ValueError, match="bounds"):
        register("__test_bad_bounds__", bounds=(1.0, 0.0))(lambda completions, **_: [])
    assert "__test_bad_bounds__" not in REWARDS


def test_build_only_builds_the_selected_components_with_distinct_names():
    functions, weights = build(RewardConfig(components=["invalid", "correct_category"]))
    assert [f.__name__ for f in functions] == ["invalid", "correct_category"]
    assert weights == [-0.5, 1.0]
    full, _ = build()
    names = [f.__name__ for f in full]
    assert names == rewards.DEFAULT_COMPONENTS and len(set(names)) == len(names)


@pytest.mark.slow  # importing TRL takes ~15 s on the 2-core machine
def test_trl_logs_each_reward_under_its_component_name():
    from trl.trainer.utils import get_callable_name, is_async_callable

    functions, _ = build()
    assert [get_callable_name(f) for f in functions] == rewards.DEFAULT_COMPONENTS
    assert not any(is_async_callable(f) for f in functions)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(components=["correct_category", "corect_category"]), "unknown reward component 'corect_category'"),
        (dict(components=[]), "non-empty"),
        (dict(components="correct_category"), "non-empty"),
        (dict(components=["invalid", "invalid"]), "more than once"),
        (dict(weights={**rewards.DEFAULT_WEIGHTS, "abstian": -1.0}), "unknown reward component 'abstian'"),
        (dict(weights={"correct_category": 1.0}), "no weight"),
        (dict(weights={**rewards.DEFAULT_WEIGHTS, "invalid": math.nan}), "finite"),
        (dict(confidence_source="gpt"), "confidence_source"),
        (dict(delta_scale=0.0), "delta_scale"),
        (dict(informative_conf_threshold=math.inf), "informative_conf_threshold"),
    ],
)
def test_bad_configs_fail_at_build_naming_the_key(bad, message):
    with pytest.raises(ValueError, match=message):
        build(RewardConfig(**bad))


def test_unknown_names_fail_listing_the_valid_ones():
    with pytest.raises(ValueError) as error:
        build({"components": ["nope"]})
    for name in REWARDS:
        assert name in str(error.value)
    with pytest.raises(ValueError, match="unknown reward config key"):
        build({"componets": ["invalid"]})


def test_built_functions_take_trl_keyword_arguments_and_pickle():
    functions, _ = build()
    completions = [[{"role": "assistant", "content": "A"}], [{"role": "assistant", "content": "E"}]]
    columns = example_columns(2)
    columns["prompt"] = [[{"role": "user", "content": "q"}]] * 2
    columns["images"] = [[None], [None]]
    logged = []
    trl_kwargs = dict(
        prompts=columns.pop("prompt"),
        completions=completions,
        completion_ids=[[1, 2], [3]],
        trainer_state=object(),
        log_extra=lambda column, values: logged.append((column, values)),
        log_metric=lambda name, value: logged.append((name, value)),
        **columns,
    )
    results = {f.__name__: f(**trl_kwargs) for f in functions}
    assert results["valid_intervention"] == [1.0, 0.0]
    assert results["correct_category"] == [0.0, 1.0]
    assert results["informative_intervention"] == [0.4, 0.0]
    restored = pickle.loads(pickle.dumps(functions))
    assert [f(**trl_kwargs) for f in restored] == list(results.values())


def test_build_accepts_a_dictconfig():
    from omegaconf import OmegaConf

    cfg = OmegaConf.merge(OmegaConf.structured(RewardConfig), {"components": ["abstain"]})
    functions, weights = build(cfg)
    assert [f.__name__ for f in functions] == ["abstain"] and weights == [-0.1]


# --- config group files ------------------------------------------------------------------------------------


@dataclass
class _RewardOnlyRoot:
    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"reward": "default"}])
    reward: RewardConfig = field(default_factory=RewardConfig)


def _compose(option: str):
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="_rewards_test_root", node=_RewardOnlyRoot)
    with initialize_config_dir(config_dir=str(CONF_REWARD.parent), version_base="1.3"):
        return compose(config_name="_rewards_test_root", overrides=[f"reward={option}"]).reward


@pytest.mark.parametrize("option", sorted(path.stem for path in CONF_REWARD.glob("*.yaml")))
def test_every_reward_option_composes_and_builds(option):
    functions, weights = build(_compose(option))
    assert functions and len(functions) == len(weights)


def test_ablations_differ_from_the_default_where_they_say():
    default = _compose("default")
    assert list(_compose("accuracy_only").components) != list(default.components)
    assert _compose("no_abstain_penalty").weights.abstain == 0.0
    assert "informative_intervention" not in _compose("no_confidence_shaping").components
    assert _compose("no_over_asking_guard").reward_asking_on_informative is True
    llava = _compose("llava_confidence")
    assert llava.confidence_source == "llava" and list(llava.components) == list(default.components)


def test_accuracy_only_pays_nothing_for_asking():
    cfg = _compose("accuracy_only")
    assert totals(["A", "E", "C", "junk"], cfg) == [0.0, 1.0, 0.0, 0.0]


def test_guessing_switch_pays_right_guesses_only_on_informative_frames():
    from rewards import RewardConfig
    from rewards.outcome import correct_category

    options = [
        "Move the occluding blocks to the left.",
        "I cannot tell what the object is.",
        "cat",
        "dog",
        "cow",
        "pig",
    ]
    columns = {
        "ground_truth": ["cat", "cat"],
        "proactive_actions": [["Move the occluding blocks to the left."], []],
        "options": [options, options],
        "state": ["ambiguous", "informative"],
    }
    strict = RewardConfig(reward_guessing_on_ambiguous=False)
    assert correct_category(["cat", "cat"], reward_config=strict, **columns) == [0.0, 1.0]
    assert correct_category(["cat", "cat"], reward_config=RewardConfig(), **columns) == [1.0, 1.0]


def test_partial_frame_pays_a_right_answer_and_a_valid_intervention():
    """A partly visible object: answering right earns the full reward, asking the way to the clear frame
    earns the intervention reward, exactly as on an ambiguous frame; an informative frame pays no asking."""
    completions = ["dog", "Move left.", "cat", "I cannot tell."]
    partial = totals(completions, state="partial")
    assert partial == totals(completions, state="ambiguous")
    assert partial[0] == 1.0 and 0.5 < partial[1] < 1.0 and partial[2] == 0.0 and partial[3] < 0
    assert totals(completions, state="informative")[1] < 0  # over-asking
