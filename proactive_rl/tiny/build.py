"""Construct tiny but *real* vision-language models offline: processor and randomly initialised weights.

Nothing can be downloaded here, yet the training and evaluation code must run the exact classes a hub
checkpoint would load (``Qwen2_5_VLProcessor``, ``Qwen2_5_VLForConditionalGeneration``, ...). So we pair
a tokenizer trained on our own prompt texts (``proactive_rl.tiny.tokenizer``) with the architecture's real
image/video processors set to tiny images, and instantiate the real model class from a shrunken config. ``save_pretrained`` then produces a
folder that ``AutoProcessor`` / ``AutoModelForImageTextToText`` reload like any checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from proactive_rl.tiny.config import TinyModelConfig
from proactive_rl.tiny.tokenizer import (
    IDEFICS3_CHAT_TEMPLATE,
    IDEFICS3_SPECIAL_TOKENS,
    QWEN_CHAT_TEMPLATE,
    QWEN_SPECIAL_TOKENS,
    fast_tokenizer,
    prompt_corpus,
    train_tokenizer,
)


def build_qwen2_5_vl(cfg: TinyModelConfig, texts: Iterable[str]):
    """(processor, model) of the real Qwen2.5-VL classes at tiny size, random weights."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    head_dim = cfg.text_hidden_size // cfg.text_heads
    if cfg.text_hidden_size % cfg.text_heads or head_dim % 2:
        raise ValueError(
            f"model.tiny: text_hidden_size={cfg.text_hidden_size} must split into {cfg.text_heads} heads of even size"
        )
    mrope_section = _mrope_section(head_dim // 2)
    if cfg.image_size < 56:
        raise ValueError(f"model.tiny.image_size={cfg.image_size}: Qwen-VL needs at least 56 (two merged patches)")

    raw = train_tokenizer(
        prompt_corpus(texts), cfg.vocab_size, QWEN_SPECIAL_TOKENS, cfg.seed, cfg.tokenizer_merge_across_words
    )
    tokenizer = fast_tokenizer(
        raw, QWEN_CHAT_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None
    )
    pixel_bounds = {"min_pixels": 56 * 56, "max_pixels": cfg.image_size * cfg.image_size}
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**pixel_bounds, patch_size=14, merge_size=2, temporal_patch_size=2),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**pixel_bounds, patch_size=14, merge_size=2, temporal_patch_size=2),
        chat_template=QWEN_CHAT_TEMPLATE,
    )
    processor.tokenizer.padding_side = "left"

    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL_TOKENS}
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": cfg.text_hidden_size,
            "intermediate_size": cfg.text_intermediate_size,
            "num_hidden_layers": cfg.text_layers,
            "num_attention_heads": cfg.text_heads,
            "num_key_value_heads": cfg.text_kv_heads,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope_section},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "depth": cfg.vision_depth,
            "hidden_size": cfg.vision_hidden_size,
            "intermediate_size": cfg.vision_intermediate_size,
            "num_heads": cfg.vision_heads,
            "out_hidden_size": cfg.text_hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": list(range(cfg.vision_depth)),
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(cfg.seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    _set_generation_defaults(model, eos=ids["<|im_end|>"], pad=ids["<|endoftext|>"], bos=ids["<|endoftext|>"])
    return processor, model


def build_idefics3(cfg: TinyModelConfig, texts: Iterable[str]):
    """(processor, model) of the real Idefics3 classes (the SmolVLM architecture) at tiny size, random weights."""
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
    )

    patch_size = 14
    image_size = max(2 * patch_size, (cfg.image_size // (2 * patch_size)) * 2 * patch_size)
    scale_factor = 2
    tokens_per_image = (image_size // patch_size) ** 2 // scale_factor**2

    raw = train_tokenizer(
        prompt_corpus(texts), cfg.vocab_size, IDEFICS3_SPECIAL_TOKENS, cfg.seed, cfg.tokenizer_merge_across_words
    )
    tokenizer = fast_tokenizer(
        raw,
        IDEFICS3_CHAT_TEMPLATE,
        eos_token="<end_of_utterance>",
        pad_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        unk_token=None,
        extra_special_tokens={
            "image_token": "<image>",
            "fake_image_token": "<fake_token_around_image>",
            "global_image_token": "<global-img>",
        },
    )
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": image_size},
        max_image_size={"longest_edge": image_size},
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=tokens_per_image,
        chat_template=IDEFICS3_CHAT_TEMPLATE,
    )
    processor.tokenizer.padding_side = "left"

    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in IDEFICS3_SPECIAL_TOKENS}
    config = Idefics3Config(
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": cfg.text_hidden_size,
            "intermediate_size": cfg.text_intermediate_size,
            "num_hidden_layers": cfg.text_layers,
            "num_attention_heads": cfg.text_heads,
            "num_key_value_heads": cfg.text_kv_heads,
            "max_position_embeddings": 4096,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<end_of_utterance>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "hidden_size": cfg.vision_hidden_size,
            "intermediate_size": cfg.vision_intermediate_size,
            "num_hidden_layers": cfg.vision_depth,
            "num_attention_heads": cfg.vision_heads,
            "image_size": image_size,
            "patch_size": patch_size,
        },
        scale_factor=scale_factor,
        image_token_id=ids["<image>"],
        pad_token_id=ids["<|endoftext|>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(cfg.seed)
    model = Idefics3ForConditionalGeneration(config)
    _set_generation_defaults(model, eos=ids["<end_of_utterance>"], pad=ids["<|endoftext|>"], bos=ids["<|endoftext|>"])
    return processor, model


TINY_BUILDERS = {"qwen2_5_vl": build_qwen2_5_vl, "idefics3": build_idefics3}


def build_tiny(cfg: TinyModelConfig, texts: Iterable[str]):
    """Dispatch to the builder of ``cfg.architecture``."""
    if cfg.architecture not in TINY_BUILDERS:
        raise ValueError(f"model.tiny.architecture={cfg.architecture!r} is not one of {sorted(TINY_BUILDERS)}")
    return TINY_BUILDERS[cfg.architecture](cfg, texts)


def save_model_folder(processor, model, folder: Path) -> None:
    """Write a checkpoint folder that the Auto classes reload (weights, configs, tokenizer, chat template)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def _mrope_section(half_head_dim: int) -> list[int]:
    """Split half the head dimension over (temporal, height, width) like Qwen's [16, 24, 24] for 64."""
    temporal = half_head_dim // 4 if half_head_dim >= 8 else half_head_dim // 3
    spatial = (half_head_dim - temporal) // 2
    return [half_head_dim - 2 * spatial, spatial, spatial]


def _set_generation_defaults(model, eos: int, pad: int, bos: int) -> None:
    generation = model.generation_config
    generation.eos_token_id = eos
    generation.pad_token_id = pad
    generation.bos_token_id = bos
    generation.do_sample = False
