"""The OEG judge: the official judge prompts and verdict parsing, and the chat LM that writes the verdicts.

A chat LLM (Qwen3-8B in the paper, any chat causal LM here) gets the question, the list of valid answers
(interventions first, then the category) and the reply, and writes one 0/1 per valid answer on its last
line. The judge's text is read after its last ``</think>``; the last run of comma-separated 0/1 digits in it
is the verdict, which must have one digit per valid answer, otherwise the sample scores 0 everywhere (as
officially). The first k digits are interventions (k per scenario: ``ScenarioSpec.oeg_intervention_answers``,
the official PREDICTION_THR): ps = any of them, cp = any of the rest, agg = ps or cp.

The judge's system and user prompts define the metric, so they are kept word for word as released in
the official package (``proactivebench/open_ended_gen.py``, v0.1.1, MIT), stored as data in
``templates/oeg_judge_system.txt`` and ``templates/oeg_judge_user.txt``. The valid-answer list is shown
to the judge as Python prints a list of strings, as officially.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from envs import canonical_scenario
from envs.scenarios import SPECS
from proactive_rl.evaluation.settings import JudgeSettings, judge_source

TEMPLATES = Path(__file__).resolve().parent / "templates"

_VERDICT_RUN = re.compile(r"[01](?:\s*,\s*[01])*")
THINK_END = "</think>"


@cache
def judge_template(name: str) -> str:
    text = (TEMPLATES / f"oeg_judge_{name}.txt").read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def valid_answer_list(valid_answers: str) -> list[str]:
    """The list shown to the judge: comma-separated pieces, trimmed, with periods removed."""
    return [piece.strip().replace(".", "") for piece in valid_answers.split(",")]


def judge_messages(prompt: str, valid_answers: str, reply: str) -> list[dict]:
    """System + user chat messages asking the judge to grade ``reply`` against the valid answers."""
    user = judge_template("user").format(
        user_prompt=prompt, correct_answers=valid_answer_list(valid_answers), generated_answer=reply
    )
    return [{"role": "system", "content": judge_template("system")}, {"role": "user", "content": user}]


def visible_reply(judge_output: str) -> str:
    """The judge's reply without its thinking: what follows the last ``</think>`` (all of it when absent)."""
    position = judge_output.rfind(THINK_END)
    visible = judge_output[position + len(THINK_END) :] if position >= 0 else judge_output
    return visible.strip("\n")


@dataclass(frozen=True)
class JudgeVerdict:
    flags: list[int] | None  # one 0/1 per valid answer; None when the judge's output is unusable
    ps: int  # a valid intervention was suggested
    cp: int  # the right category was named
    agg: int  # either

    @property
    def malformed(self) -> bool:
        return self.flags is None


def parse_verdict(scenario: str, valid_answers: str, judge_reply: str) -> JudgeVerdict:
    """Score a judge reply (thinking already removed); unusable replies score 0, as officially."""
    runs = _VERDICT_RUN.findall(judge_reply)
    expected = sum(1 for piece in valid_answers.split(",") if piece.strip())
    if not runs:
        return JudgeVerdict(None, 0, 0, 0)
    flags = [int(digit) for digit in (piece.strip() for piece in runs[-1].split(",")) if digit]
    if len(flags) != expected:
        return JudgeVerdict(None, 0, 0, 0)
    split = SPECS[canonical_scenario(scenario)].oeg_intervention_answers
    ps, cp = int(any(flags[:split])), int(any(flags[split:]))
    return JudgeVerdict(flags, ps, cp, int(ps or cp))


class Judge:
    """A chat causal LM that grades batches of judge conversations (left padding, one ``generate`` per batch)."""

    def __init__(self, model: Any, tokenizer: Any, settings: JudgeSettings | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings or JudgeSettings()

    def generate(self, conversations: Sequence[list[dict]]) -> list[str]:
        import torch

        texts = [
            self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True, enable_thinking=self.settings.enable_thinking
            )
            for messages in conversations
        ]
        previous_side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        try:
            inputs = self.tokenizer(texts, padding=True, return_tensors="pt", add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = previous_side
        inputs = inputs.to(self.model.device)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        sampling = {} if self.settings.do_sample else {"temperature": None, "top_p": None, "top_k": None}
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=self.settings.max_new_tokens,
                do_sample=self.settings.do_sample,
                pad_token_id=pad,
                **sampling,
            )
        return self.tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def tiny_judge_corpus() -> list[str]:
    """What the tiny judge's tokenizer is trained on: the judge prompt and the verdict format."""
    return [judge_template("system"), "1,0,0 0,1 <think> </think> Move the camera"]


def load_judge(settings: JudgeSettings) -> Judge:
    """Load the judge named by ``settings.name_or_path`` (hub id or local folder) with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = judge_source(settings, model_family=None)  # callers that know the model resolve "auto" first
    if source == "tiny":
        from proactive_rl.distributed import main_process_first
        from proactive_rl.tiny.judge import ensure_tiny_judge

        with main_process_first():  # under several processes, the main one builds it and the others load it
            source = str(ensure_tiny_judge(tiny_judge_corpus()))
    dtype = settings.dtype
    if dtype == "auto":
        dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    device = settings.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    model.to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    return Judge(model, tokenizer, settings)
