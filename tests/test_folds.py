"""The honesty rules of a leave-one-scenario-out fold, and the prompt diversity rewrites (CPU, seconds)."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from _model_helpers import small_tiny_config
from _synth_helpers import small_synth_root

import envs
from envs.matching import is_abstain_option
from proactive_rl.config import compose_train_config
from proactive_rl.data import load_train_split
from proactive_rl.diversity import EVAL_PARAPHRASES, TRAIN_PARAPHRASES, DiversitySettings, diversify, row_hint
from proactive_rl.folds import grpo_rows
from proactive_rl.models import as_model_config, ensure_tiny_model, read_build_info, tiny_model_dir
from proactive_rl.prompting import MCQA_INSTRUCTION, user_text
from rewards import classify, make_question


def fold_config(held_out: str, *overrides: str):
    root = small_synth_root()
    return compose_train_config(
        ["experiment=leave_one_out", f"held_out={held_out}", f"data.root={root}", "data.seed=3",
         "data.test_per_scenario=12", "data.train_rows=84", *overrides]
    )  # fmt: skip


def official_interventions(scenario: str) -> set[str]:
    """The intervention texts of a scenario's *test* episodes (the benchmark's own wording)."""
    name = envs.OFFICIAL_NAMES[scenario]
    texts = set()
    for line in (small_synth_root() / "test" / f"{name}_preprocessed.jsonl").read_text().splitlines():
        entry = json.loads(line)
        texts |= {option for option in entry["options"] if option not in entry["categories"]}
    return {text for text in texts if not is_abstain_option(text)}


def test_every_fold_shares_one_base_unless_the_base_is_built_per_fold(tmp_path):
    train = small_synth_root() / "train"
    folds = [fold_config(held_out) for held_out in envs.SCENARIOS]
    shared = {tiny_model_dir(cfg.model, train, cfg.data.train_scenarios) for cfg in folds}
    assert len(shared) == 1, "one base (one cache key) for every leave-one-out fold"
    assert shared == {tiny_model_dir(compose_train_config([]).model, train, ["ROD", "VSOD"])}  # the default run too
    folds = [fold_config(held_out, "model.tiny.bootstrap_scope=train_scenarios") for held_out in envs.SCENARIOS]
    assert len({tiny_model_dir(cfg.model, train, cfg.data.train_scenarios) for cfg in folds}) == 7
    with pytest.raises(ValueError, match="model.tiny.bootstrap_scope='held_out' is not one of"):
        as_model_config(compose_train_config(["model.tiny.bootstrap_scope=held_out"]).model)


@pytest.mark.parametrize("held_out", ["CIT", "COCO", "IN-C"])
def test_grpo_rows_hold_no_held_out_row_nor_held_out_wording(held_out):
    cfg = fold_config(held_out, "data.diversity.paraphrase=true", "data.diversity.shuffle=true")
    rows = grpo_rows(cfg.data, small_synth_root() / "train", seed=0)
    assert held_out not in set(rows["scenario"]) and set(rows["scenario"]) == set(envs.SCENARIOS) - {held_out}
    forbidden = official_interventions(held_out)
    shown = {option for options in rows["options"] for option in options}
    assert not forbidden & shown
    assert not [text for text in forbidden for prompt in rows["prompt"] if text in user_text(prompt)]
    plain = grpo_rows(fold_config(held_out).data, small_synth_root() / "train", seed=0)
    assert len(plain) == len(rows)
    if held_out == "CIT":  # VSOD shares "Rewind the video." with CIT: only the paraphrase switch removes it
        assert forbidden & {option for options in plain["options"] for option in options}


def official_hints(scenario: str) -> set[str]:
    """The hint sentences the hint setting shows on a scenario's *test* episodes (read through ``envs``)."""
    name = envs.OFFICIAL_NAMES[scenario]
    root = small_synth_root() / "test"
    entries = [json.loads(line) for line in (root / f"{name}_preprocessed.jsonl").read_text().splitlines()]
    return {
        envs.make(scenario, e, root, hint=True).prompt[len(envs.make(scenario, e, root).prompt) + 1 :] for e in entries
    }


@pytest.mark.parametrize("held_out", ["VSOD", "COCO"])
def test_hinted_rows_show_their_own_scenarios_hint_as_the_hint_setting_does(held_out):
    cfg = fold_config(held_out, "data.diversity.hint_rate=1.0")
    rows = grpo_rows(cfg.data, small_synth_root() / "train", seed=0)
    plain = grpo_rows(fold_config(held_out).data, small_synth_root() / "train", seed=0)
    shown_hints = set()
    for row, before in zip(rows, plain, strict=True):
        question, hinted = user_text(before["prompt"]).split(MCQA_INSTRUCTION)[0], user_text(row["prompt"])
        assert hinted.startswith(question + " Hint: ") and row["options"] == before["options"]
        hint = hinted.split(MCQA_INSTRUCTION)[0][len(question) + 1 :]
        assert hint in official_hints(row["scenario"]), (row["scenario"], hint)
        assert hinted == user_text(before["prompt"]).replace(question, f"{question} {hint}", 1)
        shown_hints.add(hint)
    trained = set(envs.SCENARIOS) - {held_out}
    assert shown_hints == set().union(*(official_hints(s) for s in trained))  # COCO's zoom hint too, where trained
    assert not official_hints(held_out) & shown_hints  # the held-out scenario's hint never reaches GRPO


