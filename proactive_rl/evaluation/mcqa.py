"""Multi-turn MCQA, the paper's main metric: play every test episode with the policy, then the reference pass.

Episodes are played by the shared engine (``engine.play_episodes``); their records go to a resumable
``RecordStore`` per model and setting. The reference pass shows the clear frame with the categories only,
so ``ref acc`` measures recognition apart from asking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from proactive_rl.evaluation.engine import EpisodeJob, play_episodes
from proactive_rl.evaluation.jobs import env_factory, records_for, run_settings, setting_name
from proactive_rl.evaluation.metrics import mcqa_metrics
from proactive_rl.evaluation.policy import Policy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.evaluation.report import ModelEvaluation
from proactive_rl.evaluation.settings import EvalSettings

log = logging.getLogger(__name__)


def run_mcqa(
    policy: Policy,
    jobs: Iterable[EpisodeJob],
    make_env: Callable[[EpisodeJob], Any],
    store: RecordStore,
    batch_size: int,
    history: bool = False,
) -> int:
    """Play the jobs not yet in ``store`` and append their records; return how many episodes were played.

    Under several processes (``accelerate launch``) each plays a share; the main process writes all records.
    """
    from proactive_rl.distributed import is_main_process, play_sharded, wait_for_everyone

    pending = store.pending(jobs)
    played = 0
    writer = is_main_process()
    for record in play_sharded(pending, lambda share: play_episodes(policy, share, make_env, batch_size, history)):
        if writer:
            store.append(record["scenario"], record)
        played += 1
        if record["error"] and writer:
            log.warning("%s %s: episode error: %s", record["scenario"], record["id"], record["error"])
    wait_for_everyone()  # every process reads the complete records next
    return played


def evaluate_mcqa(
    policy: Policy,
    settings: EvalSettings,
    test_root: Path,
    scenarios: list[str],
    jobs: list[EpisodeJob],
    output_dir: str | Path,
    label: str,
    model_id: str | None,
) -> ModelEvaluation:
    """The proactive pass (and, with ``settings.reference``, the reference pass) of one policy."""
    setting = setting_name(settings)
    store = RecordStore(output_dir, f"{label}/{setting}", run_settings(settings, test_root, model_id), settings.resume)
    make_env = env_factory(test_root, settings.hint, False, settings.wording)
    played = run_mcqa(policy, jobs, make_env, store, settings.batch_size, settings.history)
    log.info("%s %s: %d episodes played (%d resumed)", label, setting, played, len(jobs) - played)
    metrics = {s: mcqa_metrics(s, records_for(store, jobs, s)) for s in scenarios}
    reference = None
    if settings.reference:
        reference_settings = run_settings(settings, test_root, model_id, hint=False, history=False, reference=True)
        reference_store = RecordStore(output_dir, f"{label}/reference", reference_settings, settings.resume)
        run_mcqa(policy, jobs, env_factory(test_root, False, True), reference_store, settings.batch_size, False)
        reference = {s: mcqa_metrics(s, records_for(reference_store, jobs, s)) for s in scenarios}
    return ModelEvaluation(label, "mcqa", setting, scenarios, metrics, reference, store.directory)
