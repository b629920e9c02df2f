"""Typed settings of the ``eval`` config group (``conf/eval.yaml`` and ``TrainConfig.eval``).

One dataclass serves the standalone ``proactive-rl eval`` entry and the evaluation at the end of a
training run, so the two cannot drift apart. The defaults reproduce the official protocol (greedy MCQA,
50 new tokens, 100 shuffled OEG samples per scenario, Qwen3-8B judge with thinking enabled); batching,
resuming and the reference pass are what we add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODES = ("mcqa", "oeg")
PAPER_JUDGE = "Qwen/Qwen3-8B"


@dataclass
class JudgeSettings:
    """The LLM judge of open-ended generation (any chat causal LM; the paper uses Qwen3-8B)."""

    # hub id or local folder of a chat causal LM; "tiny": the offline stand-in (scores mean nothing);
    # "auto": "tiny" for the tiny model, else PAPER_JUDGE
    name_or_path: str = "auto"
    dtype: str = "auto"  # auto | bfloat16 | float16 | float32 (auto = float32 on CPU, bfloat16 on GPU)
    batch_size: int = 8  # judge prompts generated together (left padding)
    max_new_tokens: int = 8192  # thinking + verdict budget (official: 2**15); a cut-off verdict scores 0
    enable_thinking: bool = True  # passed to the chat template (Qwen3 thinking mode, as officially)
    do_sample: bool = False  # official judge samples; greedy makes the metric reproducible run to run
    device: str | None = None  # e.g. "cuda:1" to keep the judge off the policy's GPU; None = auto


@dataclass
class EvalSettings:
    """Schema of the ``eval`` config group."""

    mode: str = "mcqa"  # mcqa (multi-turn multiple choice) | oeg (single-turn open-ended, LLM judge)
    scenarios: list[str] | None = None  # short or official names; None = data.eval_scenarios
    hint: bool = False  # append the scenario hint (MCQA) / the generic "tell me what to do" hint (OEG)
    reference: bool = True  # MCQA: also run the reference pass (clear frame, categories only) for ref acc
    history: bool = False  # keep earlier turns (images + answers) in the conversation
    batch_size: int = 32  # episodes in flight; one batched generate per turn over all of them
    max_new_tokens: int = 50  # MCQA answer budget (official: 50)
    oeg_max_new_tokens: int = 1024  # OEG answer budget (official: 2**15)
    do_sample: bool = False  # greedy by default (official MCQA); True samples with temperature/top_p
    temperature: float = 1.0  # only with do_sample
    top_p: float = 1.0  # only with do_sample
    max_episodes_per_scenario: int | None = None  # first N episodes of each scenario; None = all
    oeg_samples: int = 100  # OEG episodes per scenario after the official seeded shuffle
    oeg_seed: int = 0  # seed of that shuffle (official: random.seed(0))
    judge: JudgeSettings = field(default_factory=JudgeSettings)  # the OEG judge model
    adapters: dict[str, str | None] = field(default_factory=lambda: {"base": None})  # row label -> LoRA
    # adapter folder (None = the model as configured); every row of the comparison table is one entry
    output_dir: str = "outputs/eval"  # per-episode JSONL, summary table, CSV and plots go here
    resume: bool = True  # skip episodes already recorded in output_dir; False starts those files afresh
    wandb: bool = False  # log the summary as a W&B table (to the active run, else a new eval run)
    wandb_project: str = "proactive-rl"  # project of a standalone eval run

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"eval.mode={self.mode!r} is not one of {MODES}")
        for key in ("batch_size", "max_new_tokens", "oeg_max_new_tokens", "oeg_samples"):
            if getattr(self, key) < 1:
                raise ValueError(f"eval.{key}={getattr(self, key)} must be >= 1")
        if self.max_episodes_per_scenario is not None and self.max_episodes_per_scenario < 1:
            raise ValueError(f"eval.max_episodes_per_scenario={self.max_episodes_per_scenario} must be >= 1 or null")
        if isinstance(self.judge, dict):
            self.judge = JudgeSettings(**self.judge)


def judge_source(judge: JudgeSettings, model_family: str | None) -> str:
    """What ``judge.name_or_path`` stands for: "tiny", or a hub id / folder ("auto" decided by the model family)."""
    if judge.name_or_path == "auto":
        return "tiny" if model_family == "tiny" else PAPER_JUDGE
    return judge.name_or_path


def as_eval_settings(cfg) -> EvalSettings:
    """Accept an EvalSettings, a DictConfig or a dict with the same fields."""
    if isinstance(cfg, EvalSettings):
        return cfg
    if hasattr(cfg, "_metadata"):
        from omegaconf import OmegaConf

        cfg = OmegaConf.to_container(cfg, resolve=True)
    values = dict(cfg)
    judge = values.pop("judge", None) or {}
    if not isinstance(judge, JudgeSettings):
        judge = JudgeSettings(**dict(judge))
    return EvalSettings(**values, judge=judge)
