"""What an evaluation plays and where its records go: the episodes of each scenario, their environments, the
settings a results folder depends on, and the folder name of a setting."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from proactive_rl.evaluation.engine import EpisodeJob
from proactive_rl.evaluation.policy import HFPolicy, Policy
from proactive_rl.evaluation.records import RecordStore
from proactive_rl.evaluation.settings import EvalSettings


def setting_name(settings: EvalSettings) -> str:
    """Folder name of a setting: mode plus the options that change the prompts."""
    return settings.mode + ("-hint" if settings.hint else "") + ("-history" if settings.history else "")


def run_settings(settings: EvalSettings, test_root: Path, model_id: str | None, **extra: Any) -> dict[str, Any]:
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


def canonical_scenarios(scenarios: Sequence[str]) -> list[str]:
    import envs

    names = [envs.canonical_scenario(name) for name in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"eval.scenarios lists a scenario twice: {list(scenarios)}")
    return names


def scenario_jobs(scenario: str, test_root: Path, settings: EvalSettings) -> list[EpisodeJob]:
    """The episodes of ``scenario`` this setting plays: the filtered test entries (MCQA), or the OEG subset."""
    import envs

    entries = envs.load_entries(scenario, test_root, filter=True)
    ids = [str(entry["id"]) for entry in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{scenario}: duplicate episode ids in the test file under {test_root}")
    if settings.mode == "oeg":
        return oeg_jobs(scenario, entries, settings.oeg_samples, settings.oeg_seed)
    limit = settings.max_episodes_per_scenario
    return [EpisodeJob(scenario, entry) for entry in (entries[:limit] if limit else entries)]


def oeg_jobs(scenario: str, entries: list[dict], samples: int, seed: int) -> list[EpisodeJob]:
    """The official OEG subset: the entries shuffled by ``random.seed(seed)``, the first ``samples`` kept."""
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    return [EpisodeJob(scenario, entry) for entry in shuffled[:samples]]


def all_jobs(scenarios: Sequence[str], test_root: Path, settings: EvalSettings) -> list[EpisodeJob]:
    return [job for scenario in scenarios for job in scenario_jobs(scenario, test_root, settings)]


def env_factory(test_root: Path, hint: bool, reference: bool) -> Callable[[EpisodeJob], Any]:
    import envs

    def make_env(job: EpisodeJob) -> Any:
        return envs.make(job.scenario, job.entry, test_root, hint=hint, reference=reference)

    return make_env


def records_for(store: RecordStore, jobs: list[EpisodeJob], scenario: str) -> list[dict]:
    """The records of ``scenario`` in ``store`` that belong to ``jobs`` (a folder may hold more)."""
    wanted = {job.id for job in jobs if job.scenario == scenario}
    return [record for record in store.load(scenario) if str(record["id"]) in wanted]


def as_policy(model: Any, processor: Any, settings: EvalSettings) -> Policy:
    """A ``Policy`` as given (``processor=None``), or the HF model + processor wrapped with the setting's decoding."""
    if processor is None and isinstance(model, Policy):
        return model
    max_new_tokens = settings.max_new_tokens if settings.mode == "mcqa" else settings.oeg_max_new_tokens
    return HFPolicy(model, processor, max_new_tokens, settings.do_sample, settings.temperature, settings.top_p)