def test_hint_rate_hints_that_share_of_rows_and_zero_changes_nothing():
    half = grpo_rows(fold_config("COCO", "data.diversity.hint_rate=0.5").data, small_synth_root() / "train", seed=0)
    plain = grpo_rows(fold_config("COCO").data, small_synth_root() / "train", seed=0)
    hinted = sum(" Hint: " in user_text(prompt) for prompt in half["prompt"])
    assert 0.3 < hinted / len(half) < 0.7
    off = grpo_rows(fold_config("COCO", "data.diversity.hint_rate=0").data, small_synth_root() / "train", seed=0)
    assert off["prompt"] == plain["prompt"] and " Hint: " not in str(plain["prompt"])
    assert (
        row_hint("COCO", ["Move farther from the object.", "cat"])
        == "Hint: zooming out could help with classification."
    )


def test_base_and_grpo_rows_read_the_train_split_only(tmp_path):
    """Without any test episode on disk, the base builds and the GRPO rows load: neither reads them."""
    only_train = tmp_path / "synth"
    shutil.copytree(small_synth_root() / "train", only_train / "train")
    shutil.copy(small_synth_root() / "manifest.json", only_train / "manifest.json")
    cfg = fold_config("COCO", "data.diversity.paraphrase=true")
    assert len(grpo_rows(cfg.data, only_train / "train", seed=0)) > 0
    model = small_tiny_config(tmp_path / "models", bootstrap_steps=2, bootstrap_eval_size=2)
    built = ensure_tiny_model(model, only_train / "train", scenarios=["ROD"])
    info = read_build_info(built)
    assert info["scenarios"] is None, "the default base reads every scenario's train rows"
    assert info["data"].startswith(f"path:{(only_train / 'train').resolve()}:")


def test_diversified_row_is_judged_like_the_original():
    rows = load_train_split(small_synth_root() / "train", scenarios=["IN-C", "ROD", "COCO"])
    rows = rows.filter(lambda state: state == "ambiguous", input_columns="state")
    settings = DiversitySettings(paraphrase=True, shuffle=True)
    rng = random.Random(0)
    changed = 0
    for row in rows.select_columns(["prompt", "options", "proactive_actions", "ground_truth", "qwen_delta"]):
        new = {**row, **diversify(row, settings, rng)}
        changed += new["options"] != row["options"]
        question = make_question(new["options"], new["proactive_actions"], new["ground_truth"])
        assert question is not None and sorted(new["options"]) != [] and len(new["options"]) == len(row["options"])
        text = user_text(new["prompt"])
        for index, option in enumerate(new["options"]):
            assert f"{chr(65 + index)}. {option}\n" in text  # the prompt lists the displayed options in order
        for action in new["proactive_actions"]:
            letter = chr(65 + new["options"].index(action))
            assert classify(action, question).kind == "intervention"
            assert classify(letter, question).kind == "intervention"
            assert action in TRAIN_PARAPHRASES or action in {p for ps in TRAIN_PARAPHRASES.values() for p in ps}
        for old in set(row["options"]) - set(new["options"]):  # a replaced official text is not valid any more
            assert classify(old, question).kind != "intervention"
        assert classify(new["ground_truth"], question).kind == "correct"
        assert {item["key"] for item in new["qwen_delta"]} <= set(new["options"])
    assert changed > len(rows) // 2


def test_training_and_evaluation_wordings_are_disjoint():
    train = {text for texts in TRAIN_PARAPHRASES.values() for text in texts} | set(TRAIN_PARAPHRASES)
    assert set(EVAL_PARAPHRASES) == set(TRAIN_PARAPHRASES)
    assert not train & set(EVAL_PARAPHRASES.values())
    assert len(set(EVAL_PARAPHRASES.values())) == len(EVAL_PARAPHRASES)
    assert not [text for text in train | set(EVAL_PARAPHRASES.values()) if is_abstain_option(text)]


@pytest.mark.parametrize("scenario", envs.SCENARIOS)
def test_paraphrased_env_accepts_the_paraphrase_and_its_letter_for_the_same_action_and_nothing_else(scenario):
    from proactive_rl.evaluation.wording import ParaphrasedEnv

    root = small_synth_root() / "test"
    entry = envs.load_entries(scenario, root, filter=True)[0]

    def first_step(answer: str, paraphrased: bool):
        env = envs.make(scenario, entry, root)
        env = ParaphrasedEnv(env) if paraphrased else env
        observation, _ = env.reset()
        next_observation, _, terminated, _, info = env.step(answer)
        path = None if next_observation is None else next_observation.get("image_path")
        return observation, (info["outcome"].kind, terminated, path)

    plain, _ = first_step("A", paraphrased=False)
    shown, _ = first_step("A", paraphrased=True)
    assert len(shown["options"]) == len(plain["options"]) and shown["prompt"] == plain["prompt"]
    replaced = 0
    for index, (official, text) in enumerate(zip(plain["options"], shown["options"], strict=True)):
        expected = first_step(official, paraphrased=False)[1]
        assert first_step(text, paraphrased=True)[1] == expected, (official, text)
        assert first_step(chr(65 + index), paraphrased=True)[1] == expected
        if text != official:
            replaced += 1
            assert text == EVAL_PARAPHRASES[official] and official not in entry["categories"]
            assert first_step(official, paraphrased=True)[1][0] == "invalid", "the official text is not shown"
        else:
            assert official in entry["categories"] or is_abstain_option(official)
    assert replaced >= 1
