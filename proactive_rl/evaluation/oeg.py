"""Open-ended generation (OEG), the official protocol: one turn without options, graded by an LLM judge.

Generation and judging are two resumable stages (``<model>/<setting>-answers/<scenario>.jsonl`` then
``<model>/<setting>/<scenario>.jsonl``), so that several models can answer first and the judge (``judge.py``)
be loaded once to grade them all (``evaluate_models``); ``evaluate_oeg`` runs both stages for one model.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from proactive_rl.evaluation.engine import EPISODE_DATA_ERRORS, EpisodeJob, error_text, load_image
from proactive_rl.evaluation.jobs import env_factory, records_for, run_settings, setting_name
from proactive_rl.evaluation.judge import Judge, judge_messages, load_judge, parse_verdict, visible_reply
from proactive_rl.evaluation.metrics import oeg_metrics
from proactive_rl.evaluation.policy import Conversation, InputRejected, Policy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.evaluation.report import ModelEvaluation
from proactive_rl.evaluation.settings import EvalSettings
from proactive_rl.prompting import format_oeg, user_message

log = logging.getLogger(__name__)


def generate_answers(
    policy: Policy,
    jobs: Sequence[EpisodeJob],
    make_env: Callable[[EpisodeJob], Any],
    store: RecordStore,
    batch_size: int,
    hint: bool,
) -> int:
    """Stage 1: one open-ended reply per job, appended to ``store`` (the answers store of a tag).

    Under several processes (``accelerate launch``) each answers a share; the main process writes all records.
    """
    from proactive_rl.distributed import is_main_process, play_sharded, wait_for_everyone

    pending = store.pending(jobs)
    writer = is_main_process()
    for record in play_sharded(pending, lambda share: _answers(policy, share, make_env, batch_size, hint)):
        if writer:
            store.append(record["scenario"], record)
    wait_for_everyone()  # every process reads the complete answers next
    return len(pending)


def _answers(
    policy: Policy, jobs: Sequence[EpisodeJob], make_env: Callable[[EpisodeJob], Any], batch_size: int, hint: bool
) -> Iterator[dict]:
    for start in range(0, len(jobs), batch_size):
        ready: list[tuple[EpisodeJob, Conversation, str]] = []
        for job in jobs[start : start + batch_size]:
            try:
                env = make_env(job)
                observation, _ = env.reset()
                load_image(observation)
                valid_answers = env.open_ended_answers()
            except EPISODE_DATA_ERRORS as error:
                yield _answer_record(job, "", "", None, f"reset failed: {error_text(error)}")
                continue
            prompt = format_oeg(observation["prompt"], hint=hint)
            conversation = Conversation([user_message(prompt, 1)], [observation["image"]], observation, env)
            ready.append((job, conversation, valid_answers))
        replies = policy.generate([conversation for _, conversation, _ in ready]) if ready else []
        for (job, conversation, valid_answers), reply in zip(ready, replies, strict=True):
            prompt = conversation.messages[0]["content"][-1]["text"]
            if isinstance(reply, InputRejected):
                yield _answer_record(job, prompt, valid_answers, None, reply.reason)
            else:
                yield _answer_record(job, prompt, valid_answers, reply, None)


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
    """Stage 2: grade every recorded answer not yet judged; return how many were judged now.

    Under several processes each grades a share with its own copy of the judge; the main process writes.
    """
    from proactive_rl.distributed import is_main_process, play_sharded, wait_for_everyone

    pending = []
    for scenario in scenarios:
        done = judged.done_ids(scenario)
        pending += [record for record in answers.load(scenario) if str(record["id"]) not in done]
    writer = is_main_process()
    count = 0
    for record in play_sharded(pending, lambda share: _verdicts(judge, share), key=_record_key):
        if writer:
            judged.append(record["scenario"], record)
        count += 1
    wait_for_everyone()
    return count


def _record_key(record: dict) -> tuple[str, str]:
    return record["scenario"], str(record["id"])


def _verdicts(judge: Judge, records: Sequence[dict]) -> Iterator[dict]:
    """Judged copies of ``records``, in order: answers that failed are passed through with zero scores."""
    graded: dict[int, dict] = {}
    gradable = [(index, record) for index, record in enumerate(records) if not record["error"]]
    batch_size = judge.settings.batch_size
    for start in range(0, len(gradable), batch_size):
        batch = gradable[start : start + batch_size]
        outputs = judge.generate([judge_messages(r["prompt"], r["valid_answers"], r["answer"]) for _, r in batch])
        for (index, record), output in zip(batch, outputs, strict=True):
            verdict = parse_verdict(record["scenario"], record["valid_answers"], visible_reply(output))
            graded[index] = {
                **record,
                "judge_output": output,
                "flags": verdict.flags,
                "ps": verdict.ps,
                "cp": verdict.cp,
                "agg": verdict.agg,
            }
    for index, record in enumerate(records):
        if record["error"]:
            yield {**record, "judge_output": None, "flags": None, "ps": 0, "cp": 0, "agg": 0}
        else:
            yield graded[index]


def _answers_store(settings: EvalSettings, test_root: Path, output_dir, label: str, model_id) -> RecordStore:
    return RecordStore(
        output_dir, f"{label}/{setting_name(settings)}-answers", run_settings(settings, test_root, model_id),
        settings.resume,
    )  # fmt: skip


def _judged_store(settings: EvalSettings, test_root: Path, output_dir, label: str, model_id) -> RecordStore:
    judge = settings.judge
    extra = {"judge": judge.name_or_path, "judge_max_new_tokens": judge.max_new_tokens}
    extra |= {"judge_thinking": judge.enable_thinking, "judge_do_sample": judge.do_sample}
    return RecordStore(
        output_dir, f"{label}/{setting_name(settings)}", run_settings(settings, test_root, model_id, **extra),
        settings.resume,
    )  # fmt: skip


def generate_stage(
    policy: Policy, settings: EvalSettings, test_root: Path, jobs: list[EpisodeJob], output_dir, label: str, model_id
) -> None:
    """Stage 1 for one model: its answers (judgements of answers about to be replaced are dropped)."""
    judged = Path(output_dir) / label / setting_name(settings)
    if not settings.resume and judged.exists():
        shutil.rmtree(judged)
    answers = _answers_store(settings, test_root, output_dir, label, model_id)
    generate_answers(policy, jobs, env_factory(test_root, False, False), answers, settings.batch_size, settings.hint)


def judge_stage(
    settings: EvalSettings,
    test_root: Path,
    scenarios: list[str],
    jobs: list[EpisodeJob],
    output_dir,
    label: str,
    model_id,
    judge: Callable[[], Judge],
) -> ModelEvaluation:
    """Stage 2 for one model: grade its answers not yet judged (``judge`` is called only if some are pending)."""
    resumed = dataclasses.replace(settings, resume=True)  # keep the answers of stage 1
    answers = _answers_store(resumed, test_root, output_dir, label, model_id)
    judged = _judged_store(settings, test_root, output_dir, label, model_id)
    pending = any(
        str(record["id"]) not in judged.done_ids(s) for s in scenarios for record in records_for(answers, jobs, s)
    )
    if pending:
        judge_answers(judge(), answers, judged, scenarios)
    metrics = {s: oeg_metrics(s, records_for(judged, jobs, s)) for s in scenarios}
    return ModelEvaluation(label, "oeg", setting_name(settings), scenarios, metrics, None, judged.directory)


def evaluate_oeg(
    policy: Policy,
    settings: EvalSettings,
    test_root: Path,
    scenarios: list[str],
    jobs: list[EpisodeJob],
    output_dir,
    label: str,
    model_id,
    judge: Judge | Callable[[], Judge] | None = None,
) -> ModelEvaluation:
    """Both stages for one model; the judge is loaded from ``settings.judge`` when not given."""
    generate_stage(policy, settings, test_root, jobs, output_dir, label, model_id)
    return judge_stage(
        settings, test_root, scenarios, jobs, output_dir, label, model_id, judge_loader(judge, settings)
    )


def judge_loader(judge: Judge | Callable[[], Judge] | None, settings: EvalSettings) -> Callable[[], Judge]:
    """A callable returning the judge: the one given, or one loaded (once) from ``settings.judge``."""
    if isinstance(judge, Judge):
        return lambda: judge
    if callable(judge):
        return judge
    loaded: list[Judge] = []

    def load() -> Judge:
        if not loaded:
            loaded.append(load_judge(settings.judge))
        return loaded[0]

    return load
