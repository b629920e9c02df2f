"""The ``tiny`` model: built once per (tiny config, train data), cached on disk, reloaded like a hub checkpoint.

The cache folder is ``<cache_dir>/tiny-<hash>`` where the hash covers every field of ``model.tiny`` that
changes the model (not the cache location) and the identity of the train data the tokenizer and the
bootstrap read. A build happens in a temporary sibling folder renamed into place at the end, so an
interrupted build never leaves a folder that looks complete, and two processes racing on the same build
both end with one valid folder. ``build_info.json`` in the folder records the config, the data identity,
the timings and the bootstrap metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from proactive_rl.paths import CACHE_DIR, REPO_ROOT
from proactive_rl.staging import staged_folder
from proactive_rl.tiny.config import TinyModelConfig, tiny_config_dict

log = logging.getLogger(__name__)

BUILD_INFO = "build_info.json"
BUILD_VERSION = 4  # bump when the build code changes its output for the same config (part of the cache key)
TEXT_COLUMNS = ("prompt", "options", "ground_truth", "proactive_actions")


def default_cache_dir() -> Path:
    return CACHE_DIR / "models"


def tiny_config(model_cfg) -> TinyModelConfig:
    """The ``model.tiny`` settings of a TinyModelConfig, a ModelConfig or a ``model`` config mapping."""
    if isinstance(model_cfg, TinyModelConfig):
        return model_cfg
    from proactive_rl.models.config import as_model_config

    return as_model_config(model_cfg).tiny


def tiny_model_dir(model_cfg, train_source=None, scenarios: Sequence[str] | None = None) -> Path:
    """Where the tiny build for this config and train data lives (whether or not it exists yet)."""
    tiny = tiny_config(model_cfg)
    cache_dir = Path(tiny.cache_dir) if tiny.cache_dir else default_cache_dir()
    key = {
        "version": BUILD_VERSION,
        "tiny": tiny_config_dict(tiny),
        "data": data_identity(train_source, tiny),
        "scenarios": _canonical(bootstrap_scenarios(tiny, scenarios)),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir / f"tiny-{digest}"


def bootstrap_scenarios(tiny: TinyModelConfig, scenarios: Sequence[str] | None) -> Sequence[str] | None:
    """The scenarios whose train rows the bootstrap reads: all of them (None) unless
    ``model.tiny.bootstrap_scope=train_scenarios``, whatever the run trains GRPO on."""
    return scenarios if tiny.bootstrap_scope == "train_scenarios" else None


def data_identity(train_source, tiny: TinyModelConfig) -> str | None:
    """What names the train data in the cache key: the split folder plus, for ProactiveBench-Synth, its
    generation config (from ``manifest.json``), or an in-memory dataset's fingerprint; None without data."""
    if train_source is None:
        return None
    if _is_dataset(train_source):
        return f"dataset:{train_source._fingerprint}"
    path = Path(train_source).resolve()
    try:
        identity = f"repo:{path.relative_to(REPO_ROOT)}"
    except ValueError:
        identity = f"path:{path}"
    manifest = path.parent / "manifest.json"  # ProactiveBench-Synth records its generation config there
    if manifest.is_file():
        config = json.loads(manifest.read_text()).get("config")
        identity += ":" + hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    return identity


def ensure_tiny_model(model_cfg, train_source=None, scenarios: Sequence[str] | None = None) -> Path:
    """Path of the tiny checkpoint for ``model_cfg`` and ``train_source``, building it first if missing.

    ``train_source`` is the train split (a folder readable by ``proactive_rl.data.load_train_split`` or a
    ``datasets.Dataset``); it is required when ``model.tiny.bootstrap_steps > 0``. It is only ever the
    *train* split: test episodes are never read before evaluation. The tokenizer is trained on the text of
    every row (vocabulary is not knowledge: a hub model's tokenizer covers all scenarios too). The bootstrap
    reads every scenario's train rows (``model.tiny.bootstrap_scope=all``: one base for every fold), or with
    ``bootstrap_scope=train_scenarios`` only the rows of ``scenarios`` (the run's training scenarios), so a
    held-out scenario stays unseen.
    """
    tiny = tiny_config(model_cfg)
    if tiny.bootstrap_steps > 0 and train_source is None:
        raise ValueError(
            "model.tiny.bootstrap_steps > 0 needs the train split (train_source) for the supervised bootstrap; "
            "pass it, or set model.tiny.bootstrap_steps=0 for an untrained tiny model"
        )
    if train_source is not None and not _is_dataset(train_source) and not Path(train_source).exists():
        raise FileNotFoundError(f"tiny model: train split not found at {train_source}")
    target = tiny_model_dir(tiny, train_source, scenarios)
    if (target / BUILD_INFO).is_file():
        return target
    return _build(tiny, train_source, bootstrap_scenarios(tiny, scenarios), target)


