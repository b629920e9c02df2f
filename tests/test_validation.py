"""Bad settings fail at startup, in the config stage: a message naming key, value and what is allowed, no data
generated, no model built or loaded, no run folder left behind. CLI usage texts match their parsers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from proactive_rl.cli import COMMANDS
from proactive_rl.config import compose_train_config
from proactive_rl.train import train
from proactive_rl.validation import ConfigError, check_eval_config

REPO = Path(__file__).resolve().parent.parent

BAD_SETTINGS = [
    (["data.train_scenarios=[ROD,XYZ]"], "data.train_scenarios='XYZ': unknown scenario"),
    (["data.eval_scenarios=[COCO,coco2014]"], "data.eval_scenarios=['COCO', 'coco2014']: lists a scenario twice"),
    (["+eval.scenarios=[QDX]"], "eval.scenarios='QDX': unknown scenario"),
    (["experiment=leave_one_out", "held_out=NOPE"], "held_out='NOPE': unknown scenario"),
    (["trainer.learning_rate=-1"], "trainer.learning_rate=-1.0: expected a number in (0, 1]"),
    (["trainer.max_steps=0"], "trainer.max_steps=0: expected a number in [1, inf]"),
    (["trainer.temperature=0"], "trainer.temperature=0.0: expected a number in (0, inf]"),
    (["trainer.num_generations=1"], "trainer.num_generations=1: expected a number in [2, inf]"),
    (["trainer.num_generations=3"], "not a multiple of trainer.num_generations (3)"),
    (["trainer.loss_type=ppo"], "trainer.loss_type='ppo': expected one of"),
    (["peft.r=0"], "peft.r=0: expected a number in [1, inf]"),
    (["peft.alpha=0"], "peft.alpha=0: expected a number in (0, inf]"),
    (["data.informative_ratio=1.5"], "data.informative_ratio=1.5"),
    (["data.diversity.hint_rate=1.5"], "data.diversity.hint_rate=1.5: expected a number in [0, 1]"),
    (["trainer.rollout=episode", "data.diversity.hint_rate=0.5"], "data.diversity rewrites train rows"),
    (["data.name=proactivebench", "data.test_root=/nonexistent/pb"], "data.test_root='/nonexistent/pb'"),
    (["data.name=proactivebench", "data.test_root=/tmp"], "data.test_root='/tmp': lacks ChangeIt_preprocessed.jsonl"),
    (["model.name_or_path=/nonexistent/model"], "model.name_or_path=/nonexistent/model: no such folder"),
    (["model=qwen2_5_vl_3b"], "model.name_or_path=Qwen/Qwen2.5-VL-3B-Instruct: not a local folder, not in the hub"),
    (["eval=oeg", "eval.judge.name_or_path=Org/NoSuchJudge"], "eval.judge.name_or_path=Org/NoSuchJudge"),
    (["+eval.adapters.tuned=/nonexistent/adapter"], "eval.adapters.tuned=/nonexistent/adapter: no such folder"),
    (["reward.components=[correct_category,nope]"], "nope"),
    (["resume=true"], "resume=True: no checkpoints folder"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_SETTINGS, ids=[" ".join(o) for o, _ in BAD_SETTINGS])
def test_bad_setting_fails_in_the_config_stage_and_leaves_nothing(overrides, message, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run_dir, data_root, cache = tmp_path / "run", tmp_path / "data", tmp_path / "models"
    cfg = compose_train_config(
        [f"run_dir={run_dir}", f"data.root={data_root}", f"model.tiny.cache_dir={cache}", "logger=none", *overrides]
    )
    with pytest.raises(ConfigError) as raised:
        train(cfg)
    assert message in str(raised.value)
    # the data folder and the model cache are the first things the next stages write: neither was reached
    assert not run_dir.exists() and not data_root.exists() and not cache.exists()


def test_episode_rollouts_under_an_fsdp_launch_fail_in_the_config_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")  # what `accelerate launch` sets for an FSDP config
    run_dir = tmp_path / "run"
    cfg = compose_train_config([f"run_dir={run_dir}", f"data.root={tmp_path / 'data'}", "trainer.rollout=episode"])
    with pytest.raises(ConfigError, match="trainer.rollout='episode'.*not supported under FSDP"):
        train(cfg)
    assert not run_dir.exists()


def test_every_problem_is_reported_at_once(tmp_path):
    cfg = compose_train_config([f"run_dir={tmp_path / 'run'}", "trainer.learning_rate=0", "peft.r=0", "seed=1"])
    with pytest.raises(ConfigError) as raised:
        train(cfg)
    assert raised.value.problems == [
        "trainer.learning_rate=0.0: expected a number in (0, 1]",
        "peft.r=0: expected a number in [1, inf]",
    ]


def test_eval_config_checks_scenarios_and_model_before_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = compose_train_config(["eval.scenarios=[ROD,Nope]", "model=qwen2_5_vl_3b"], config_name="eval")
    with pytest.raises(ConfigError) as raised:
        check_eval_config(cfg)
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "model.name_or_path=Qwen/Qwen2.5-VL-3B-Instruct",
        "eval.scenarios='Nope'",
    ]


def test_command_line_config_error_is_one_message_and_no_folder(tmp_path):
    run_dir = tmp_path / "leave_one_out"
    result = subprocess.run(
        [sys.executable, "-m", "proactive_rl.cli", "train", "experiment=leave_one_out", "held_out=NOPE",
         f"run_dir={run_dir}/x"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "held_out='NOPE': unknown scenario" in result.stderr
    assert not run_dir.exists() and not (tmp_path / "outputs").exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_usage_text_matches_the_parser(name):
    command = COMMANDS[name]
    result = subprocess.run(
        [sys.executable, "-m", "proactive_rl.cli", name, "--help"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    printed = " ".join(result.stdout.split())
    if command.parser is not None:
        assert printed.startswith("usage: " + command.usage()), (printed[:300], command.usage())
    else:
        assert "override" in printed.lower() or "==" in printed, printed[:300]
    top = subprocess.run([sys.executable, "-m", "proactive_rl.cli", "--help"], capture_output=True, text=True)
    assert command.usage() in top.stdout
