"""The ``model`` config group: which vision-language model to load and how to build the local ``tiny`` one.

Every real preset is a hub checkpoint loaded through the transformers Auto classes; the ``tiny`` family
is a model of a real architecture built and bootstrapped on this machine (no hub access here), cached
under ``.cache/models`` and then loaded by exactly the same code as a hub checkpoint. Its settings
(``model.tiny``) belong to the ``proactive_rl.tiny`` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from proactive_rl.tiny.config import TinyModelConfig

FAMILIES = (
    "qwen2_5_vl",
    "qwen2_vl",
    "llava_onevision",
    "internvl",
    "smolvlm",
    "idefics3",
    "tiny",
)
DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass
class ModelConfig:
    """Schema of the ``model`` config group (``conf/model/*.yaml``)."""

    preset: str = "tiny"  # preset name, used in run names and reports
    name_or_path: str | None = None  # hub id or local folder; None for family=tiny (built locally)
    family: str = "tiny"  # one of FAMILIES; selects processor settings and the tiny build
    dtype: str = "auto"  # auto | bfloat16 | float16 | float32 (auto = float32 on CPU, bfloat16 on GPU)
    attn_implementation: str | None = None  # eager | sdpa | flash_attention_2; None = transformers default
    min_pixels: int | None = None  # Qwen-VL image processor lower bound on pixels per image; None = checkpoint's
    max_pixels: int | None = None  # Qwen-VL image processor upper bound on pixels per image; None = checkpoint's
    padding_side: str = "left"  # batched generation needs left padding
    trust_remote_code: bool = False  # only the -hf / native transformers checkpoints are supported
    freeze_vision: bool = True  # no LoRA adapters on the vision tower or projector, and no gradient through them
    tiny: TinyModelConfig = field(default_factory=TinyModelConfig)  # used only when family == "tiny"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"model.family={self.family!r} is not one of {FAMILIES}")
        if self.dtype not in DTYPES:
            raise ValueError(f"model.dtype={self.dtype!r} is not one of {DTYPES}")
        if self.padding_side not in ("left", "right"):
            raise ValueError(f"model.padding_side={self.padding_side!r}: expected 'left' or 'right'")
        if self.family != "tiny" and not self.name_or_path:
            raise ValueError(f"model.name_or_path is required for family={self.family!r} (a hub id or a local folder)")


def as_model_config(cfg) -> ModelConfig:
    """Accept a ModelConfig, a DictConfig/dict with the same fields, and return a ModelConfig."""
    if isinstance(cfg, ModelConfig):
        return cfg
    if hasattr(cfg, "_metadata"):  # omegaconf DictConfig
        from omegaconf import OmegaConf

        cfg = OmegaConf.to_container(cfg, resolve=True)
    values = dict(cfg)
    tiny = values.pop("tiny", None) or {}
    if not isinstance(tiny, TinyModelConfig):
        tiny = TinyModelConfig(**dict(tiny))
    return ModelConfig(**values, tiny=tiny)
