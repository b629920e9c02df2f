"""One loading path for every model family: Auto classes, an optional LoRA adapter, left padding.

Hub checkpoints and the locally built ``tiny`` model go through the same ``from_pretrained`` calls, so
what the tests exercise on the tiny model is what a GPU run does with Qwen2.5-VL-7B. Everything that can
be checked cheaply (a missing local folder, a missing adapter, a bad dtype) is checked before any weight
is read, and the error names the path or config key.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from proactive_rl.hub import check_source
from proactive_rl.models.config import ModelConfig, as_model_config

log = logging.getLogger(__name__)

QWEN_FAMILIES = ("qwen2_5_vl", "qwen2_vl")
VISION_MODULE_KEYWORDS = ("visual", "vision_tower", "vision_model", "multi_modal_projector", "connector")
VISION_MODULE_PATTERN = r".*(" + "|".join(VISION_MODULE_KEYWORDS) + r").*"  # the same, as PEFT's exclude_modules


def check_adapter(adapter: str | os.PathLike, key: str = "adapter") -> Path:
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        reason = "no such folder" if not path.exists() else "folder has no adapter_config.json"
        raise FileNotFoundError(f"{key}={adapter}: {reason} (expected a PEFT LoRA adapter saved by training)")
    return path


def adapter_base_model(adapter: str | os.PathLike) -> str | None:
    """The base checkpoint an adapter was trained on, as recorded by PEFT."""
    config = json.loads((check_adapter(adapter) / "adapter_config.json").read_text())
    return config.get("base_model_name_or_path")


def prepare_model(cfg, train_source=None, scenarios: Sequence[str] | None = None) -> str:
    """Make the model of ``cfg`` available and return what ``from_pretrained`` should read.

    For ``family=tiny`` this builds (or finds in the cache) the local tiny checkpoint, bootstrapped on the
    ``scenarios`` rows of ``train_source``; for hub presets it only validates ``name_or_path``.
    """
    cfg = as_model_config(cfg)
    if cfg.family == "tiny" and not cfg.name_or_path:
        from proactive_rl.models.tiny import ensure_tiny_model

        return str(ensure_tiny_model(cfg, train_source, scenarios))
    check_source(cfg.name_or_path, "model.name_or_path")
    return cfg.name_or_path


def resolve_dtype(name: str, device=None):
    import torch

    if name == "auto":
        on_gpu = (device is not None and str(device).startswith("cuda")) or (
            device is None and torch.cuda.is_available()
        )
        return torch.bfloat16 if on_gpu else torch.float32
    return getattr(torch, name)


def pixel_bounds(cfg: ModelConfig) -> dict[str, int]:
    """Qwen-VL size overrides (shortest_edge / longest_edge are pixel counts there) from min/max_pixels."""
    bounds = {"shortest_edge": cfg.min_pixels, "longest_edge": cfg.max_pixels}
    bounds = {key: value for key, value in bounds.items() if value is not None}
    is_qwen = cfg.family in QWEN_FAMILIES or (cfg.family == "tiny" and cfg.tiny.architecture in QWEN_FAMILIES)
    if bounds and not is_qwen:
        raise ValueError(
            f"model.min_pixels/max_pixels apply to Qwen-VL image processors only, not family={cfg.family!r}; "
            "leave them null"
        )
    return bounds


def load_processor(cfg, path: str | None = None):
    from transformers import AutoProcessor
    from transformers.image_utils import SizeDict

    cfg = as_model_config(cfg)
    source = path or cfg.name_or_path
    bounds = pixel_bounds(cfg)
    processor = AutoProcessor.from_pretrained(source, trust_remote_code=cfg.trust_remote_code)
    for part in ("image_processor", "video_processor"):
        sub = getattr(processor, part, None)
        if bounds and sub is not None:
            sizes = {key: value for key, value in vars(sub.size).items() if value is not None}
            sub.size = SizeDict(**{**sizes, **bounds})
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = cfg.padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return processor


def load_model_and_processor(
    cfg,
    adapter: str | os.PathLike | None = None,
    device=None,
    path: str | os.PathLike | None = None,
    train_source=None,
    scenarios: Sequence[str] | None = None,
):
    """(model, processor) for ``cfg`` through ``AutoModelForImageTextToText`` / ``AutoProcessor``.

    ``path`` overrides where the weights are read (e.g. what ``prepare_model`` returned). For the tiny
    family without a path, the base is the adapter's recorded base when an adapter is given, else the
    cached tiny build for ``train_source``. ``adapter`` loads a PEFT LoRA adapter on top (not merged).
    """
    from transformers import AutoModelForImageTextToText

    cfg = as_model_config(cfg)
    adapter_path = check_adapter(adapter) if adapter is not None else None
    if path is not None:
        source = str(path)
    elif (
        cfg.family == "tiny" and not cfg.name_or_path and adapter_path is not None and adapter_base_model(adapter_path)
    ):
        source = adapter_base_model(adapter_path)
    else:
        source = prepare_model(cfg, train_source, scenarios)
    check_source(source, "model path" if path is not None else "model.name_or_path")

    processor = load_processor(cfg, source)
    load_kwargs = {"dtype": resolve_dtype(cfg.dtype, device), "trust_remote_code": cfg.trust_remote_code}
    if cfg.attn_implementation:
        load_kwargs["attn_implementation"] = cfg.attn_implementation
    model = AutoModelForImageTextToText.from_pretrained(source, **load_kwargs)
    generation = model.generation_config
    if generation.pad_token_id is None:
        generation.pad_token_id = processor.tokenizer.pad_token_id
    if cfg.freeze_vision:
        freeze_vision_tower(model)
    if adapter_path is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_path))
    if device is not None:
        model.to(device)
    return model, processor


def is_vision_module(name: str) -> bool:
    """Whether a module/parameter name belongs to the vision tower or its projector."""
    return any(keyword in name for keyword in VISION_MODULE_KEYWORDS)


def freeze_vision_tower(model) -> int:
    """Stop gradients through the vision tower and projector; returns the number of frozen parameters."""
    frozen = 0
    for name, parameter in model.named_parameters():
        if is_vision_module(name):
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen


def merge_adapter(base, adapter_path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """Merge a LoRA adapter into its base and save model + processor as a standalone checkpoint.

    ``base`` is a ModelConfig (or DictConfig), a checkpoint path, or None for the base recorded in the
    adapter (``adapter_config.json``). The short form ``merge_adapter(adapter, out_dir)`` means base=None.
    The folder is written under a temporary name and renamed at the end, so ``out_dir`` is complete or absent.
    """
    if out_dir is None:
        base, adapter_path, out_dir = None, base, adapter_path
    out = Path(out_dir)
    check_adapter(adapter_path)
    if out.exists():
        raise FileExistsError(f"merge output {out} already exists; choose another folder or remove it")
    if base is None:
        base = adapter_base_model(adapter_path)
        if not base:
            raise ValueError(f"adapter={adapter_path} records no base model; pass the base checkpoint explicitly")
    if isinstance(base, str | os.PathLike):
        check_source(str(base), "base model")
        cfg = ModelConfig(preset="merge", family="tiny", name_or_path=str(base), freeze_vision=False)
        model, processor = load_model_and_processor(cfg, adapter=adapter_path, path=str(base))
    else:
        model, processor = load_model_and_processor(base, adapter=adapter_path)
    merged = model.merge_and_unload()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.merging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    merged.save_pretrained(staging)
    processor.save_pretrained(staging)
    staging.rename(out)
    log.info("merged %s into %s", adapter_path, out)
    return out
