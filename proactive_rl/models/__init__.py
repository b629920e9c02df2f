"""Model presets and the generic loader (see ``conf/model/``); the locally built ``tiny`` model is ``proactive_rl.tiny``."""

from proactive_rl.models.config import FAMILIES, ModelConfig, TinyModelConfig, as_model_config
from proactive_rl.models.loading import (
    adapter_base_model,
    check_adapter,
    freeze_vision_tower,
    is_vision_module,
    load_model_and_processor,
    load_processor,
    merge_adapter,
    prepare_model,
)
from proactive_rl.tiny import ensure_tiny_model, read_build_info, tiny_model_dir

__all__ = [
    "FAMILIES",
    "ModelConfig",
    "TinyModelConfig",
    "adapter_base_model",
    "as_model_config",
    "check_adapter",
    "ensure_tiny_model",
    "freeze_vision_tower",
    "is_vision_module",
    "load_model_and_processor",
    "load_processor",
    "merge_adapter",
    "prepare_model",
    "read_build_info",
    "tiny_model_dir",
]
