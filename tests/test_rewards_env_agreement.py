"""Rows built from environment turns, the way real train rows come, are judged as the environment judges them.

Entries are drawn by the parity generators (every scenario, intervention and abstain options in shuffled
order, CIT/COCO pruning, last turns that accept only a category, ROD's first turn). At every turn of every
episode a train row is written from what the turn displays, in three forms: with the valid interventions,
as an "informative" row with ``proactive_actions=[]`` (how the HF train split writes clear frames), and without
the ``categories_scored`` column. The split must be the environment's (displayed interventions, then the
entry's categories). For every answer form (each option by text, letter, "X. text", mangled text, a prefix,
junk), the rewards' verdict must equal ``env.judge`` for that turn (on a row that lists no valid intervention,
an intervention reads "wrong": the row says none is valid there), and each indicator component must fire
exactly when that verdict says so. With the official package installed, the parity
test already holds ``env.judge``'s verdicts to the official ones, turn by turn.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

import envs
from envs.matching import is_abstain_option
from rewards import RewardConfig
from rewards.answers import classify, make_question
from rewards.registry import REWARDS

try:
    from parity.cases import GENERATORS, ImagePool, choose_answer, make_root
except ModuleNotFoundError:  # tests/ made a package
    from tests.parity.cases import GENERATORS, ImagePool, choose_answer, make_root

EPISODES = {"ROD": 60, "VSOD": 40, "MVP-N": 60, "IN-C": 80, "QD": 60, "CIT": 80, "COCO": 100}
INDICATORS = ("correct_category", "valid_intervention", "abstain", "invalid")


def answer_forms(options: list[str], rng: random.Random) -> list[str]:
    forms = ["", "Z", "I think it is a dog", "A. B. something"]
    for index, option in enumerate(options):
        letter = chr(65 + index)
        forms += [option, letter, letter.lower(), f"{letter}. {option}", option.upper(), f"The answer is {letter}."]
        forms.append(option.replace(" ", "") if rng.random() < 0.5 else "  " + option)
    return forms


def row_forms(env: envs.ProactiveEnv, obs: dict) -> list[dict]:
    base = {"options": obs["options"], "ground_truth": env.answer}
    scored = bool(env.correct_categories())
    rows = [
        {**base, "proactive_actions": env.valid_interventions(), "categories_scored": scored},
        {**base, "proactive_actions": [], "categories_scored": scored, "state": "informative"},
    ]
    if scored:  # a source without the column: right whenever the environment scores the ground truth
        rows.append({**base, "proactive_actions": env.valid_interventions()})
    return rows


def play_and_check(root, cases) -> tuple[Counter, list[str]]:
    counts, disagreements = Counter(), []
    for scenario, entry, seed in cases:
        rng = random.Random(seed)
        env = envs.make(scenario, entry, root, reference=rng.random() < 0.1)
        obs, _ = env.reset()
        while True:
            for row in row_forms(env, obs):
                question = make_question(
                    row["options"], row["proactive_actions"], row["ground_truth"], None, row.get("categories_scored")
                )
                if question is None:
                    disagreements.append(f"{scenario} {entry['id']} turn {env.num_turns}: unscorable row {row}")
                    continue
                displayed = obs["options"][: len(obs["options"]) - len(entry["categories"])]
                if (list(question.actions), list(question.categories)) != (displayed, list(entry["categories"])):
                    disagreements.append(f"{scenario} {entry['id']} turn {env.num_turns}: split {question} of {row}")
                for answer in answer_forms(row["options"], rng):
                    theirs, ours = env.judge(answer), classify(answer, question)
                    counts[theirs.kind] += 1
                    expected = theirs.kind
                    if expected == "intervention" and not row["proactive_actions"]:
                        expected = "wrong"  # the row says no intervention is valid on this frame
                    if (ours.kind, ours.option) != (expected, theirs.option):
                        disagreements.append(
                            f"{scenario} {entry['id']} turn {env.num_turns} {answer!r}: rewards {ours.kind}/"
                            f"{ours.option!r}, environment {theirs.kind}/{theirs.option!r}; row {row}"
                        )
                    disagreements += component_disagreements(row, answer, expected, theirs.action.option)
            obs, _, terminated, _, _ = env.step(choose_answer(rng, env, obs["options"], set()))
            if terminated:
                break
    return counts, disagreements


def component_disagreements(row: dict, answer: str, kind: str, action_option: str) -> list[str]:
    """Each indicator fires exactly when the environment's verdict is its kind (where its switches allow)."""
    columns = {name: [value] for name, value in row.items()}
    config = RewardConfig()
    informative = row.get("state") == "informative" or not row["proactive_actions"]
    expected = {
        "correct_category": kind == "correct",
        "valid_intervention": kind == "intervention" and not informative,
        "abstain": kind == "abstain",
        "invalid": kind == "invalid",
        "over_asking": informative
        and kind in ("intervention", "wrong")
        and bool(action_option)
        and not is_abstain_option(action_option),
    }
    problems = []
    for name, fires in expected.items():
        value = REWARDS[name]([answer], reward_config=config, **columns)[0]
        if (value == 1.0) != fires:
            problems.append(f"{name}={value} but environment verdict {kind} on {answer!r}, row {row}")
    return problems


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    rng = random.Random(5)
    root = make_root(tmp_path_factory.mktemp("agreement"))
    pool = ImagePool(root, rng)
    cases = []
    for scenario, count in EPISODES.items():
        for index in range(count):
            entry, _ = GENERATORS[scenario](rng, pool)
            cases.append((scenario, entry, index))
    return str(root), cases


def test_shuffled_official_rows_are_judged_as_the_environment_judges(generated):
    root, cases = generated
    usable = []
    for scenario, entry, seed in cases:
        try:
            env = envs.make(scenario, entry, root)
            env.reset()
        except (OSError, ValueError, KeyError):
            continue  # malformed entries the generators make on purpose for the official crash cases
        usable.append((scenario, entry, seed))
    orders = Counter(
        "abstain last" if is_abstain_option(entry["options"][-1]) else "abstain elsewhere"
        for _, entry, _ in usable
        if any(is_abstain_option(option) for option in entry["options"])
    )
    assert orders["abstain elsewhere"] > 50, orders  # the case the old split got wrong is exercised
    counts, disagreements = play_and_check(root, usable)
    assert set(counts) == {"intervention", "correct", "wrong", "abstain", "invalid"}, counts
    assert not disagreements, f"{len(disagreements)} disagreements, e.g.\n" + "\n".join(disagreements[:10])


def test_rod_first_turn_row_scores_no_category(generated):
    root, cases = generated
    scenario, entry, _ = next(case for case in cases if case[0] == "ROD")
    env = envs.make(scenario, entry, root)
    obs, _ = env.reset()
    assert env.correct_categories() == []
    question = make_question(obs["options"], env.valid_interventions(), env.answer, None, False)
    assert classify(env.answer, question).kind == env.judge(env.answer).kind == "wrong"
    columns = {"options": [obs["options"]], "proactive_actions": [env.valid_interventions()]}
    columns |= {"ground_truth": [env.answer], "categories_scored": [False]}
    guessing = RewardConfig(reward_guessing_on_ambiguous=True)
    assert REWARDS["correct_category"]([env.answer], reward_config=guessing, **columns) == [0.0]
    # without the column the row cannot tell: the ground truth pays (the documented exception)
    del columns["categories_scored"]
    assert REWARDS["correct_category"]([env.answer], reward_config=guessing, **columns) == [1.0]
