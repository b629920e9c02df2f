"""Weights & Biases through TRL's ``report_to``, offline unless an API key is present.

Offline runs are real W&B runs (``wandb sync`` uploads them later); their files live in the run folder.
The API key is read by W&B from the environment or netrc and never copied into configs or logs.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig


def wandb_mode(requested: str) -> str:
    if requested != "auto":
        return requested
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


def setup_tracking(logger: DictConfig, run_dir: Path) -> list[str]:
    """Point TRL's W&B callback at the run folder (offline unless a key is set); returns TRL's report_to."""
    report_to = [name for name in logger.report_to if name != "none"]
    if "wandb" not in report_to:
        return report_to
    mode = wandb_mode(logger.mode)
    if mode == "disabled":
        return [name for name in report_to if name != "wandb"]
    os.environ["WANDB_MODE"] = mode
    os.environ["WANDB_DIR"] = str(run_dir)
    os.environ["WANDB_PROJECT"] = logger.project
    os.environ["WANDB_LOG_MODEL"] = "false"
    if logger.entity:
        os.environ["WANDB_ENTITY"] = logger.entity
    if logger.tags:
        os.environ["WANDB_TAGS"] = ",".join(logger.tags)
    return report_to


def log_eval_summary(summary, project: str | None = None) -> None:
    """Log the evaluation table and its headline scalars to the active W&B run (or a new eval run in ``project``)."""
    try:
        import wandb
    except ImportError:
        return
    run = wandb.run
    if run is None and project is not None:
        run = wandb.init(project=project, job_type="eval")
    if run is None:
        return
    run.log({"eval/summary": summary.to_wandb_table()})
    for key, value in summary.scalars.items():
        run.summary[key] = value


def finish_tracking() -> None:
    try:
        import wandb
    except ImportError:
        return
    if wandb.run is not None:
        wandb.finish()


def log_to_file(path: Path) -> None:
    """Copy the run's log records to ``path`` too (Hydra's own file log is off: the run folder is made after the
    config checks, by the code, so a config error leaves no folder behind)."""
    import logging

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    logging.getLogger().addHandler(handler)
