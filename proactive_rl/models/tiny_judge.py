"""A tiny local OEG judge, so open-ended evaluation runs offline on the embedded default.

A one-layer Qwen3 causal LM with a small BPE tokenizer and the Qwen chat template, random-initialised and
saved like a hub checkpoint under ``.cache/models/tiny-judge-v<version>``. It exercises the whole OEG
path (answer generation, judge prompts, thinking removal, verdict parsing, ps / cp / agg) in seconds; its
verdicts are noise, so its scores mean nothing. ``eval.judge.name_or_path=auto`` picks it for the tiny
model and Qwen3-8B (the paper's judge) for every other model.
"""

from __future__ import annotations

import json
from pathlib import Path

from proactive_rl.staging import staged_folder

JUDGE_VERSION = 1
BUILD_INFO = "tiny_judge.json"


def save_tiny_judge(folder: str | Path, corpus: list[str], seed: int = 0) -> Path:
    """Build the tiny judge into ``folder`` (model, a tokenizer trained on ``corpus``, the chat template)."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from proactive_rl.models.tiny_build import (
        QWEN_CHAT_TEMPLATE,
        QWEN_SPECIAL_TOKENS,
        _fast_tokenizer,
        train_tokenizer,
    )

    folder = Path(folder)
    tokenizer = _fast_tokenizer(
        train_tokenizer(corpus, 300, QWEN_SPECIAL_TOKENS, seed),
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
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config.pad_token_id = config.pad_token_id
    model.generation_config.eos_token_id = config.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def ensure_tiny_judge(corpus: list[str], cache_dir: str | Path | None = None) -> Path:
    """The cached tiny judge folder, built (atomically) on first use with a tokenizer trained on ``corpus``."""
    from proactive_rl.models.tiny import default_cache_dir

    target = Path(cache_dir or default_cache_dir()) / f"tiny-judge-v{JUDGE_VERSION}"
    if (target / BUILD_INFO).is_file():
        return target
    with staged_folder(target, BUILD_INFO) as staging:
        save_tiny_judge(staging, corpus)
        (staging / BUILD_INFO).write_text(json.dumps({"version": JUDGE_VERSION}) + "\n")
    return target
