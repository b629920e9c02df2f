"""Builders for the evaluation tests: a small synthetic test split, a random tiny VLM, a tiny text judge."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

SCRIPTED_SCENARIOS = ["ROD", "VSOD", "MVP-N", "IN-C", "QD", "CIT", "COCO"]


def make_test_root(folder: Path, per_scenario: int = 4) -> Path:
    """A ProactiveBench-Synth test folder (official layout) with ``per_scenario`` episodes per scenario."""
    from proactive_rl.data import DataConfig, prepare_data

    cfg = DataConfig(root=str(folder), test_per_scenario=per_scenario, train_rows=14, num_workers=1)
    return prepare_data(cfg).test_root


def copy_test_root(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def tiny_vlm():
    """(model, processor) of a random-weight tiny Qwen2.5-VL in float32 (real classes, built in seconds)."""
    from _model_helpers import small_tiny_config

    from proactive_rl.tiny.build import build_tiny

    torch.set_num_threads(1)
    cfg = small_tiny_config("/nonexistent-cache")
    processor, model = build_tiny(cfg.tiny, ["What is the object in the image? Rotate the object."])
    return model.eval(), processor


def save_tiny_judge(folder: Path) -> Path:
    """A tiny Qwen3 causal LM with a small BPE tokenizer and a chat template, saved like a hub checkpoint."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from proactive_rl.evaluation.oeg import judge_template
    from proactive_rl.tiny.tokenizer import QWEN_CHAT_TEMPLATE, QWEN_SPECIAL_TOKENS, fast_tokenizer, train_tokenizer

    corpus = [judge_template("system"), "1,0,0 0,1 <think> </think> Move the camera"]
    tokenizer = fast_tokenizer(
        train_tokenizer(corpus, 300, QWEN_SPECIAL_TOKENS, 0),
        QWEN_CHAT_TEMPLATE,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=8192,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(config)
    model.generation_config.pad_token_id = config.pad_token_id
    model.generation_config.eos_token_id = config.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
