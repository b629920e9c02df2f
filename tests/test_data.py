"""The data config group and loaders: one code path for real and synthetic data, clear errors on bad input."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import datasets
import pytest
from _synth_helpers import SMALL, small_synth_root

import envs
from envs import infer_scenario
from proactive_rl.data import (
    HUB_TRAIN_ID,
    DataConfig,
    load_train_split,
    prepare_data,
    rebalance_scenarios,
    scenario_shares,
)
from proactive_rl.synth.cache import GENERATOR_VERSION, MANIFEST, config_hash, generation_config, synthetic_root


def test_default_root_is_named_by_the_generation_fields_only():
    base = DataConfig()
    assert synthetic_root(base).name == f"synth-{config_hash(base)}"
    assert config_hash(replace(base, num_workers=7, train_scenarios=["ROD"])) == config_hash(base)
    for change in ({"seed": 1}, {"train_rows": 10}, {"image_size": 56}, {"informative_ratio": 0.3}):
        assert config_hash(replace(base, **change)) != config_hash(base)
    assert generation_config(base)["generator_version"] == GENERATOR_VERSION


def test_default_split_holds_out_cit_and_coco():
    config = DataConfig()
    assert set(config.eval_scenarios) == set(envs.SCENARIOS)
    assert set(config.eval_scenarios) - set(config.train_scenarios) == {"CIT", "COCO"}


def test_prepare_synthetic_reuses_a_matching_folder_and_rejects_a_different_one(tmp_path):
    root = tmp_path / "synth"
    shutil.copytree(small_synth_root(), root)
    config = replace(SMALL, root=str(root))
    before = (root / MANIFEST).stat().st_mtime_ns
    paths = prepare_data(config)
    assert paths.test_root == root / "test" and paths.train_source == str(root / "train")
    assert (root / MANIFEST).stat().st_mtime_ns == before  # not regenerated
    with pytest.raises(ValueError, match="data.root"):
        prepare_data(replace(config, seed=SMALL.seed + 1))


def test_prepare_synthetic_generates_when_missing_and_refuses_a_foreign_folder(tmp_path):
    config = DataConfig(seed=5, test_per_scenario=1, train_rows=7, num_workers=1, root=str(tmp_path / "new"))
    paths = prepare_data(config)
    manifest = json.loads((tmp_path / "new" / MANIFEST).read_text())
    assert manifest["config"]["seed"] == 5 and manifest["train_rows"] == 7
    assert len(envs.load_entries("COCO", paths.test_root)) == 1
    assert not list(tmp_path.glob(".new.partial-*"))  # the staging folder was renamed into place

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a dataset")
    with pytest.raises(FileExistsError, match="data.root"):
        prepare_data(replace(config, root=str(foreign)))


def test_prepare_real_data_names_the_config_key_on_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="data.test_root"):
        prepare_data(DataConfig(name="proactivebench"))
    with pytest.raises(FileNotFoundError, match="data.test_root"):
        prepare_data(DataConfig(name="proactivebench", test_root=str(tmp_path / "absent")))
    with pytest.raises(FileNotFoundError, match="ChangeIt_preprocessed.jsonl"):
        prepare_data(DataConfig(name="proactivebench", test_root=str(tmp_path)))
    with pytest.raises(ValueError, match="data.name"):
        prepare_data(DataConfig(name="imagenet"))


def test_prepare_real_data_accepts_an_official_format_folder():
    test_root = small_synth_root() / "test"
    paths = prepare_data(DataConfig(name="proactivebench", test_root=str(test_root)))
    assert paths.test_root == test_root and paths.train_source == HUB_TRAIN_ID
    local = prepare_data(
        DataConfig(name="proactivebench", test_root=str(test_root), train_source=str(small_synth_root() / "train"))
    )
    assert local.train_source == str(small_synth_root() / "train")
    with pytest.raises(FileNotFoundError, match="data.train_source"):
        prepare_data(DataConfig(name="proactivebench", test_root=str(test_root), train_source="/no/such/dir/train"))


def test_scenario_filter_accepts_both_spellings_and_rejects_unknown_names():
    source = small_synth_root() / "train"
    short = load_train_split(source, ["ROD", "CIT"])
    official = load_train_split(source, ["Realistic-Occlusion-Dataset", "ChangeIt"])
    assert set(short["scenario"]) == {"ROD", "CIT"} and short["prompt"] == official["prompt"]
    with pytest.raises(ValueError, match="valid names"):
        load_train_split(source, ["ImageNet"])


def test_parquet_without_scenario_column_goes_through_the_same_loader_and_inference(tmp_path):
    rows = load_train_split(small_synth_root() / "train")
    rows.remove_columns(["scenario"]).to_parquet(str(tmp_path / "train.parquet"))
    reloaded = load_train_split(tmp_path / "train.parquet")
    assert reloaded["prompt"] == rows["prompt"]
    checked = 0
    for truth, inferred, options in zip(rows["scenario"], reloaded["scenario"], rows["options"], strict=True):
        shows_intervention = len(options) > 4 and any(
            "cannot" not in o.lower() and "do not" not in o.lower() for o in options[:-4]
        )
        if shows_intervention:
            assert inferred == truth, options
            checked += 1
        else:
            assert inferred == "unknown"  # a category-only turn names no scenario
    assert checked >= 0.8 * len(rows)
    folder = tmp_path / "parquet_folder"
    folder.mkdir()
    shutil.copy(tmp_path / "train.parquet", folder / "part-0.parquet")
    assert set(load_train_split(folder, ["VSOD"])["scenario"]) == {"VSOD"}


@pytest.mark.parametrize(
    ("options", "scenario"),
    [
        (["Move the occluding object to the left.", "I cannot answer."], "ROD"),
        (["Rewind the video.", "Wait for the occlusion to disappear."], "VSOD"),
        (["Rewind the video."], "CIT"),
        (["Wait for the action to start."], "CIT"),
        (["Change the viewpoint."], "MVP-N"),
        (["Denoise the image.", "I do not know."], "IN-C"),
        (["Add more details."], "QD"),
        (["Move the camera up."], "COCO"),
        (["Move farther from the object."], "COCO"),
        (["I cannot tell."], None),
        ([], None),
    ],
)
def test_infer_scenario_rules(options, scenario):
    categories = ["triangle", "camera", "drawing", "rotated view"]  # category words never count
    assert infer_scenario(options + categories) == scenario


def test_missing_sources_fail_clearly(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_train_split(tmp_path / "nothing" / "here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="parquet"):
        load_train_split(tmp_path / "empty")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="data.train_source"):
        load_train_split("someone/not-a-local-folder")


def test_both_yaml_files_compose_and_the_composed_group_drives_prepare_data(tmp_path):
    from proactive_rl.config import compose_train_config

    real = compose_train_config(["data=proactivebench"]).data
    assert real.name == "proactivebench" and real.train_source == HUB_TRAIN_ID and real.test_root is None
    overrides = [
        f"data.root={tmp_path / 'synth'}",
        "data.test_per_scenario=1",
        "data.train_rows=7",
        "data.num_workers=1",
    ]
    composed = compose_train_config(overrides).data
    assert list(composed.train_scenarios) == DataConfig().train_scenarios
    paths = prepare_data(composed)  # a DictConfig, as the CLI passes it
    assert len(load_train_split(paths.train_source, composed.train_scenarios)) == 5


def _scenario_rows(counts: dict[str, int]):
    return datasets.Dataset.from_dict(
        {
            "scenario": [name for name, count in counts.items() for _ in range(count)],
            "row": [f"{name}-{i}" for name, count in counts.items() for i in range(count)],
        }  # fmt: skip
    )


def test_scenario_weights_set_each_training_scenarios_share_of_prompts():
    rows = _scenario_rows({"ROD": 40, "IN-C": 40, "QD": 40})
    cfg = DataConfig(train_scenarios=["ROD", "ImageNet-C", "QD"], scenario_weights={"IN-C": 4, "COCO": 9})
    shares = scenario_shares(cfg)  # COCO is not trained: ignored; unlisted ROD and QD weigh 1
    assert shares == pytest.approx({"ROD": 1 / 6, "IN-C": 4 / 6, "QD": 1 / 6})
    balanced = rebalance_scenarios(rows, shares, seed=0)
    assert len(balanced) == len(rows)
    counts = {name: balanced["scenario"].count(name) for name in ("ROD", "IN-C", "QD")}
    assert counts == {"ROD": 20, "IN-C": 80, "QD": 20}
    in_c = [row for row in balanced["row"] if row.startswith("IN-C")]
    assert len(set(in_c)) == 40  # every IN-C row is used before any repeats (80 = each twice)
    assert len(set(row for row in balanced["row"] if row.startswith("ROD"))) == 20  # subsampled without repeats
    assert rebalance_scenarios(rows, shares, seed=0)["row"] == balanced["row"]  # seeded
    assert rebalance_scenarios(rows, None, seed=0) is rows
    assert scenario_shares(DataConfig()) is None


def test_scenario_weights_that_sample_nothing_fail_clearly():
    with pytest.raises(ValueError, match="every weight is 0"):
        scenario_shares(DataConfig(train_scenarios=["QD"], scenario_weights={"QD": 0}))
    shares = scenario_shares(DataConfig(train_scenarios=["ROD", "QD"], scenario_weights={"QD": 2}))
    with pytest.raises(ValueError, match=r"the train split has no rows of \['QD'\]"):
        rebalance_scenarios(_scenario_rows({"ROD": 5}), shares, seed=0)
