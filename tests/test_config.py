"""Every config group option and experiment composes against the typed schema; bad configs fail early."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

from proactive_rl.config import CONF_DIR, compose_train_config, scenarios_except

GROUPS = ["model", "data", "reward", "peft", "trainer", "logger", "eval", "launcher"]


def _options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override", [f"{group}={name}" for group in GROUPS for name in _options(group)], ids=lambda override: override
)
def test_every_group_option_composes(override):
    cfg = compose_train_config([override])
    group, _ = override.split("=")
    if group != "launcher":  # launcher files only set hydra.launcher, which is not part of the job config
        assert cfg[group] is not None


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_every_experiment_composes(experiment):
    cfg = compose_train_config([f"experiment={experiment}"])
    assert cfg.run_dir
    assert list(cfg.data.eval_scenarios)


def test_each_group_has_options():
    for group in GROUPS + ["experiment"]:
        assert _options(group), f"conf/{group}/ has no yaml file"


def test_leave_one_out_trains_on_the_six_others():
    cfg = compose_train_config(["experiment=leave_one_out", "held_out=coco2014"])
    assert list(cfg.data.train_scenarios) == ["ROD", "VSOD", "MVP-N", "IN-C", "QD", "CIT"]
    assert "COCO" in list(cfg.data.eval_scenarios)


def test_leave_one_out_names_the_valid_scenarios_on_a_typo():
    with pytest.raises(Exception, match="ROD"):
        scenarios_except("COCOA")


@pytest.mark.parametrize(
    "override",
    ["trainer.max_step=3", "model.tiny.hiden=3", "peft.rank=4", "logger.projet=x", "not_a_key=1"],
)
def test_override_typo_fails_at_composition(override):
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_train_config([override])


def test_wrong_type_fails_at_composition():
    with pytest.raises((ConfigCompositionException, ValidationError)):
        compose_train_config(["trainer.max_steps=many"])


def test_unknown_group_option_lists_the_valid_ones():
    with pytest.raises(ConfigCompositionException, match="tiny"):
        compose_train_config(["model=tinyy"])


@pytest.mark.parametrize("mode", _options("eval"))
def test_eval_entry_composes(mode):
    cfg = compose_train_config([f"eval={mode}"], config_name="eval")
    assert cfg.eval.mode == mode
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_train_config(["eval.batchsize=4"], config_name="eval")
