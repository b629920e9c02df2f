"""The public entry points: evaluate one policy, compare several, and ``evaluate(cfg)`` behind ``proactive-rl eval``.

``evaluate_policy`` is what the trainer calls before and after fine-tuning (it reuses the model already in
memory); ``compare_runs`` turns several of its results into the base-vs-fine-tuned report;
``evaluate_models`` does both for models given as objects or loader callables (loaded one at a time, OEG
judged once all have answered); ``evaluate(cfg)`` reads a composed ``conf/eval.yaml``, checked first.
The work itself: ``mcqa.py`` and ``oeg.py``, over the episode engine (``engine.py``) and the job lists
(``jobs.py``); tables and plots in ``report.py``.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from proactive_rl.distributed import is_main_process, join_launched_processes
from proactive_rl.evaluation.jobs import all_jobs, as_policy, canonical_scenarios
from proactive_rl.evaluation.judge import Judge
from proactive_rl.evaluation.mcqa import evaluate_mcqa
from proactive_rl.evaluation.oeg import evaluate_oeg, generate_stage, judge_loader, judge_stage
from proactive_rl.evaluation.policy import Policy
from proactive_rl.evaluation.report import ModelEvaluation, Summary, write_report
from proactive_rl.evaluation.settings import EvalSettings, as_eval_settings, judge_source

log = logging.getLogger(__name__)

TINY_JUDGE_MAX_NEW_TOKENS = 32
ModelSource = tuple[Any, Any] | Callable[[], tuple[Any, Any]] | Policy


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
    scenarios = canonical_scenarios(scenarios)
    label = tag.replace("/", "_")
    policy = as_policy(model, processor, settings)
    jobs = all_jobs(scenarios, test_root, settings)
    if settings.mode == "mcqa":
        return evaluate_mcqa(policy, settings, test_root, scenarios, jobs, output_dir, label, model_id)
    return evaluate_oeg(policy, settings, test_root, scenarios, jobs, output_dir, label, model_id, judge)


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
    test_root = Path(test_root)
    scenarios = canonical_scenarios(scenarios)
    jobs = all_jobs(scenarios, test_root, settings)
    model_ids = dict(model_ids or {})
    evaluations: dict[str, ModelEvaluation] = {}
    for label, source in models.items():
        loaded = source() if callable(source) and not isinstance(source, Policy) else source
        model, processor = (loaded, None) if isinstance(loaded, Policy) else loaded
        policy = as_policy(model, processor, settings)
        name, model_id = label.replace("/", "_"), model_ids.get(label)
        if settings.mode == "oeg":
            generate_stage(policy, settings, test_root, jobs, output_dir, name, model_id)
        else:
            evaluations[label] = evaluate_mcqa(
                policy, settings, test_root, scenarios, jobs, output_dir, name, model_id
            )
        del model, processor, loaded, policy
        if callable(source) and not isinstance(source, Policy):
            _release_memory()
    if settings.mode == "oeg":
        shared_judge = judge_loader(judge, settings)
        for label in models:
            name, model_id = label.replace("/", "_"), model_ids.get(label)
            evaluations[label] = judge_stage(
                settings, test_root, scenarios, jobs, output_dir, name, model_id, shared_judge
            )
    if not is_main_process():  # under `accelerate launch` the main process writes the report
        return Summary(list(evaluations.values()), list(train_scenarios or []), "", {}, {})
    summary = compare_runs(evaluations, output_dir, train_scenarios)
    if settings.wandb:
        from proactive_rl.tracking import log_eval_summary

        log_eval_summary(summary, project=settings.wandb_project)
    return summary


def _release_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


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
