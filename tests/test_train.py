"""The trainer end to end on the tiny model: GRPO steps, LoRA-only updates, resume, W&B offline, accelerate.

All runs share one small synthetic data set and one small tiny build (session fixtures), so each test pays only
for its own GRPO steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from proactive_rl.config import compose_train_config
from proactive_rl.train import train


@pytest.fixture(scope="session")
def shared_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train-shared")
    return {"data": root / "data", "models": root / "models"}


def small_overrides(shared: dict[str, Path], run_dir: Path, *extra: str) -> list[str]:
    """``debug=smoke`` (conf/debug/smoke.yaml) with the run folder and the caches of this test session."""
    return [
        "debug=smoke",
        f"run_dir={run_dir}",
        f"data.root={shared['data']}",
        f"model.tiny.cache_dir={shared['models']}",
        *extra,
    ]


@pytest.mark.slow
def test_grpo_steps_train_lora_only(shared_dirs, tmp_path):
    result = train(compose_train_config(small_overrides(shared_dirs, tmp_path / "run")))
    assert result.global_step == 2

    adapter = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    lora_b = {name: tensor for name, tensor in adapter.items() if "lora_B" in name}
    assert lora_b, "the adapter has no LoRA B matrices"
    assert any(tensor.abs().sum() > 0 for tensor in lora_b.values()), "LoRA B is still all zeros: nothing trained"
    assert not any("visual" in name for name in adapter), "the vision tower got adapters although it is frozen"

    from transformers import AutoModelForImageTextToText

    base = AutoModelForImageTextToText.from_pretrained(result.base_model_path)
    trained = result.trainer.model.get_base_model()
    base_params = dict(base.named_parameters())
    for name, param in trained.named_parameters():
        if "lora_" in name:
            continue
        original = base_params[name.replace(".base_layer", "")]
        assert torch.equal(param.detach(), original.detach()), f"base weight {name} changed"

    saved = (result.run_dir / "config.yaml").read_text()
    assert "max_steps: 2" in saved


@pytest.mark.slow
def test_resume_continues_from_last_checkpoint(shared_dirs, tmp_path):
    run_dir = tmp_path / "run"
    first = train(compose_train_config(small_overrides(shared_dirs, run_dir)))
    assert first.global_step == 2
    resumed = train(compose_train_config(small_overrides(shared_dirs, run_dir, "resume=true", "trainer.max_steps=4")))
    assert resumed.global_step == 4
    state = json.loads((run_dir / "checkpoints" / "checkpoint-4" / "trainer_state.json").read_text())
    logged_steps = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert logged_steps == [1, 2, 3, 4]  # steps 1-2 come from the checkpoint, 3-4 from the resumed run

    straight = train(compose_train_config(small_overrides(shared_dirs, tmp_path / "straight", "trainer.max_steps=4")))
    resumed_adapter = load_file(str(resumed.adapter_dir / "adapter_model.safetensors"))
    straight_adapter = load_file(str(straight.adapter_dir / "adapter_model.safetensors"))
    for name, tensor in straight_adapter.items():
        torch.testing.assert_close(resumed_adapter[name], tensor, msg=f"resumed run diverged at {name}")


def test_resume_without_checkpoint_names_the_folder(shared_dirs, tmp_path):
    with pytest.raises(ValueError, match="resume=True: no checkpoints folder in run_dir=.*empty"):
        train(compose_train_config(small_overrides(shared_dirs, tmp_path / "empty", "resume=true")))


def test_unknown_reward_fails_before_any_model_loads(tmp_path):
    models = tmp_path / "models"
    cfg = compose_train_config(
        [f"run_dir={tmp_path / 'run'}", f"model.tiny.cache_dir={models}", "reward.components=[correct_category,typo]"]
    )
    with pytest.raises(ValueError, match="valid_intervention"):
        train(cfg)
    assert not models.exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.tiny.bootstrap_ask_rate=1.5", "bootstrap_ask_rate must be null or within"),
        ("model.tiny.bootstrap_capability_fraction=0.99", "sum to at most 1"),
        ("+data.scenario_weights.INC=2", "data.scenario_weights: unknown ProactiveBench scenario 'INC'"),
        ("+data.scenario_weights.QD=-1", "data.scenario_weights.QD=-1.0: expected a finite number >= 0"),
    ],
)
def test_out_of_range_bootstrap_settings_fail_before_any_data_or_model(tmp_path, override, message):
    models, data = tmp_path / "models", tmp_path / "data"
    cfg = compose_train_config(
        [f"run_dir={tmp_path / 'run'}", f"model.tiny.cache_dir={models}", f"data.root={data}", override]
    )
    with pytest.raises(ValueError, match=message):
        train(cfg)
    assert not models.exists() and not data.exists()


@pytest.mark.slow
def test_wandb_offline_run_and_no_secret_in_files(shared_dirs, tmp_path, monkeypatch):
    secret = "test-secret-key-0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("WANDB_API_KEY", secret)
    run_dir = tmp_path / "run"
    overrides = small_overrides(shared_dirs, run_dir, "logger=wandb", "logger.mode=offline", "trainer.max_steps=1")
    train(compose_train_config(overrides))

    runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, f"expected one offline W&B run in {run_dir / 'wandb'}"
    assert list(runs[0].glob("*.wandb")), "the offline run has no .wandb log"
    for path in run_dir.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert secret.encode() not in path.read_bytes(), f"the W&B API key leaked into {path}"
