"""``model.tiny``: the sizes of the local tiny model and the mix of its supervised bootstrap.

The dataclass defaults are the measured default (``conf/model/tiny.yaml`` only names what differs from
them); every field except ``cache_dir`` is part of the cache key of a build (``proactive_rl.tiny.cache``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

CAPABILITY_WEIGHTINGS = ("options", "rows")  # model.tiny.bootstrap_capability_weighting
BOOTSTRAP_SCOPES = ("all", "train_scenarios")  # model.tiny.bootstrap_scope


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
    bootstrap_ambiguous_fraction: float = 0.1  # share of bootstrap examples that are ambiguous frames in the
    # benchmark's question: without any, the base never asks and GRPO groups have zero reward variance
    bootstrap_ask_rate: float | None = 0.3  # ambiguous examples answered with a valid intervention with this
    # probability, else with a uniform guess among the categories: a calibrated asking prior (below 0.5, so greedy
    # decoding still guesses and sampled rollouts still ask). None: every ambiguous example asks
    bootstrap_capability_fraction: float = 0.4  # share of bootstrap examples that ask, on an ambiguous frame,
    # "which action would help?" among the interventions only: what each intervention does (a capability),
    # never whether to ask instead of answering (the proactive behaviour GRPO must learn)
    bootstrap_capability_weighting: str = "options"  # which ambiguous rows capability questions are drawn from:
    # "options" = in proportion to the number of interventions the row displays (IN-C's eight fixes get most);
    # "rows" = uniformly
    bootstrap_scenario_weights: dict[str, float] = field(default_factory=dict)  # bootstrap examples of every kind
    # (recognition, asking, capability) drawn per scenario in proportion to these weights (unlisted = 1, whatever
    # the scenario's row count; empty = uniformly over rows). Command line: +model.tiny.bootstrap_scenario_weights.QD=3
    bootstrap_scope: str = "all"  # whose train rows the bootstrap reads: "all" = every scenario's (the base stands
    # in for pre-training and knows every scenario's objects and interventions, as a real base does; one base
    # serves every fold of a leave-one-out sweep); "train_scenarios" = only data.train_scenarios' (a base that has
    # never seen the held-out scenarios: the harder transfer)
    bootstrap_paraphrase: bool = False  # intervention options of bootstrap examples drawn from the training
    # paraphrase bank (proactive_rl.diversity), so the base knows several wordings of each intervention
    bootstrap_shuffle: bool = False  # interventions and categories of bootstrap examples shuffled in place
    bootstrap_letter_rate: float = 0.0  # share of bootstrap answers given as the option's letter, not its text
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
        if self.bootstrap_capability_weighting not in CAPABILITY_WEIGHTINGS:
            raise ValueError(
                f"model.tiny.bootstrap_capability_weighting={self.bootstrap_capability_weighting!r} is not one of "
                f"{CAPABILITY_WEIGHTINGS}"
            )
        if self.bootstrap_scope not in BOOTSTRAP_SCOPES:
            raise ValueError(f"model.tiny.bootstrap_scope={self.bootstrap_scope!r} is not one of {BOOTSTRAP_SCOPES}")
        if not 0.0 <= self.bootstrap_letter_rate <= 1.0:
            raise ValueError(
                f"model.tiny.bootstrap_letter_rate must be within [0, 1], got {self.bootstrap_letter_rate}"
            )
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
        self.bootstrap_scenario_weights = dict(sorted(weights.items()))  # short names: QD and QuickDraw hash alike
        if self.bootstrap_ask_rate is not None and not 0.0 <= self.bootstrap_ask_rate <= 1.0:
            raise ValueError(
                f"model.tiny.bootstrap_ask_rate must be null or within [0, 1], got {self.bootstrap_ask_rate}"
            )


def tiny_config_dict(cfg: TinyModelConfig) -> dict:
    """The fields that define a tiny build (the cache location does not change the model)."""
    values = asdict(cfg)
    values.pop("cache_dir")
    return values
