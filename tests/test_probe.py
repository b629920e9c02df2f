"""The base probe: per-scenario recognition, capability and asking of a model on train-format rows."""

from __future__ import annotations

import json

import pytest
from _model_helpers import tiny_model_path, toy_train_rows  # noqa: F401 (fixture)

from proactive_rl.tiny.probe import FIELDS, main, probe_rows


def test_probe_rows_draw_each_state_of_each_scenario_without_repeats():
    rows = toy_train_rows(40)
    states = rows["state"]
    informative, ambiguous = probe_rows(rows, per_scenario=8)["ROD"]
    assert len(informative) == len(set(informative)) == 8
    assert len(ambiguous) == len(set(ambiguous)) == 8
    assert all(states[i] == "informative" for i in informative)
    assert all(states[i] == "ambiguous" for i in ambiguous)
    # more than a scenario holds: all of them, once
    informative, ambiguous = probe_rows(rows, per_scenario=100)["ROD"]
    assert len(informative) == 20 and len(ambiguous) == 20
    assert probe_rows(rows, 8, seed=1) != probe_rows(rows, 8, seed=2)


def test_probe_rows_name_the_missing_column():
    rows = toy_train_rows(8).remove_columns("state")
    with pytest.raises(ValueError, match="'state' column"):
        probe_rows(rows, 4)


def test_probe_cli_measures_every_scenario(tiny_model_path, tmp_path, capsys):  # noqa: F811
    rows = toy_train_rows(24)
    rows.save_to_disk(str(tmp_path / "rows"))
    out = tmp_path / "probe.json"
    results = main([str(tiny_model_path), str(tmp_path / "rows"), "--per-scenario", "4", "--json", str(out)])
    assert json.loads(out.read_text()) == results
    assert list(results) == ["ROD"]
    figures = results["ROD"]
    assert set(figures) == set(FIELDS)
    assert figures["informative"] == figures["ambiguous"] == 4
    for key in ("recognition", "capability", "ask_rate", "ambiguous_accuracy"):
        assert 0.0 <= figures[key] <= 1.0
    # an answer on an ambiguous frame is an ask or a category, never both
    assert figures["ask_rate"] + figures["ambiguous_accuracy"] <= 1.0
    assert "| ROD |" in capsys.readouterr().out


def test_probe_cli_names_a_missing_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere"), str(tmp_path)])
    assert "model:" in capsys.readouterr().err
