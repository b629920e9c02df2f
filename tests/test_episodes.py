"""Episode GRPO: credit assignment and episode rewards pinned on hand-built episodes, the rollout against
evaluation, sampled log-probabilities against the training forward pass, and training runs (LoRA-only
updates, resume, two processes over gloo).

The fast tests use a random tiny Qwen2.5-VL whose answer letters are boosted, so that one-token answers
are mostly interventions and episodes run several turns (a few seconds in all); the runs through
``train`` share test_train.py's small data and bootstrapped model (about a minute for the module's slow tests).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _evaluation_helpers import make_test_root, tiny_vlm
from safetensors.torch import load_file
from test_train import shared_dirs, small_overrides  # noqa: F401  (shared_dirs is a session fixture)

import envs
from envs import EpisodeSummary
from proactive_rl.config import REPO_ROOT, compose_train_config
from proactive_rl.episodes import (
    EpisodeComponent,
    EpisodeSettings,
    RecordingPolicy,
    ScoredEpisode,
    discounted_returns,
    episode_trainer_class,
    load_episode_starts,
    turn_advantages,
)
from proactive_rl.evaluation import AbstainPolicy, EpisodeJob, HFPolicy, OraclePolicy, play_episodes
from proactive_rl.train import train
from rewards import episode_reward_setup, episode_rewards
from rewards.config import RewardConfig

TRAINED = ["ROD", "VSOD", "MVP-N", "IN-C", "QD"]


# ---- credit assignment -------------------------------------------------------------------------------------


def test_episode_credit_gives_every_turn_its_group_normalised_return():
    episodes = [
        ScoredEpisode(0, [0.0, 1.0], ["a", "b"]),  # return 1
        ScoredEpisode(0, [0.0], ["a"]),  # return 0
        ScoredEpisode(1, [0.5, 0.5, 0.5], ["x", "y", "z"]),  # group 1: one return, no spread
        ScoredEpisode(1, [1.5], ["x"]),
    ]
    advantages = turn_advantages(episodes, credit="episode")
    spread = math.sqrt(0.5)  # unbiased std of the returns {1, 0}
    assert advantages[0] == pytest.approx([0.5 / (spread + 1e-4)] * 2)
    assert advantages[1] == pytest.approx([-0.5 / (spread + 1e-4)])
    assert advantages[2] == pytest.approx([0.0] * 3)  # both group-1 episodes return 1.5
    assert advantages[3] == pytest.approx([0.0])
    centred = turn_advantages(episodes, credit="episode", scale="none")
    assert centred[0] == pytest.approx([0.5, 0.5]) and centred[1] == pytest.approx([-0.5])


def test_gigpo_adds_step_advantages_of_turns_from_the_same_state():
    gamma = 0.5
    episodes = [
        ScoredEpisode("g", [0.0, 1.0], ["s0", "s1"]),  # asks, then answers right: return 1
        ScoredEpisode("g", [0.5], ["s0"]),  # answers at once: return 0.5
        ScoredEpisode("g", [0.0, 0.0], ["s0", "s2"]),  # asks the other way, then fails: return 0
        ScoredEpisode("h", [0.0, 7.0], ["s0", "s1"]),  # same state keys in another group: not pooled
    ]
    advantages = turn_advantages(episodes, credit="gigpo", scale="none", step_weight=2.0, discount=gamma)
    # episode term (centred over group g's returns 1, 0.5, 0); step term at s0: returns 0.5, 0.5, 0 (mean 1/3)
    assert advantages[0] == pytest.approx([0.5 + 2 * (0.5 - 1 / 3), 0.5])  # s1 is reached once: no step term
    assert advantages[1] == pytest.approx([0.0 + 2 * (0.5 - 1 / 3)])
    assert advantages[2] == pytest.approx([-0.5 + 2 * (0.0 - 1 / 3), -0.5])
    assert advantages[3] == pytest.approx([0.0, 0.0])  # alone in its group and in its step groups

    scaled = turn_advantages(episodes, credit="gigpo", scale="group", step_weight=1.0, discount=gamma)
    step_std = math.sqrt(((1 / 6) ** 2 * 2 + (1 / 3) ** 2) / 2)
    assert scaled[1] == pytest.approx([0.0 + (0.5 - 1 / 3) / (step_std + 1e-4)])


def test_step_credit_with_no_discount_judges_each_turn_by_its_own_reward_against_its_state():
    episodes = [
        ScoredEpisode("g", [0.4, 0.9], ["s0", "s1"]),  # asks (0.4), then answers right on s1 (0.9)
        ScoredEpisode("g", [-0.1], ["s0"]),  # guesses wrong at s0
        ScoredEpisode("g", [0.4, -0.1], ["s0", "s1"]),  # asks, then answers wrong on s1
    ]
    advantages = turn_advantages(episodes, credit="step", scale="none", discount=0.0)
    # s0: immediate rewards 0.4, -0.1, 0.4 (mean 0.7 / 3); s1: 0.9, -0.1 (mean 0.4); no episode term
    assert advantages[0] == pytest.approx([0.4 - 0.7 / 3, 0.5])
    assert advantages[1] == pytest.approx([-0.1 - 0.7 / 3])
    assert advantages[2] == pytest.approx([0.4 - 0.7 / 3, -0.5])


def test_failed_episodes_get_no_credit_and_leave_their_group_alone():
    episodes = [
        ScoredEpisode(0, [1.0], ["a"]),
        ScoredEpisode(0, None, ["a", "b"]),  # failed after two turns
        ScoredEpisode(0, [0.0], ["a"]),
    ]
    advantages = turn_advantages(episodes, credit="gigpo", scale="none", discount=1.0)
    assert advantages[1] == [0.0, 0.0]
    assert advantages[0] == pytest.approx([0.5 + 0.5]) and advantages[2] == pytest.approx([-0.5 - 0.5])


def test_discounted_returns_and_bad_modes():
    assert discounted_returns([1.0, 0.0, 2.0], 0.5) == pytest.approx([1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="trainer.credit='ppo'"):
        turn_advantages([], credit="ppo")
    with pytest.raises(ValueError, match="trainer.scale_rewards='all'"):
        turn_advantages([], scale="all")


# ---- episode rewards ---------------------------------------------------------------------------------------


def _summary(outcomes: list[str], end_reason: str) -> EpisodeSummary:
    actions = ["left"] * sum(kind == "intervention" for kind in outcomes)
    if end_reason in ("max_turns", "no_next_frame"):
        actions = actions[:-1]
    return EpisodeSummary(
        correct=end_reason == "correct",
        num_turns=len(outcomes),
        end_reason=end_reason,
        outcomes=outcomes,
        actions=actions,
    )


def test_default_episode_rewards_per_turn():
    names, weights = episode_reward_setup(RewardConfig())
    asked_twice, totals = episode_rewards(
        _summary(["intervention", "intervention", "correct"], "correct"), names, weights
    )
    assert asked_twice == pytest.approx([-0.05, -0.05, 0.9])
    assert totals == {
        "episode_correct": 1.0,
        "episode_intervention": 2.0,
        "episode_turn": 3.0,
        "episode_turn_cap": 0.0,
        "episode_invalid": 0.0,
    }
    capped, totals = episode_rewards(_summary(["intervention"] * 3, "max_turns"), names, weights)
    assert capped == pytest.approx([-0.05, -0.05, -0.6]) and totals["episode_turn_cap"] == 1.0
    invalid, _ = episode_rewards(_summary(["invalid"], "invalid"), names, weights)
    assert invalid == pytest.approx([-0.6])


def test_useful_intervention_credits_asks_of_correct_episodes_only():
    names = ["episode_correct", "episode_useful_intervention", "episode_turn"]
    weights = [1.0, 0.5, -0.1]
    right, totals = episode_rewards(_summary(["intervention", "intervention", "correct"], "correct"), names, weights)
    assert right == pytest.approx([0.4, 0.4, 0.9]) and totals["episode_useful_intervention"] == 2.0
    wrong, totals = episode_rewards(_summary(["intervention", "intervention", "wrong"], "wrong"), names, weights)
    assert wrong == pytest.approx([-0.1, -0.1, -0.1]) and totals["episode_useful_intervention"] == 0.0
    capped, _ = episode_rewards(_summary(["intervention"] * 3, "max_turns"), names, weights)
    assert capped == pytest.approx([-0.1, -0.1, -0.1])


def test_episode_reward_config_errors_name_the_key():
    with pytest.raises(ValueError, match="unknown episode reward component"):
        episode_reward_setup(RewardConfig(episode_components=["episode_correct", "correct_category"]))
    with pytest.raises(
        ValueError, match="reward.episode_weights.episode_intervention must be a finite number, got None"
    ):
        episode_reward_setup(RewardConfig(episode_weights={"episode_correct": 1.0}))


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return make_test_root(tmp_path_factory.mktemp("episodes") / "data", per_scenario=3).parent


def _returns(root: Path, policy, scenarios) -> dict:
    names, weights = episode_reward_setup(RewardConfig())
    jobs = [EpisodeJob(s, entry) for s in scenarios for entry in envs.load_entries(s, root / "test")]
    made = {}

    def make_env(job):
        made[(job.scenario, job.id)] = env = envs.make(job.scenario, job.entry, root / "test")
        return env

    list(play_episodes(policy, jobs, make_env, 8))
    return {key: sum(episode_rewards(env.summary, names, weights)[0]) for key, env in made.items()}


def test_asking_only_as_often_as_needed_then_answering_right_is_the_best_return(data_root):
    exact = _returns(data_root, OraclePolicy(interventions=0), TRAINED)  # answers as soon as it can: all correct
    extra = _returns(data_root, OraclePolicy(interventions=3), TRAINED)  # asks up to 3 more times first
    abstain = _returns(data_root, AbstainPolicy(), TRAINED)
    assert all(value > 0.5 for value in exact.values())
    assert all(extra[key] <= exact[key] + 1e-9 and abstain[key] < exact[key] for key in exact)
    assert sum(extra[key] < exact[key] - 1e-9 for key in exact) >= len(exact) // 2  # extra asks cost


# ---- rollouts and the training forward pass (random tiny VLM) ----------------------------------------------


def _boosted_tiny():
    """A random tiny VLM whose one-token answers are mostly the letters A and B (interventions come first)."""
    model, processor = tiny_vlm()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2:
                parameter.normal_(0, 0.3, generator=generator)
        ids = [processor.tokenizer.convert_tokens_to_ids(letter) for letter in "AB"]
        model.lm_head.weight[ids] += 200 * model.lm_head.weight.mean(0)
    return model, processor


@pytest.fixture(scope="module")
def trainer(data_root, tmp_path_factory):
    from trl import GRPOConfig

    from proactive_rl.grpo import build_lora_config
    from proactive_rl.settings import LoraSettings

    model, processor = _boosted_tiny()
    names, weights = episode_reward_setup(RewardConfig())
    starts = load_episode_starts(data_root / "train_episodes", TRAINED)
    config = GRPOConfig(
        output_dir=str(tmp_path_factory.mktemp("episode-trainer")),
        use_cpu=True,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=1,
        max_steps=1,
        learning_rate=5e-3,
        report_to="none",
        remove_unused_columns=False,
        save_strategy="no",
        logging_steps=1,
        loss_type="dapo",
        bf16=False,  # GRPOConfig's default is bf16 autocast, also on CPU
        seed=0,
    )
    return episode_trainer_class()(
        model=model,
        processing_class=processor,
        reward_funcs=[EpisodeComponent(name) for name in names],
        args=config,
        train_dataset=starts,
        peft_config=build_lora_config(LoraSettings()),
        episode=EpisodeSettings(components=tuple(names), weights=tuple(weights), history=True, max_turns=4),
    )


def _rows(data_root: Path, copies: int = 1) -> list[dict]:
    starts = load_episode_starts(data_root / "train_episodes", TRAINED)
    return [row for row in starts for _ in range(copies)]


def test_greedy_rollout_through_the_training_path_matches_evaluation(trainer, data_root, monkeypatch):
    monkeypatch.setattr(trainer, "episode", dataclasses.replace(trainer.episode, max_turns=None))  # eval's caps
    rows = _rows(data_root)
    greedy = RecordingPolicy(None, trainer.processing_class, max_new_tokens=1, eos_token_ids=trainer.eos_token_ids)
    rollouts = trainer.play(rows, greedy)
    evaluation = HFPolicy(trainer.model, trainer.processing_class, max_new_tokens=1)
    jobs = [EpisodeJob(row["scenario"], json.loads(row["entry"])) for row in rows]
    root = data_root / "train_episodes"
    records = list(play_episodes(evaluation, jobs, lambda job: envs.make(job.scenario, job.entry, root), 3, True))
    expected = sorted(
        (r["scenario"], str(r["id"]), r["correct"], r["num_turns"], tuple(r["answers"])) for r in records
    )
    played = sorted(
        (r.start.scenario, r.start.id, r.summary.correct, r.summary.num_turns, tuple(r.summary.answers))
        for r in rollouts
    )
    assert played == expected
    assert sum(r.summary.num_turns for r in rollouts) > 1.5 * len(rollouts)  # multi-turn episodes were played
    assert all(len(r.turns) == r.summary.num_turns for r in rollouts)


@pytest.fixture(scope="module")
def sampled(trainer, data_root):
    torch.manual_seed(0)
    policy = trainer.sampling_policy(None)
    rollouts = trainer.play(_rows(data_root, copies=2), policy)
    turns = [turn for rollout in rollouts for turn in rollout.turns]
    return policy, rollouts, turns


def test_recorded_logprobs_equal_the_training_forward_pass(trainer, sampled):
    policy, rollouts, turns = sampled
    batch = trainer.turn_batch(policy, turns)
    assert max(batch["num_images"]) > 1  # history: earlier frames are in the prompt
    assert len({r.summary.outcomes[-1] for r in rollouts}) > 1  # different endings
    with torch.no_grad():
        logps = trainer.turn_logps(trainer.model, batch)
    mask = batch["completion_mask"].bool()
    ratio = torch.exp(logps - batch["sampling_per_token_logps"])[mask]
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-4), ratio


def test_a_turns_image_reaches_its_logprob(trainer, sampled):
    from PIL import Image

    policy, _, turns = sampled
    single = [t for t in turns if len(t.conversation.images) == 1]
    turn = min(single, key=lambda t: t.logprobs[0])  # the least certain answer: most room to move
    blank = copy.copy(turn)
    blank.conversation = copy.copy(turn.conversation)
    blank.conversation.images = [Image.new("RGB", turn.conversation.images[0].size, "black")]
    with torch.no_grad():
        same = trainer.turn_logps(trainer.model, trainer.turn_batch(policy, [turn, turn]))
        changed = trainer.turn_logps(trainer.model, trainer.turn_batch(policy, [turn, blank]))
    assert torch.equal(same[0], same[1])
    assert (changed[0] - changed[1]).abs().max() > 1e-4


def test_one_episode_step_trains_lora_only(trainer):
    model = trainer.model
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    trainer.train()
    assert trainer.state.global_step == 1
    lora = [name for name in before if "lora_B" in name]
    assert lora and any(not torch.equal(before[name], dict(model.named_parameters())[name]) for name in lora)
    for name, param in model.named_parameters():
        if "lora_" not in name:
            assert torch.equal(param.detach(), before[name]), f"base weight {name} changed"
    logged = trainer.state.log_history[0]
    assert logged["episodes/turn_rows"] > logged["episodes/turns"]  # more turn rows than episodes' mean length
    assert logged["episodes/turn_cap"] > 0  # the cap lowered by trainer.episode_max_turns ended some episodes


def test_kl_reference_is_the_base_model_on_the_same_turn_rows(trainer, sampled, data_root, monkeypatch):
    policy, _, turns = sampled
    batch = trainer.turn_batch(policy, turns)
    lora = {name: param for name, param in trainer.model.named_parameters() if "lora_B" in name}
    saved = {name: param.detach().clone() for name, param in lora.items()}
    try:
        with torch.no_grad():  # an adapter that has moved away from the base
            for param in lora.values():
                param.add_(0.5 * torch.randn_like(param))
            policy_logps = trainer.turn_logps(trainer.model, batch)
        reference = trainer.reference_logps(batch)
        base, _ = _boosted_tiny()  # the same base weights, built again, no adapter: a plain forward pass
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        length = batch["completion_ids"].size(1)
        with torch.no_grad():
            logits = base(
                input_ids=ids,
                attention_mask=torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1),
                pixel_values=batch["pixel_values"],
                image_grid_thw=batch["image_grid_thw"],
                **{key: batch[key] for key in ("token_type_ids", "mm_token_type_ids") if key in batch},
            ).logits[:, -length - 1 : -1]  # TRL scores at the sampling temperature
        expected = (
            (logits / trainer.temperature)
            .log_softmax(-1)
            .gather(-1, batch["completion_ids"].unsqueeze(-1))
            .squeeze(-1)
        )
        mask = batch["completion_mask"].bool()
        assert torch.allclose(reference[mask], expected[mask], atol=1e-5)
        assert (reference[mask] - policy_logps[mask]).abs().max() > 1e-3
        monkeypatch.setattr(trainer, "beta", 0.04)
        torch.manual_seed(2)
        scored = trainer._generate_and_score_completions(_rows(data_root))
        assert scored["ref_per_token_logps"].shape == scored["completion_ids"].shape
    finally:
        with torch.no_grad():
            for name, param in lora.items():
                param.copy_(saved[name])


def test_turn_rows_pad_to_whole_slices_with_masked_copies(trainer, data_root, monkeypatch):
    # Every process must hand TRL the same number of rows, a multiple of steps_per_generation: padding rows
    # are copies of the last turn that carry no loss (zero mask, zero advantage), and no turn is dropped.
    rows = _rows(data_root)
    slices = 4 * len(rows) + 1  # more than the turns the rows can play under max_turns=4
    monkeypatch.setattr(trainer.args, "steps_per_generation", slices)
    before = trainer.turns_generated
    torch.manual_seed(1)
    batch = trainer._generate_and_score_completions(rows)
    played = trainer.turns_generated - before
    assert 0 < played < slices
    assert batch["completion_ids"].size(0) == batch["prompt_ids"].size(0) == slices
    mask, advantages = batch["completion_mask"], batch["advantages"]
    assert mask[:played].sum(dim=1).min() > 0 and mask[played:].sum() == 0
    assert torch.all(advantages[played:] == 0)
    assert len(batch["num_images"]) == slices
    assert batch["num_items_in_batch"].item() == mask.sum().item()


# ---- part-way starts (trainer.episode_partway) -------------------------------------------------------------


def test_partway_start_plays_from_the_frame_after_the_skipped_right_moves(data_root):
    from proactive_rl.episodes.curriculum import PartwayEnv, right_moves

    root = data_root / "train_episodes"
    skipped_some = 0
    for scenario in TRAINED:
        for entry in envs.load_entries(scenario, root, filter=False):
            moves = right_moves(envs.make(scenario, entry, root))
            wrapped = PartwayEnv(envs.make(scenario, entry, root), fraction=1.0)
            assert wrapped.skipped == len(moves)
            observation, _ = wrapped.reset()
            replay = envs.make(scenario, entry, root)
            replay.reset()
            for move in moves:
                assert not replay.step(move)[2]
            assert observation["image_path"] == replay.image_path
            _, reward, terminated, _, _ = wrapped.step(wrapped.correct_categories()[0])
            assert terminated and reward == 1.0
            summary = wrapped.summary
            assert (summary.num_turns, summary.outcomes, summary.actions) == (1, ["correct"], [])
            assert wrapped._env.summary.num_turns == len(moves) + 1  # the environment counted every turn
            skipped_some += bool(moves)
    assert skipped_some > len(TRAINED)


def test_partway_draws_agree_within_a_group_and_cover_every_skip():
    from proactive_rl.episodes.curriculum import partway_fraction, skipped_moves

    assert all(partway_fraction(0, step, group, 0.0) == 0.0 for step in range(5) for group in range(5))
    assert partway_fraction(3, 7, 11, 0.5) == partway_fraction(3, 7, 11, 0.5)
    draws = [partway_fraction(0, 0, group, 0.5) for group in range(4000)]
    assert 0.45 < sum(d > 0 for d in draws) / len(draws) < 0.55
    assert all(0.0 < d <= 1.0 for d in draws if d > 0)
    skips = [skipped_moves(d, 4) for d in draws if d > 0]
    assert {1, 2, 3, 4} == set(skips) and max(skips.count(k) for k in range(1, 5)) < 1.3 * min(
        skips.count(k) for k in range(1, 5)
    )
    assert skipped_moves(0.0, 4) == 0 and skipped_moves(1.0, 0) == 0


def test_partway_groups_start_together_and_count_only_the_policys_turns(trainer, data_root, monkeypatch):
    monkeypatch.setattr(trainer, "episode", dataclasses.replace(trainer.episode, partway=1.0))
    torch.manual_seed(2)
    rollouts = trainer.play(_rows(data_root, copies=trainer.num_generations))
    groups: dict[int, set[int]] = {}
    for rollout in rollouts:
        groups.setdefault(rollout.start.index // trainer.num_generations, set()).add(rollout.skipped)
        assert len(rollout.turns) == rollout.summary.num_turns
    assert all(len(skips) == 1 for skips in groups.values())
    assert sum(next(iter(skips)) > 0 for skips in groups.values()) > len(groups) // 2


# ---- through `train`: resume and two processes ------------------------------------------------------------


def _episode_overrides(shared, run_dir: Path, *extra: str) -> list[str]:
    return small_overrides(shared, run_dir, "trainer.rollout=episode", "trainer.episode_history=true", *extra)


@pytest.mark.slow
def test_episode_training_resumes(shared_dirs, tmp_path):  # noqa: F811
    run_dir = tmp_path / "run"
    first = train(compose_train_config(_episode_overrides(shared_dirs, run_dir)))
    assert first.global_step == 2
    resumed = train(
        compose_train_config(_episode_overrides(shared_dirs, run_dir, "resume=true", "trainer.max_steps=3"))
    )
    assert resumed.global_step == 3
    counted = json.loads((run_dir / "checkpoints" / "checkpoint-2" / "episode_state.json").read_text())
    assert 0 < counted["turns_generated"] < resumed.trainer.turns_generated  # the turn count carries on
    straight = train(
        compose_train_config(_episode_overrides(shared_dirs, tmp_path / "straight", "trainer.max_steps=3"))
    )
    resumed_adapter = load_file(str(resumed.adapter_dir / "adapter_model.safetensors"))
    straight_adapter = load_file(str(straight.adapter_dir / "adapter_model.safetensors"))
    for name, tensor in straight_adapter.items():
        torch.testing.assert_close(resumed_adapter[name], tensor, msg=f"resumed run diverged at {name}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("launch_config", "backend", "extra"),
    [("cpu_ddp.yaml", "MULTI_CPU", []), ("zero3.yaml", "DEEPSPEED", ["trainer.episode_partway=0.5"])],
    ids=["ddp", "zero3-partway"],
)
def test_episode_training_on_two_cpu_processes(shared_dirs, tmp_path, launch_config, backend, extra):  # noqa: F811
    if backend == "DEEPSPEED":
        pytest.importorskip("deepspeed", reason="deepspeed is in the dev extra: pip install -e '.[dev]'")
    # Build data and tiny model first (or reuse them), so the two processes only train.
    train(compose_train_config(_episode_overrides(shared_dirs, tmp_path / "warm", "trainer.max_steps=1")))
    run_dir = tmp_path / "run"
    overrides = _episode_overrides(shared_dirs, run_dir, "trainer.per_device_train_batch_size=2", *extra)
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(REPO_ROOT / "launch" / "accelerate" / launch_config),
        "--num_processes", "2", "--mixed_precision", "no",
        "-m", "proactive_rl.train", *overrides,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    state = json.loads((run_dir / "checkpoints" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert "GRPO on 2 process(es)" in done.stdout
    assert all("episodes/turns" in entry for entry in state["log_history"] if "loss" in entry)
    ranks = [json.loads((run_dir / "distributed" / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [record["distributed_type"] for record in ranks] == [backend, backend]


def test_episode_settings_stay_out_of_grpo_config(tmp_path):
    from proactive_rl.grpo import build_grpo_config

    overrides = ["trainer.rollout=episode", "trainer.episode_turn_budget=64", "trainer.episode_partway=0.5"]
    cfg = compose_train_config([f"run_dir={tmp_path}", *overrides])
    args = build_grpo_config(cfg, tmp_path, [], [1.0])
    assert (
        not hasattr(args, "episode_turn_budget")
        and not hasattr(args, "episode_partway")
        and args.num_generations == cfg.trainer.num_generations
    )
    with pytest.raises(ValueError, match="trainer.episode_max_turns=0"):
        train(compose_train_config([f"run_dir={tmp_path}", "trainer.rollout=episode", "trainer.episode_max_turns=0"]))
    with pytest.raises(ValueError, match=r"trainer.episode_partway=1.5: expected a share in \[0, 1\]"):
        train(compose_train_config([f"run_dir={tmp_path}", "trainer.rollout=episode", "trainer.episode_partway=1.5"]))
    with pytest.raises(ValueError, match="trainer.rollout='episodes'"):
        train(compose_train_config([f"run_dir={tmp_path}", "trainer.rollout=episodes"]))