def _build(tiny: TinyModelConfig, train_source, scenarios: Sequence[str] | None, target: Path) -> Path:
    from proactive_rl.diversity import paraphrase_texts
    from proactive_rl.tiny.bootstrap import CAPABILITY_QUESTION, supervised_bootstrap
    from proactive_rl.tiny.build import build_tiny, save_model_folder

    started = time.perf_counter()
    rows = _load_rows(train_source) if train_source is not None else None
    texts = _corpus_texts(rows) if rows is not None else []
    texts.append(CAPABILITY_QUESTION)
    if tiny.bootstrap_paraphrase:  # the base that learns the training paraphrases also tokenizes them compactly
        texts += paraphrase_texts()
    processor, model = build_tiny(tiny, texts)
    report = None
    if tiny.bootstrap_steps > 0:
        bootstrap_rows = _select_scenarios(rows, scenarios)
        log.info("tiny model: supervised bootstrap, %d steps on %d rows", tiny.bootstrap_steps, len(bootstrap_rows))
        report = supervised_bootstrap(model, processor, bootstrap_rows, tiny)
        log.info("tiny model bootstrap: %s", report.to_dict())

    info = {
        "version": BUILD_VERSION,
        "config": tiny_config_dict(tiny),
        "data": data_identity(train_source, tiny),
        "scenarios": _canonical(scenarios),
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "build_seconds": round(time.perf_counter() - started, 2),
        "bootstrap": report.to_dict() if report else None,
    }
    with staged_folder(target, BUILD_INFO) as staging:
        save_model_folder(processor, model.eval(), staging)
        (staging / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    log.info("tiny model ready at %s (%.1fs)", target, info["build_seconds"])
    return target


def read_build_info(folder: str | Path) -> dict:
    return json.loads((Path(folder) / BUILD_INFO).read_text())


def _canonical(scenarios: Sequence[str] | None) -> list[str] | None:
    if scenarios is None:
        return None
    from envs import canonical_scenario

    return sorted(canonical_scenario(name) for name in scenarios)


def _select_scenarios(rows, scenarios: Sequence[str] | None):
    if scenarios is None:
        return rows
    if "scenario" not in rows.column_names:
        raise ValueError("tiny model bootstrap: the train split has no 'scenario' column to select scenarios with")
    keep = set(_canonical(scenarios))
    indices = [index for index, name in enumerate(rows["scenario"]) if name in keep]
    if not indices:
        raise ValueError(f"tiny model bootstrap: the train split has no rows of scenarios {sorted(keep)}")
    return rows.select(indices)


def _is_dataset(source) -> bool:
    return hasattr(source, "_fingerprint") and hasattr(source, "column_names")


def _load_rows(train_source):
    if _is_dataset(train_source):
        return train_source
    from proactive_rl.data import load_train_split

    return load_train_split(train_source)


def _corpus_texts(rows) -> list[str]:
    """Every prompt, option, category and intervention string of the split, each once."""
    from proactive_rl.prompting import user_text

    columns = [column for column in TEXT_COLUMNS if column in rows.column_names]
    texts: dict[str, None] = {}
    for row in rows.select_columns(columns):
        texts[user_text(row["prompt"])] = None
        for column in ("options", "proactive_actions"):
            for text in row.get(column) or []:
                texts[text] = None
        texts[str(row.get("ground_truth", ""))] = None
    return list(texts)
