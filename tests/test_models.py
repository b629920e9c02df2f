"""Model presets, the generic loader, the tiny build and its cache, adapters and merging (all offline, CPU)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from _model_helpers import small_tiny_config, toy_image, toy_train_rows
from omegaconf import OmegaConf

from proactive_rl.models import (
    ModelConfig,
    TinyModelConfig,
    as_model_config,
    ensure_tiny_model,
    is_vision_module,
    load_model_and_processor,
    merge_adapter,
    read_build_info,
    tiny_model_dir,
)
from proactive_rl.models.bootstrap import (
    CAPABILITY_QUESTION,
    bootstrap_target,
    capability_row,
    capability_row_weights,
    category_options,
    collate_supervised,
    cumulated_row_weights,
    encode_prompt,
    intervention_options,
    scenario_row_weights,
)
from proactive_rl.models.config import tiny_config_dict
from proactive_rl.prompting import format_mcqa, user_message

CONF_MODEL = Path(__file__).resolve().parent.parent / "conf" / "model"


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return ensure_tiny_model(small_tiny_config(tmp_path_factory.mktemp("tiny-models")))


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _chat(processor, texts: list[str]) -> list[str]:
    return [
        processor.apply_chat_template([user_message(text)], add_generation_prompt=True, tokenize=False)
        for text in texts
    ]


@pytest.mark.parametrize("preset", sorted(path.stem for path in CONF_MODEL.glob("*.yaml")))
def test_every_preset_matches_the_schema(preset):
    merged = OmegaConf.merge(OmegaConf.structured(ModelConfig), OmegaConf.load(CONF_MODEL / f"{preset}.yaml"))
    cfg = as_model_config(merged)
    assert cfg.preset == preset
    assert cfg.padding_side == "left" and cfg.trust_remote_code is False
    if cfg.family != "tiny":
        assert cfg.name_or_path.count("/") == 1, "real presets name a hub checkpoint"


def test_preset_typo_fails_at_composition():
    with pytest.raises(Exception, match="min_pixel"):
        OmegaConf.merge(OmegaConf.structured(ModelConfig), {"min_pixel": 10})


def test_bad_family_and_missing_hub_id_are_config_errors():
    with pytest.raises(ValueError, match="model.family"):
        ModelConfig(family="gpt")
    with pytest.raises(ValueError, match="name_or_path is required"):
        ModelConfig(family="qwen2_5_vl")


def test_tiny_build_reloads_with_real_qwen_classes(tiny_path):
    from transformers import (
        AutoModelForImageTextToText,
        AutoProcessor,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )

    processor = AutoProcessor.from_pretrained(tiny_path)
    model = AutoModelForImageTextToText.from_pretrained(tiny_path)
    assert isinstance(processor, Qwen2_5_VLProcessor)
    assert isinstance(processor.image_processor, Qwen2VLImageProcessor)
    assert isinstance(model, Qwen2_5_VLForConditionalGeneration)
    assert processor.tokenizer.padding_side == "left"
    for token in (
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ):
        assert processor.tokenizer.convert_tokens_to_ids(token) != processor.tokenizer.unk_token_id
    assert model.config.image_token_id == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert model.config.vision_start_token_id == processor.tokenizer.convert_tokens_to_ids("<|vision_start|>")
    mrope = model.config.text_config.rope_parameters["mrope_section"]
    head_dim = model.config.text_config.hidden_size // model.config.text_config.num_attention_heads
    assert sum(mrope) == head_dim // 2


def test_chat_template_places_one_vision_block_per_image(tiny_path):
    _, processor = load_model_and_processor(small_tiny_config("unused"), path=tiny_path)
    message = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Look"}, {"type": "image"}]}
    text = processor.apply_chat_template([message], add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Look"
        "<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n"
    )
    batch = processor(text=[text], images=[[toy_image("red"), toy_image("blue", size=80)]], return_tensors="pt")
    image_tokens = (batch["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")).sum().item()
    assert image_tokens == int(batch["image_grid_thw"].prod(dim=1).sum()) // processor.image_processor.merge_size**2


def test_text_part_with_an_image_key_is_rendered_as_text(tiny_path):
    _, processor = load_model_and_processor(small_tiny_config("unused"), path=tiny_path)
    parts = [{"type": "image", "text": None, "image": None}, {"type": "text", "text": "Hi", "image": None}]
    text = processor.apply_chat_template([{"role": "user", "content": parts}], tokenize=False)
    assert text.count("<|image_pad|>") == 1 and "Hi" in text


def test_every_option_text_is_compact_in_the_tokenizer(tmp_path):
    rows = toy_train_rows(8)
    path = ensure_tiny_model(small_tiny_config(tmp_path), rows)
    _, processor = load_model_and_processor(small_tiny_config(tmp_path), path=path)
    for text in {option for options in rows["options"] for option in options}:
        assert len(processor.tokenizer.tokenize(text)) <= 2, text
        assert processor.tokenizer.decode(processor.tokenizer(text)["input_ids"]) == text


def test_left_padded_batch_generates_like_single_prompts(tiny_path):
    model, processor = load_model_and_processor(small_tiny_config("unused"), path=tiny_path)
    texts = _chat(processor, [format_mcqa("What is it?", ["Rewind the video.", "red", "blue"]), "short"])
    images = [[toy_image("red")], [toy_image("blue")]]
    batch = processor(text=texts, images=images, padding=True, return_tensors="pt")
    assert batch["attention_mask"][1, 0] == 0 and batch["attention_mask"][1, -1] == 1, "padding must be on the left"
    with torch.no_grad():
        batched = model(**batch).logits[:, -1]
        alone = model(**processor(text=texts[1:], images=images[1:], return_tensors="pt")).logits[:, -1]
    torch.testing.assert_close(batched[1:], alone, atol=1e-4, rtol=1e-4)
    output = model.generate(**batch, max_new_tokens=4, do_sample=False)
    assert output.shape[0] == 2 and output.shape[1] <= batch["input_ids"].shape[1] + 4


def test_cache_hit_does_not_rebuild(tmp_path):
    cfg = small_tiny_config(tmp_path)
    first = ensure_tiny_model(cfg)
    stamp = os.stat(first / "model.safetensors").st_mtime_ns
    second = ensure_tiny_model(small_tiny_config(tmp_path))
    assert second == first
    assert os.stat(second / "model.safetensors").st_mtime_ns == stamp
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")], "no staging folder left behind"


def test_config_change_rebuilds_in_a_new_folder(tmp_path):
    first = ensure_tiny_model(small_tiny_config(tmp_path))
    second = ensure_tiny_model(small_tiny_config(tmp_path, seed=1))
    assert second != first and (first / "build_info.json").is_file() and (second / "build_info.json").is_file()
    assert read_build_info(second)["config"]["seed"] == 1
    assert tiny_model_dir(small_tiny_config("elsewhere")).name == first.name, "cache_dir is not part of the hash"


def test_cache_key_follows_the_synthetic_generation_config(tmp_path):
    train = tmp_path / "synth" / "train"
    train.mkdir(parents=True)
    manifest = tmp_path / "synth" / "manifest.json"
    cfg = small_tiny_config(tmp_path / "models", bootstrap_steps=10)
    manifest.write_text(json.dumps({"config": {"seed": 0}, "generation_seconds": 1.0}))
    first = tiny_model_dir(cfg, train)
    manifest.write_text(json.dumps({"config": {"seed": 0}, "generation_seconds": 2.0}))
    assert tiny_model_dir(cfg, train) == first, "timings are not part of the data identity"
    manifest.write_text(json.dumps({"config": {"seed": 1}, "generation_seconds": 1.0}))
    assert tiny_model_dir(cfg, train) != first
    assert tiny_model_dir(cfg, train, scenarios=["ROD"]) != tiny_model_dir(cfg, train, scenarios=["QD"])
    assert tiny_model_dir(cfg, train, ["ROD", "QD"]) == tiny_model_dir(cfg, train, ["QuickDraw", "ROD"])


def test_unfinished_build_folder_is_replaced(tmp_path):
    cfg = small_tiny_config(tmp_path)
    target = tiny_model_dir(cfg)
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")  # leftover of an interrupted build: no build_info.json
    assert ensure_tiny_model(cfg) == target
    assert (target / "build_info.json").is_file()


def test_bootstrap_needs_a_train_split(tmp_path):
    with pytest.raises(ValueError, match="bootstrap_steps"):
        ensure_tiny_model(small_tiny_config(tmp_path, bootstrap_steps=5))
    with pytest.raises(FileNotFoundError, match="no-such-split"):
        ensure_tiny_model(small_tiny_config(tmp_path, bootstrap_steps=5), tmp_path / "no-such-split")


def test_bootstrap_reads_only_the_training_scenarios(tmp_path):
    rows = toy_train_rows(16)  # all ROD
    with pytest.raises(ValueError, match="no rows of scenarios"):
        ensure_tiny_model(small_tiny_config(tmp_path, bootstrap_steps=2), rows, scenarios=["QD"])
    built = ensure_tiny_model(small_tiny_config(tmp_path, bootstrap_steps=2), rows, scenarios=["ROD"])
    assert read_build_info(built)["scenarios"] == ["ROD"]


def test_missing_adapter_error_names_the_path_before_loading(tmp_path):
    missing = tmp_path / "no-adapter"
    with pytest.raises(FileNotFoundError, match="no-adapter"):
        load_model_and_processor(ModelConfig(family="qwen2_5_vl", name_or_path="/nowhere/model"), adapter=missing)


def test_missing_local_model_error_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="not-a-model"):
        load_model_and_processor(ModelConfig(family="qwen2_5_vl", name_or_path=str(tmp_path / "not-a-model")))


def test_pixel_bounds_reach_the_qwen_image_processor(tiny_path):
    cfg = small_tiny_config("unused")
    cfg.min_pixels, cfg.max_pixels = 56 * 56, 56 * 56
    _, processor = load_model_and_processor(cfg, path=tiny_path)
    batch = processor(text=_chat(processor, ["x"]), images=[[toy_image("red", size=200)]], return_tensors="pt")
    assert batch["image_grid_thw"].tolist() == [[1, 4, 4]]


def test_freeze_vision_freezes_only_the_vision_tower(tiny_path):
    model, _ = load_model_and_processor(small_tiny_config("unused"), path=tiny_path)
    frozen = {name for name, parameter in model.named_parameters() if not parameter.requires_grad}
    assert frozen and all(is_vision_module(name) for name in frozen)
    assert any(parameter.requires_grad for name, parameter in model.named_parameters() if "language_model" in name)


def test_supervised_labels_cover_only_the_answer(tiny_path):
    _, processor = load_model_and_processor(small_tiny_config("unused"), path=tiny_path)
    rows = toy_train_rows(4)
    encoded = [encode_prompt(processor, rows[i]) for i in range(2)]
    batch = collate_supervised(processor, encoded, ["red", "Move the occluding blocks to the left."])
    for row, answer in enumerate(["red", "Move the occluding blocks to the left."]):
        labelled = batch["labels"][row][batch["labels"][row] != -100]
        assert processor.tokenizer.decode(labelled) == answer + processor.tokenizer.eos_token
        assert batch["attention_mask"][row].sum() == encoded[row]["input_ids"].shape[1] + len(labelled)


def test_non_qwen_tiny_idefics3_loads_and_generates(tmp_path):
    from transformers import Idefics3ForConditionalGeneration, Idefics3Processor

    cfg = small_tiny_config(tmp_path, architecture="idefics3")
    model, processor = load_model_and_processor(cfg)
    assert isinstance(model, Idefics3ForConditionalGeneration) and isinstance(processor, Idefics3Processor)
    texts = _chat(processor, ["What colour is it?", "Colour?"])
    assert texts[1].startswith("User:<image>Colour?")
    batch = processor(text=texts, images=[[toy_image("red")], [toy_image("green")]], padding=True, return_tensors="pt")
    assert batch["attention_mask"][1, 0] == 0, "left padding"
    output = model.generate(**batch, max_new_tokens=3, min_new_tokens=3, do_sample=False)
    assert output.shape == (2, batch["input_ids"].shape[1] + 3)
    assert all(isinstance(text, str) for text in processor.batch_decode(output[:, batch["input_ids"].shape[1] :]))


@pytest.mark.slow
def test_merged_adapter_matches_base_plus_adapter(tmp_path, tiny_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    cfg = small_tiny_config(tmp_path)
    cfg.name_or_path = str(tiny_path)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(AutoModelForImageTextToText.from_pretrained(tiny_path), lora)
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)

    with_adapter, processor = load_model_and_processor(cfg, adapter=adapter_dir)
    merged_dir = merge_adapter(cfg, adapter_dir, tmp_path / "merged")
    merged, _ = load_model_and_processor(cfg, path=merged_dir)
    base, _ = load_model_and_processor(cfg)
    batch = processor(text=_chat(processor, ["What is it?"]), images=[[toy_image("red")]], return_tensors="pt")
    with torch.no_grad():
        expected, got, plain = (m(**batch).logits for m in (with_adapter, merged, base))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(plain, expected, atol=1e-4), "the adapter must change the outputs"
    with pytest.raises(FileExistsError, match="merged"):
        merge_adapter(cfg, adapter_dir, merged_dir)
    recorded_base = merge_adapter(adapter_dir, tmp_path / "merged-from-recorded-base")  # the CLI's short form
    again, _ = load_model_and_processor(cfg, path=recorded_base)
    with torch.no_grad():
        torch.testing.assert_close(again(**batch).logits, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_bootstrap_teaches_recognition_and_some_interventions(tmp_path):
    rows = toy_train_rows(160)
    cfg = small_tiny_config(
        tmp_path,
        bootstrap_steps=200,
        bootstrap_batch_size=8,
        bootstrap_lr=3e-3,
        bootstrap_warmup_steps=5,
        bootstrap_ambiguous_fraction=0.4,
        bootstrap_ask_rate=None,  # every ambiguous example asks (the default, 0.3, asks on a minority by design)
        bootstrap_capability_fraction=0.2,
        bootstrap_capability_weighting="rows",
        bootstrap_eval_size=16,
    )
    report = read_build_info(ensure_tiny_model(cfg, rows))["bootstrap"]
    assert report["eval_informative"] == 16 and report["eval_ambiguous"] == 16
    assert report["informative_accuracy"] >= 0.5, report  # chance is 0.25
    assert report["ambiguous_intervention_rate"] >= 0.5, report
    assert report["capability_accuracy"] >= 0.5, report  # the two-option question; the answer format is learned


ROD_OPTIONS = ["Move the occluding blocks to the left.", "Move the occluding blocks to the right.",
               "I cannot tell what the object is.", "crescent", "heart", "cross", "pentagon"]  # fmt: skip


def _row(state: str) -> dict:
    actions = ROD_OPTIONS[:2] if state == "ambiguous" else []
    return {"options": ROD_OPTIONS, "proactive_actions": actions, "ground_truth": "cross", "state": state}


@pytest.mark.parametrize("ask_rate", [None, 0.0, 0.25, 1.0])
def test_bootstrap_target_asks_at_the_configured_rate_on_ambiguous_frames_only(ask_rate):
    import random

    rng = random.Random(0)
    ambiguous = [bootstrap_target(_row("ambiguous"), ask_rate, rng) for _ in range(4000)]
    informative = [bootstrap_target(_row("informative"), ask_rate, rng) for _ in range(200)]
    assert set(informative) == {"cross"}
    asked = sum(answer in ROD_OPTIONS[:2] for answer in ambiguous) / len(ambiguous)
    assert asked == pytest.approx(1.0 if ask_rate is None else ask_rate, abs=0.03)
    guesses = [answer for answer in ambiguous if answer not in ROD_OPTIONS[:2]]
    assert set(guesses) <= set(ROD_OPTIONS[3:])  # never the abstain option
    if ask_rate is not None and ask_rate < 1:
        assert set(guesses) == set(ROD_OPTIONS[3:])  # a uniform guess reaches every category


def test_capability_question_lists_interventions_only_and_is_answered_with_a_valid_one():
    import random

    row = capability_row(_row("ambiguous"))
    assert row["state"] == "capability" and row["prompt"].startswith(CAPABILITY_QUESTION)
    assert "A. Move the occluding blocks to the left." in row["prompt"] and "B. Move" in row["prompt"]
    assert not any(word in row["prompt"] for word in ["cannot tell", "crescent", "pentagon", "C. "])
    answers = {bootstrap_target(row, 0.0, random.Random(seed)) for seed in range(50)}  # ask_rate is for MCQA only
    assert answers == set(ROD_OPTIONS[:2])


def test_capability_weighting_follows_the_number_of_interventions_shown():
    from datasets import Dataset

    inc_options = [f"Fix {name}." for name in "abcdefgh"] + ROD_OPTIONS[2:]
    mvpn_options = ["Rotate the object.", *ROD_OPTIONS[2:]]
    table = Dataset.from_list([{"options": o} for o in (ROD_OPTIONS, inc_options, mvpn_options, ROD_OPTIONS)])
    assert capability_row_weights(table, [0, 1, 2], "options") == [2.0, 8.0, 1.0]
    assert capability_row_weights(table.to_list(), [3, 1], "options") == [2.0, 8.0]  # plain rows too
    assert capability_row_weights(table, [0, 1, 2], "rows") is None  # uniform
    with pytest.raises(ValueError, match="bootstrap_capability_weighting='by_scenario' is not one of"):
        TinyModelConfig(bootstrap_capability_weighting="by_scenario")
    with pytest.raises(ValueError, match="bootstrap_ambiguous_weighting='by_scenario' is not one of"):
        TinyModelConfig(bootstrap_ambiguous_weighting="by_scenario")
    # the default ("rows") leaves the cache key of earlier builds alone; "options" is a different build
    assert "bootstrap_ambiguous_weighting" not in tiny_config_dict(TinyModelConfig())
    assert tiny_config_dict(TinyModelConfig(bootstrap_ambiguous_weighting="options")) != tiny_config_dict(
        TinyModelConfig()
    )


def test_scenario_weights_set_each_scenarios_share_of_recognition_examples():
    import random

    from datasets import Dataset

    table = Dataset.from_list([{"scenario": name} for name in ["QD"] * 2 + ["ROD"] * 6 + ["MVP-N"] * 4])
    indices = list(range(12))
    assert scenario_row_weights(table, indices, {}) is None  # uniform over rows, the earlier builds' draws
    cumulated = cumulated_row_weights(scenario_row_weights(table, indices, {"QD": 3.0}))
    rng = random.Random(0)
    draws = [table[i]["scenario"] for i in rng.choices(indices, cum_weights=cumulated, k=20000)]
    shares = {name: draws.count(name) / len(draws) for name in ("QD", "ROD", "MVP-N")}
    # whatever their row counts (2, 6, 4): QD 3/5 of the draws, the unlisted ones 1/5 each
    assert shares == pytest.approx({"QD": 0.6, "ROD": 0.2, "MVP-N": 0.2}, abs=0.015)
    with pytest.raises(ValueError, match="every scenario of the train split"):
        scenario_row_weights(table, indices, {"QD": 0.0, "ROD": 0.0, "MVP-N": 0.0})
    # names canonicalised (QuickDraw == QD: one cache key); unknown names and bad weights fail naming the key
    assert TinyModelConfig(bootstrap_scenario_weights={"QuickDraw": 3}).bootstrap_scenario_weights == {"QD": 3.0}
    with pytest.raises(ValueError, match="model.tiny.bootstrap_scenario_weights: unknown ProactiveBench scenario"):
        TinyModelConfig(bootstrap_scenario_weights={"Quick": 3})
    with pytest.raises(ValueError, match=r"bootstrap_scenario_weights.QD=-1: expected a finite number >= 0"):
        TinyModelConfig(bootstrap_scenario_weights={"QD": -1})
    assert "bootstrap_scenario_weights" not in tiny_config_dict(TinyModelConfig())
    assert tiny_config_dict(TinyModelConfig(bootstrap_scenario_weights={"QD": 3})) == tiny_config_dict(
        TinyModelConfig(bootstrap_scenario_weights={"QuickDraw": 3.0})
    )


def test_bootstrap_reads_options_in_any_official_order():
    assert category_options(ROD_OPTIONS) == ROD_OPTIONS[3:]
    shuffled = [ROD_OPTIONS[2], ROD_OPTIONS[0], ROD_OPTIONS[1], *ROD_OPTIONS[3:]]  # abstain first
    assert category_options(shuffled) == ROD_OPTIONS[3:]
    assert intervention_options(shuffled) == ROD_OPTIONS[:2]
    with pytest.raises(ValueError, match="no category"):
        category_options(["cat", "dog", "I cannot tell."])


def test_as_model_config_accepts_dictconfig():
    node = OmegaConf.merge(OmegaConf.structured(ModelConfig), {"tiny": {"text_layers": 2}})
    cfg = as_model_config(node)
    assert isinstance(cfg.tiny, TinyModelConfig) and cfg.tiny.text_layers == 2
