"""The ``model`` config group: which vision-language model to load and how to build the local ``tiny`` one.

Every real preset is a hub checkpoint loaded through the transformers Auto classes; the ``tiny`` family
is a model of a real architecture built and bootstrapped on this machine (no hub access here), cached
under ``.cache/models`` and then loaded by exactly the same code as a hub checkpoint. The tiny-build
settings live in their own dataclass so that a test can shrink them with a few overrides and so that
their hash names the cache folder.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

FAMILIES = (
    "qwen2_5_vl",
    "qwen2_vl",
    "llava_onevision",
    "internvl",
    "smolvlm",
    "idefics3",
    "tiny",
)
TINY_ARCHITECTURES = ("qwen2_5_vl", "idefics3")
DTYPES = ("auto", "bfloat16", "float16", "float32")
CAPABILITY_WEIGHTINGS = ("options", "rows")  # model.tiny.bootstrap_{capability,ambiguous}_weighting


@dataclass
class TinyModelConfig:
    """How the local ``tiny`` model is built (architecture sizes) and bootstrapped (supervised warm-up)."""

    architecture: str = "qwen2_5_vl"  # real transformers architecture to instantiate: qwen2_5_vl | idefics3
    vocab_size: int = 1024  # byte-level BPE vocabulary trained on our prompt texts (special tokens included)
    tokenizer_merge_across_words: bool = True  # BPE merges may span spaces: template phrases and options
    # become a few tokens each (~3x shorter prompts, one- or two-token answers)
    text_hidden_size: int = 192  # language-model width
    text_intermediate_size: int = 512  # language-model MLP width
    text_layers: int = 4  # language-model depth
    text_heads: int = 4  # attention heads; head_dim = hidden / heads (mrope sections sum to head_dim / 2)
    text_kv_heads: int = 2  # grouped-query key/value heads
    vision_depth: int = 2  # vision-encoder blocks
    vision_hidden_size: int = 128  # vision-encoder width
    vision_intermediate_size: int = 256  # vision-encoder MLP width
    vision_heads: int = 4  # vision-encoder attention heads
    image_size: int = 112  # images are resized to at most image_size^2 pixels (>= 56^2)
    bootstrap_steps: int = 1200  # optimizer steps of the supervised bootstrap (0 = random init only)
    bootstrap_batch_size: int = 16  # examples per bootstrap step
    bootstrap_lr: float = 3e-4  # peak AdamW learning rate (linear warm-up, cosine decay); 1e-3 and above stall
    bootstrap_warmup_steps: int = 25  # warm-up steps of the learning-rate schedule
    bootstrap_ambiguous_fraction: float = 0.1  # share of bootstrap examples that are ambiguous frames: without
    # any, the base never asks and GRPO groups have zero reward variance (see proactive_rl/models/bootstrap.py)
    bootstrap_ask_rate: float | None = 0.3  # ambiguous examples answered with a valid intervention with this
    # probability, else with a uniform guess among the categories: a calibrated asking prior (below 0.5, so greedy
    # decoding still guesses and sampled rollouts still ask; the base asked on 16-41% of held-out ambiguous frames).
    # None: every ambiguous example is answered with an intervention
    bootstrap_capability_fraction: float = 0.4  # share of bootstrap examples that ask, on an ambiguous frame,
    # "which action would help?" among the interventions only: what each intervention does (a capability),
    # never whether to ask instead of answering (the proactive behaviour GRPO must learn)
    bootstrap_capability_weighting: str = "options"  # which ambiguous rows capability questions are drawn from:
    # "rows" = uniformly; "options" = in proportion to the number of interventions the row displays (IN-C shows
    # eight fixes, so it gets most of them: the fine-tuned policy asks for the right fix on IN-C, README)
    bootstrap_ambiguous_weighting: str = "rows"  # the same choice for the ambiguous (benchmark-question) examples
    bootstrap_scenario_weights: dict[str, float] = field(default_factory=dict)  # bootstrap examples of every kind
    # (recognition, asking, capability) drawn per scenario in proportion to these weights (unlisted = 1, whatever
    # the scenario's row count; empty = uniformly over rows). QD's sketches carry no colour, so only shape tells
    # its categories apart: it needs several times the examples of the coloured scenarios (README)
    bootstrap_eval_size: int = 64  # held-out informative and ambiguous frames each, measured after bootstrap
    seed: int = 0  # seeds tokenizer corpus order, initialisation, example sampling
    cache_dir: str | None = None  # where built models live; None = <repo>/.cache/models

    def __post_init__(self) -> None:
        fractions = (self.bootstrap_ambiguous_fraction, self.bootstrap_capability_fraction)
        if min(fractions) < 0 or sum(fractions) > 1:
            raise ValueError(
                "model.tiny.bootstrap_ambiguous_fraction and model.tiny.bootstrap_capability_fraction must be >= 0 "
                f"and sum to at most 1, got {fractions[0]} and {fractions[1]}"
            )
        for name in ("bootstrap_capability_weighting", "bootstrap_ambiguous_weighting"):
            if getattr(self, name) not in CAPABILITY_WEIGHTINGS:
                raise ValueError(f"model.tiny.{name}={getattr(self, name)!r} is not one of {CAPABILITY_WEIGHTINGS}")
        from envs import canonical_scenario

        weights = {}
        for name, weight in dict(self.bootstrap_scenario_weights).items():
            try:
                scenario = canonical_scenario(name)
            except ValueError as error:
                raise ValueError(f"model.tiny.bootstrap_scenario_weights: {error}") from None
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight < 0
            ):
                raise ValueError(
                    f"model.tiny.bootstrap_scenario_weights.{name}={weight!r}: expected a finite number >= 0"
                )
            weights[scenario] = float(weight)
        self.bootstrap_scenario_weights = weights  # short scenario names, so that QD and QuickDraw hash alike
        if self.bootstrap_ask_rate is not None and not 0.0 <= self.bootstrap_ask_rate <= 1.0:
            raise ValueError(
                f"model.tiny.bootstrap_ask_rate must be null or within [0, 1], got {self.bootstrap_ask_rate}"
            )


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


def tiny_config_dict(cfg: TinyModelConfig) -> dict:
    """The fields that define a tiny build (the cache location does not change the model)."""
    values = asdict(cfg)
    values.pop("cache_dir")
    # builds made before these fields existed keep their cache key when the fields are set to the old behaviour
    # (no ask rate, no capability questions)
    if values["bootstrap_ask_rate"] is None:
        values.pop("bootstrap_ask_rate")
    if values["bootstrap_capability_fraction"] == 0.0:
        values.pop("bootstrap_capability_fraction")
    for key in ("bootstrap_capability_weighting", "bootstrap_ambiguous_weighting"):
        if values[key] == "rows":
            values.pop(key)
    if not values["bootstrap_scenario_weights"]:
        values.pop("bootstrap_scenario_weights")
    else:
        values["bootstrap_scenario_weights"] = dict(sorted(values["bootstrap_scenario_weights"].items()))
    return values
