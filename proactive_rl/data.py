"""The ``data`` config group and the loaders shared by real ProactiveBench data and ProactiveBench-Synth.

Real and synthetic data go through the same code: the test split is an official-format folder
(``<test_root>/<official name>_preprocessed.jsonl`` + images, read with ``envs.load_entries``) and the
train split is whatever :func:`load_train_split` reads (a ``save_to_disk`` folder, parquet, or a hub id).
The synthetic generator only decides where those come from (:func:`prepare_data`).

The default held-out split trains on ROD, VSOD, MVP-N, IN-C and QD and keeps CIT and COCO unseen: CIT
reuses the video vocabulary (rewind / wait) on a new visual mechanism (an object that has not arrived
yet, frames ``step_size`` apart), and COCO asks for interventions never seen in training (camera moves,
zoom-out), so the two measure transfer at two distances, as the paper's unseen-scenario results do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import envs
from proactive_rl.hub import looks_local

log = logging.getLogger(__name__)

HUB_TRAIN_ID = "tdemin16/ProactiveBench"


@dataclass
class DataConfig:
    name: str = "synthetic"  # "synthetic" (ProactiveBench-Synth, generated offline) or "proactivebench" (real data)
    root: str | None = None  # synthetic output folder; null = <repo>/.cache/data/synth-<hash of the generation fields>
    seed: int = 0  # generator seed: same seed, byte-identical data; test and train use separate streams
    test_per_scenario: int = 50  # synthetic test episodes per scenario (VSOD is capped at its 42 filter ids)
    train_rows: int = 8000  # synthetic train rows, spread evenly over the seven scenarios (QD needs the shapes)
    # fraction of train rows showing an informative frame (answer: the category); the rest show an ambiguous
    # frame (answer: an intervention). 0.5 keeps "always intervene" and "always answer" equally wrong.
    informative_ratio: float = 0.5
    image_size: int = 84  # side of synthetic frames in pixels, 64..512 (COCO scenes: 2x wide, 1.5x high); 84 = 3x28
    num_workers: int = 2  # processes drawing synthetic episodes (does not change the output)
    test_root: str | None = None  # real data: folder holding the official *_preprocessed.jsonl files and images
    train_source: str | None = None  # real data: hub id (tdemin16/ProactiveBench, online only) or a local path
    train_scenarios: list[str] = field(default_factory=lambda: ["ROD", "VSOD", "MVP-N", "IN-C", "QD"])  # trained on
    eval_scenarios: list[str] = field(default_factory=lambda: list(envs.SCENARIOS))  # evaluated on (default all)
    # relative share of GRPO prompts per training scenario, e.g. {IN-C: 3}: the train rows are resampled (seeded,
    # same total) so that each scenario's share is its weight over the sum; unlisted training scenarios weigh 1.
    # Empty: rows as stored. Rebalances the RL signal toward scenarios that learn slowly.
    scenario_weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DataPaths:
    test_root: Path  # folder of official-format test files
    train_source: str  # what load_train_split reads


def prepare_data(cfg: DataConfig) -> DataPaths:
    """Paths of the test folder and train source; generates ProactiveBench-Synth first when it is missing."""
    if cfg.name == "synthetic":
        from proactive_rl.synth import prepare_synthetic

        root = prepare_synthetic(cfg)
        return DataPaths(test_root=root / "test", train_source=str(root / "train"))

    if cfg.name == "proactivebench":
        if not cfg.test_root:
            raise ValueError(
                "data.test_root is not set: point it to the folder holding the *_preprocessed.jsonl files"
            )
        test_root = Path(cfg.test_root).expanduser()
        if not test_root.is_dir():
            raise FileNotFoundError(f"data.test_root {test_root} is not a folder")
        expected = [
            f"{envs.OFFICIAL_NAMES[envs.canonical_scenario(s)]}_preprocessed.jsonl" for s in cfg.eval_scenarios
        ]
        missing = [name for name in expected if not (test_root / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"data.test_root {test_root} lacks {', '.join(missing)} (needed by data.eval_scenarios)"
            )
        source = cfg.train_source or HUB_TRAIN_ID
        if looks_local(source) and not Path(source).expanduser().exists():
            raise FileNotFoundError(f"data.train_source {source} does not exist")
        return DataPaths(test_root=test_root, train_source=source)

    raise ValueError(f"data.name {cfg.name!r} is not one of: synthetic, proactivebench")


def _canonical_list(scenarios: Sequence[str]) -> list[str]:
    return [envs.canonical_scenario(name) for name in scenarios]


def load_train_split(source: str | Path, scenarios: Sequence[str] | None = None):
    """The train split (a ``datasets.Dataset``) from a ``save_to_disk`` folder, parquet file/folder or hub id.

    Rows keep the HF train schema (prompt, images, ground_truth, proactive_actions, options, confidences)
    and always get a ``scenario`` column: read when present, else inferred from the option texts with
    :func:`envs.infer_scenario`. With ``scenarios`` (short or official names), only those rows are kept.
    """
    import datasets

    wanted = _canonical_list(scenarios) if scenarios is not None else None
    dataset = _read_train_source(datasets, str(source))
    if "scenario" not in dataset.column_names:
        inferred = [envs.infer_scenario(options) or "unknown" for options in dataset["options"]]
        unknown = inferred.count("unknown")
        if unknown:
            log.warning(
                "%d of %d train rows match no scenario rule; they are labelled 'unknown'", unknown, len(inferred)
            )
        dataset = dataset.add_column("scenario", inferred)
    if wanted is None:
        return dataset
    keep = set(wanted)
    indices = [i for i, name in enumerate(dataset["scenario"]) if name in keep]
    if not indices:
        raise ValueError(f"train split {source} has no rows of scenarios {wanted}")
    return dataset.select(indices)


def scenario_shares(cfg: DataConfig) -> dict[str, float] | None:
    """Each training scenario's share of GRPO prompts from ``data.scenario_weights`` (None: rows as stored).

    Checked before any data or model is loaded: a weight must name a scenario and be a finite number >= 0, and
    a training scenario must keep a positive weight. A weight for a scenario that is not trained is ignored
    (with a warning), so one weights file serves a leave-one-scenario-out sweep.
    """
    if not cfg.scenario_weights:
        return None
    trained = _canonical_list(cfg.train_scenarios)
    weights = dict.fromkeys(trained, 1.0)
    for name, weight in cfg.scenario_weights.items():
        try:
            scenario = envs.canonical_scenario(name)
        except ValueError as error:
            raise ValueError(f"data.scenario_weights: {error}") from None
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < float("inf"):
            raise ValueError(f"data.scenario_weights.{name}={weight!r}: expected a finite number >= 0")
        if scenario not in weights:
            log.warning("data.scenario_weights.%s is ignored: %s is not a training scenario", name, scenario)
            continue
        weights[scenario] = float(weight)
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("data.scenario_weights: every weight is 0; at least one training scenario must be sampled")
    return {scenario: weight / total for scenario, weight in weights.items()}


def rebalance_scenarios(dataset, shares: dict[str, float] | None, seed: int):
    """``dataset`` resampled to the same size with each scenario's share of rows (seeded; rows repeat when a
    scenario has fewer rows than its share, and are subsampled without repeats when it has more)."""
    if shares is None:
        return dataset
    import numpy as np

    rng = np.random.default_rng(seed)
    by_scenario: dict[str, list[int]] = {}
    for index, name in enumerate(dataset["scenario"]):
        by_scenario.setdefault(name, []).append(index)
    missing = [name for name, share in shares.items() if share > 0 and name not in by_scenario]
    if missing:
        raise ValueError(f"data.scenario_weights: the train split has no rows of {missing}")
    indices: list[int] = []
    for name, share in shares.items():
        rows = by_scenario.get(name, [])
        target = round(len(dataset) * share)
        if not rows or target == 0:
            continue
        order = rng.permutation(len(rows))
        indices.extend(rows[order[i % len(rows)]] for i in range(target))
    indices = [indices[i] for i in rng.permutation(len(indices))]
    return dataset.select(indices)


def _read_train_source(datasets, source: str):
    path = Path(source).expanduser()
    if path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file()):
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if "train" not in loaded:
                raise ValueError(f"{path} is a DatasetDict without a 'train' split (splits: {list(loaded)})")
            loaded = loaded["train"]
        return loaded
    if path.is_file() and path.suffix == ".parquet":
        return datasets.load_dataset("parquet", data_files=str(path), split="train")
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"{path} holds neither a save_to_disk dataset nor parquet files")
        return datasets.load_dataset("parquet", data_files=files, split="train")
    if looks_local(source):
        raise FileNotFoundError(
            f"train source {source} does not exist (expected a folder, a .parquet file or a hub id)"
        )
    try:
        return datasets.load_dataset(source, split="train")
    except Exception as error:  # noqa: BLE001 - any hub failure gets the same actionable message
        raise RuntimeError(
            f"could not load the train split {source!r} from the Hugging Face hub ({type(error).__name__}: {error}). "
            "The hub is unreachable offline: download it where there is network and pass the local folder as "
            "data.train_source, or use data=synthetic"
        ) from error
