"""Entry points: evaluate one policy, compare several, and the pure ``evaluate(cfg)`` behind ``proactive-rl eval``.

``evaluate_policy`` is what the trainer calls before and after fine-tuning (it reuses the model already in
memory); ``compare_runs`` turns several of its results into the base-vs-fine-tuned report;
``evaluate_models`` does both for models given as objects or loader callables (loaded one at a time);
``evaluate(cfg)`` reads a composed ``conf/eval.yaml`` and checks every path before any work.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from proactive_rl.distributed import is_main_process, join_launched_processes, process_rank_and_count
from proactive_rl.evaluation.mcqa import EpisodeJob, run_mcqa
from proactive_rl.evaluation.metrics import mcqa_metrics, oeg_metrics
from proactive_rl.evaluation.oeg import Judge, generate_answers, judge_answers, load_judge, oeg_jobs
from proactive_rl.evaluation.policy import HFPolicy, Policy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.evaluation.report import ModelEvaluation, Summary, write_report
from proactive_rl.evaluation.settings import EvalSettings, as_eval_settings, judge_source

log = logging.getLogger(__name__)

TINY_JUDGE_MAX_NEW_TOKENS = 32
ModelSource = tuple[Any, Any] | Callable[[], tuple[Any, Any]] | Policy


def setting_name(settings: EvalSettings) -> str:
    """Folder name of a setting: mode plus the options that change the prompts."""
    return settings.mode + ("-hint" if settings.hint else "") + ("-history" if settings.history else "")


def _run_settings(settings: EvalSettings, test_root: Path, model_id: str | None, **extra: Any) -> dict[str, Any]:
    """What a results folder depends on; resuming with anything else changed is refused."""
    values = {
        "test_root": str(Path(test_root).resolve()),
        "model": model_id,
        "mode": settings.mode,
        "hint": settings.hint,
        "history": settings.history,
        "do_sample": settings.do_sample,
        "max_new_tokens": settings.max_new_tokens if settings.mode == "mcqa" else settings.oeg_max_new_tokens,
    }
    if settings.do_sample:
        values.update(temperature=settings.temperature, top_p=settings.top_p)
    return {**values, **extra}


def _canonical_scenarios(scenarios: Sequence[str]) -> list[str]:
    import envs

    names = [envs.canonical_scenario(name) for name in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"eval.scenarios lists a scenario twice: {list(scenarios)}")
    return names


def _jobs(scenario: str, test_root: Path, settings: EvalSettings) -> list[EpisodeJob]:
    import envs

    entries = envs.load_entries(scenario, test_root, filter=True)
    ids = [str(entry["id"]) for entry in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{scenario}: duplicate episode ids in the test file under {test_root}")
    if settings.mode == "oeg":
        return oeg_jobs(scenario, entries, settings.oeg_samples, settings.oeg_seed)
    limit = settings.max_episodes_per_scenario
    return [EpisodeJob(scenario, entry) for entry in (entries[:limit] if limit else entries)]


def _env_factory(test_root: Path, hint: bool, reference: bool) -> Callable[[EpisodeJob], Any]:
    import envs

    def make_env(job: EpisodeJob) -> Any:
        return envs.make(job.scenario, job.entry, test_root, hint=hint, reference=reference)

    return make_env


def _records_for(store: RecordStore, jobs: list[EpisodeJob], scenario: str) -> list[dict]:
    wanted = {job.id for job in jobs if job.scenario == scenario}
    return [record for record in store.load(scenario) if str(record["id"]) in wanted]


def _as_policy(model: Any, processor: Any, settings: EvalSettings) -> Policy:
    if processor is None and isinstance(model, Policy):
        return model
    max_new_tokens = settings.max_new_tokens if settings.mode == "mcqa" else settings.oeg_max_new_tokens
    return HFPolicy(model, processor, max_new_tokens, settings.do_sample, settings.temperature, settings.top_p)


def evaluate_policy(
    model: Any,
    processor: Any,
    settings: EvalSettings | Any,
    test_root: str | Path,
    scenarios: Sequence[str],
    output_dir: str | Path,
    tag: str = "model",
    model_id: str | None = None,
    judge: Judge | Callable[[], Judge] | None = None,
) -> ModelEvaluation:
    """Evaluate one model (or a ``Policy`` with ``processor=None``); records go to ``output_dir/<tag>/<setting>``.

    MCQA runs the proactive pass and, with ``settings.reference``, the reference pass. OEG generates the
    answers, then grades them with ``judge`` (loaded from ``settings.judge`` when None).
    """
    settings = as_eval_settings(settings)
    test_root = Path(test_root)
    scenarios = _canonical_scenarios(scenarios)
    label = tag.replace("/", "_")
    setting = setting_name(settings)
    policy = _as_policy(model, processor, settings)
    jobs = [job for scenario in scenarios for job in _jobs(scenario, test_root, settings)]

    if settings.mode == "mcqa":
        store = RecordStore(
            output_dir, f"{label}/{setting}", _run_settings(settings, test_root, model_id), settings.resume
        )
        played = run_mcqa(
            policy, jobs, _env_factory(test_root, settings.hint, False), store, settings.batch_size, settings.history
        )
        log.info("%s %s: %d episodes played (%d resumed)", label, setting, played, len(jobs) - played)
        metrics = {s: mcqa_metrics(s, _records_for(store, jobs, s)) for s in scenarios}
        reference = None
        if settings.reference:
            ref_settings = _run_settings(settings, test_root, model_id, hint=False, history=False, reference=True)
            ref_store = RecordStore(output_dir, f"{label}/reference", ref_settings, settings.resume)
            run_mcqa(policy, jobs, _env_factory(test_root, False, True), ref_store, settings.batch_size, False)
            reference = {s: mcqa_metrics(s, _records_for(ref_store, jobs, s)) for s in scenarios}
        return ModelEvaluation(label, "mcqa", setting, scenarios, metrics, reference, store.directory)

    if process_rank_and_count()[1] > 1:
        raise NotImplementedError("OEG evaluation runs in one process: start it without `accelerate launch`")
    answers = RecordStore(
        output_dir, f"{label}/{setting}-answers", _run_settings(settings, test_root, model_id), settings.resume
    )
    generate_answers(policy, jobs, _env_factory(test_root, False, False), answers, settings.batch_size, settings.hint)
    judged = _judged_store(output_dir, label, setting, settings, test_root, model_id)
    if any(_pending_judgements(answers, judged, jobs, s) for s in scenarios):
        active_judge = judge() if callable(judge) and not isinstance(judge, Judge) else judge
        judge_answers(active_judge or load_judge(settings.judge), answers, judged, scenarios)
    return _oeg_evaluation(label, setting, scenarios, judged, jobs)


def _judged_store(output_dir, label, setting, settings: EvalSettings, test_root: Path, model_id) -> RecordStore:
    judge = settings.judge
    extra = {"judge": judge.name_or_path, "judge_max_new_tokens": judge.max_new_tokens}
    extra |= {"judge_thinking": judge.enable_thinking, "judge_do_sample": judge.do_sample}
    run_settings = _run_settings(settings, test_root, model_id, **extra)
    return RecordStore(output_dir, f"{label}/{setting}", run_settings, settings.resume)


def _pending_judgements(answers: RecordStore, judged: RecordStore, jobs: list[EpisodeJob], scenario: str) -> bool:
    done = judged.done_ids(scenario)
    return any(str(record["id"]) not in done for record in _records_for(answers, jobs, scenario))


def _oeg_evaluation(label, setting, scenarios, judged: RecordStore, jobs) -> ModelEvaluation:
    metrics = {s: oeg_metrics(s, _records_for(judged, jobs, s)) for s in scenarios}
    return ModelEvaluation(label, "oeg", setting, scenarios, metrics, None, judged.directory)


def compare_runs(
    evaluations: Mapping[str, ModelEvaluation] | Sequence[ModelEvaluation],
    output_dir: str | Path,
    train_scenarios: Sequence[str] | None = None,
) -> Summary:
    """The comparison report (markdown + CSV + plots) of evaluations in the given order (e.g. base, fine-tuned)."""
    rows = list(evaluations.values()) if isinstance(evaluations, Mapping) else list(evaluations)
    if isinstance(evaluations, Mapping):
        for label, evaluation in evaluations.items():
            evaluation.label = label
    modes = {evaluation.mode for evaluation in rows}
    if len(modes) > 1:
        raise ValueError(f"cannot compare MCQA and OEG evaluations in one table (got {sorted(modes)})")
    return write_report(rows, output_dir, list(train_scenarios or []))


def evaluate_models(
    models: Mapping[str, ModelSource],
    settings: EvalSettings | Any,
    test_root: str | Path,
    scenarios: Sequence[str],
    output_dir: str | Path,
    train_scenarios: Sequence[str] | None = None,
    model_ids: Mapping[str, str] | None = None,
    judge: Judge | None = None,
) -> Summary:
    """Evaluate every model (``(model, processor)``, a loader callable returning one, or a ``Policy``) and compare.

    Loader callables are called one at a time and their model is released before the next one loads.
    In OEG mode all models answer first; the judge is then loaded once and grades everything.
    """
    settings = as_eval_settings(settings)
    model_ids = dict(model_ids or {})
    evaluations: dict[str, ModelEvaluation] = {}
    deferred_judging = settings.mode == "oeg"
    for label, source in models.items():
        loaded = source() if callable(source) and not isinstance(source, Policy) else source
        model, processor = (loaded, None) if isinstance(loaded, Policy) else loaded
        if deferred_judging:
            _generate_oeg_only(
                model, processor, settings, test_root, scenarios, output_dir, label, model_ids.get(label)
            )
        else:
            evaluations[label] = evaluate_policy(
                model, processor, settings, test_root, scenarios, output_dir, label, model_ids.get(label)
            )
        del model, processor, loaded
        if callable(source) and not isinstance(source, Policy):
            _release_memory()
    if deferred_judging:
        loaded_judge: list[Judge] = [judge] if judge is not None else []

        def shared_judge() -> Judge:
            if not loaded_judge:
                loaded_judge.append(load_judge(settings.judge))
            return loaded_judge[0]

        judging_settings = dataclasses.replace(settings, resume=True)  # keep the answers just generated
        for label in models:
            evaluations[label] = evaluate_policy(
                _NoNewAnswers(),
                None,
                judging_settings,
                test_root,
                scenarios,
                output_dir,
                label,
                model_ids.get(label),
                judge=shared_judge,
            )
    if not is_main_process():  # under `accelerate launch` the main process writes the report
        return Summary(list(evaluations.values()), list(train_scenarios or []), "", {}, {})
    summary = compare_runs(evaluations, output_dir, train_scenarios)
    if settings.wandb:
        _log_wandb(summary, settings)
    return summary


class _NoNewAnswers:
    """Stands in for a model whose OEG answers are all recorded already (judging stage of evaluate_models)."""

    def generate(self, conversations):
        raise RuntimeError(f"{len(conversations)} OEG answers missing after the generation stage")


def _generate_oeg_only(model, processor, settings, test_root, scenarios, output_dir, label, model_id) -> None:
    test_root = Path(test_root)
    scenarios = _canonical_scenarios(scenarios)
    label = label.replace("/", "_")
    jobs = [job for scenario in scenarios for job in _jobs(scenario, test_root, settings)]
    judged = Path(output_dir) / label / setting_name(settings)
    if not settings.resume and judged.exists():
        shutil.rmtree(judged)  # judgements of answers about to be replaced
    answers = RecordStore(
        output_dir,
        f"{label}/{setting_name(settings)}-answers",
        _run_settings(settings, test_root, model_id),
        settings.resume,
    )
    generate_answers(
        _as_policy(model, processor, settings),
        jobs,
        _env_factory(test_root, False, False),
        answers,
        settings.batch_size,
        settings.hint,
    )


def _release_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def _log_wandb(summary: Summary, settings: EvalSettings) -> None:
    import wandb

    run = wandb.run or wandb.init(project=settings.wandb_project, job_type="eval")
    run.log({"eval/summary": summary.to_wandb_table()})
    for key, value in summary.scalars.items():
        run.summary[key] = value


def resolve_judge(settings: EvalSettings, model_family: str | None) -> EvalSettings:
    """``settings`` with ``judge.name_or_path="auto"`` replaced by the judge it stands for with this model."""
    source = judge_source(settings.judge, model_family)
    judge = dataclasses.replace(settings.judge, name_or_path=source)
    if source == "tiny":  # a random judge rarely stops by itself: a thinking budget would only cost time
        judge.max_new_tokens = min(judge.max_new_tokens, TINY_JUDGE_MAX_NEW_TOKENS)
    return dataclasses.replace(settings, judge=judge)


def evaluate(cfg: Any) -> Summary:
    """``proactive-rl eval``: evaluate ``cfg.model`` with each adapter of ``cfg.eval.adapters`` on the test split.

    Every setting (scenario names, ranges, model folder or hub id, adapters, judge) is checked before data is
    prepared or a model loads (``proactive_rl.validation``).
    """
    from proactive_rl.models import as_model_config, load_model_and_processor
    from proactive_rl.validation import check_eval_config

    join_launched_processes()  # `accelerate launch -m proactive_rl.evaluation ...`: episodes split across processes
    check_eval_config(cfg)
    model_cfg = as_model_config(cfg.model)
    settings = resolve_judge(as_eval_settings(cfg.eval), model_cfg.family)
    adapters = dict(settings.adapters or {"base": None})

    from proactive_rl.data import prepare_data
    from proactive_rl.models import prepare_model

    paths = prepare_data(cfg.data)
    scenarios = list(settings.scenarios or cfg.data.eval_scenarios)
    needs_base = any(adapter is None for adapter in adapters.values()) or (
        model_cfg.family != "tiny" or model_cfg.name_or_path
    )
    model_path = (
        prepare_model(model_cfg, train_source=paths.train_source, scenarios=list(cfg.data.train_scenarios))
        if needs_base
        else None
    )
    base_id = model_cfg.name_or_path or model_path or model_cfg.preset

    def loader(adapter: str | None) -> Callable[[], tuple[Any, Any]]:
        def load() -> tuple[Any, Any]:
            model, processor = load_model_and_processor(model_cfg, adapter=adapter, path=model_path)
            model.eval()
            return model, processor

        return load

    models = {label: loader(adapter) for label, adapter in adapters.items()}
    model_ids = {label: f"{base_id}+{adapter}" if adapter else str(base_id) for label, adapter in adapters.items()}
    train_scenarios = list(getattr(cfg.data, "train_scenarios", None) or [])
    summary = evaluate_models(
        models, settings, paths.test_root, scenarios, settings.output_dir, train_scenarios, model_ids
    )
    if is_main_process():
        print(summary.markdown)
    return summary
