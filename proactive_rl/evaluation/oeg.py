"""Open-ended generation (OEG) with an LLM judge, following the official ProactiveBench protocol.

The model answers one turn without options. A chat LLM (Qwen3-8B in the paper, any chat causal LM here)
gets the question, the list of valid answers (interventions first, then the category) and the reply, and
writes one 0/1 per valid answer on its last line. The judge's text is read after its last ``</think>``;
the last run of comma-separated 0/1 digits in it is the verdict, which must have one digit per valid
answer, otherwise the sample scores 0 everywhere (as officially). The first k digits are interventions
(k per scenario below): ps = any of them, cp = any of the rest, agg = ps or cp.

The judge's system and user prompts define the metric, so they are kept word for word as released in
the official package (``proactivebench/open_ended_gen.py``, v0.1.1, MIT), stored as data in
``templates/oeg_judge_system.txt`` and ``templates/oeg_judge_user.txt``. The valid-answer list is shown
to the judge as Python prints a list of strings, as officially.

Generation and judging are two resumable stages (``<model>/<setting>-answers/<scenario>.jsonl`` then
``<model>/<setting>/<scenario>.jsonl``), so the judge can be loaded once after every model has answered.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from proactive_rl.evaluation.mcqa import EPISODE_DATA_ERRORS, EpisodeJob, _error_text, _load_image
from proactive_rl.evaluation.policy import Conversation, InputRejected, Policy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.evaluation.settings import JudgeSettings, judge_source
from proactive_rl.prompting import format_oeg, user_message

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Leading entries of the valid-answer list that are interventions, per scenario (official PREDICTION_THR).
INTERVENTION_ANSWERS = {"ROD": 2, "VSOD": 3, "MVP-N": 2, "IN-C": 1, "QD": 1, "CIT": 2, "COCO": 2}

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
    split = INTERVENTION_ANSWERS[scenario]
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


def load_judge(settings: JudgeSettings) -> Judge:
    """Load the judge named by ``settings.name_or_path`` (hub id or local folder) with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = judge_source(settings, model_family=None)  # callers that know the model resolve "auto" first
    if source == "tiny":
        from proactive_rl.models.tiny_judge import ensure_tiny_judge

        source = str(ensure_tiny_judge())
    dtype = settings.dtype
    if dtype == "auto":
        dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    device = settings.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    model.to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    return Judge(model, tokenizer, settings)


def oeg_jobs(scenario: str, entries: list[dict], samples: int, seed: int) -> list[EpisodeJob]:
    """The official OEG subset: the entries shuffled by ``random.seed(seed)``, the first ``samples`` kept."""
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    return [EpisodeJob(scenario, entry) for entry in shuffled[:samples]]


def generate_answers(
    policy: Policy,
    jobs: Sequence[EpisodeJob],
    make_env: Callable[[EpisodeJob], Any],
    store: RecordStore,
    batch_size: int,
    hint: bool,
) -> int:
    """Stage 1: one open-ended reply per job, appended to ``store`` (the answers store of a tag)."""
    pending = store.pending(jobs)
    for start in range(0, len(pending), batch_size):
        ready: list[tuple[EpisodeJob, Conversation, str]] = []
        for job in pending[start : start + batch_size]:
            try:
                env = make_env(job)
                observation, _ = env.reset()
                _load_image(observation)
                valid_answers = env.open_ended_answers()
            except EPISODE_DATA_ERRORS as error:
                store.append(job.scenario, _answer_record(job, "", "", None, f"reset failed: {_error_text(error)}"))
                continue
            prompt = format_oeg(observation["prompt"], hint=hint)
            conversation = Conversation([user_message(prompt, 1)], [observation["image"]], observation, env)
            ready.append((job, conversation, valid_answers))
        replies = policy.generate([conversation for _, conversation, _ in ready]) if ready else []
        for (job, conversation, valid_answers), reply in zip(ready, replies, strict=True):
            prompt = conversation.messages[0]["content"][-1]["text"]
            if isinstance(reply, InputRejected):
                store.append(job.scenario, _answer_record(job, prompt, valid_answers, None, reply.reason))
            else:
                store.append(job.scenario, _answer_record(job, prompt, valid_answers, reply, None))
    return len(pending)


def _answer_record(job: EpisodeJob, prompt: str, valid_answers: str, answer: str | None, error: str | None) -> dict:
    return {
        "id": job.entry["id"],
        "scenario": job.scenario,
        "prompt": prompt,
        "valid_answers": valid_answers,
        "answer": answer,
        "error": error,
    }


def judge_answers(judge: Judge, answers: RecordStore, judged: RecordStore, scenarios: Sequence[str]) -> int:
    """Stage 2: grade every recorded answer not yet judged; return how many were judged now."""
    count = 0
    for scenario in scenarios:
        done = judged.done_ids(scenario)
        pending = [record for record in answers.load(scenario) if str(record["id"]) not in done]
        for record in pending:
            if record["error"]:
                judged.append(scenario, {**record, "judge_output": None, "flags": None, "ps": 0, "cp": 0, "agg": 0})
        pending = [record for record in pending if not record["error"]]
        batch_size = judge.settings.batch_size
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            outputs = judge.generate([judge_messages(r["prompt"], r["valid_answers"], r["answer"]) for r in batch])
            for record, output in zip(batch, outputs, strict=True):
                verdict = parse_verdict(scenario, record["valid_answers"], visible_reply(output))
                judged.append(
                    scenario,
                    {
                        **record,
                        "judge_output": output,
                        "flags": verdict.flags,
                        "ps": verdict.ps,
                        "cp": verdict.cp,
                        "agg": verdict.agg,
                    },
                )
                count += 1
    return count
