"""Write ProactiveBench-Synth: an official-format test folder, train episodes and a train split.

Layout of ``out_dir`` (written into a temporary sibling folder, renamed into place when complete):

- ``test/<official name>_preprocessed.jsonl`` + ``test/<official name>/<id>/...``: the test split in the
  official on-disk format, ids taken from the official test filter so ``envs.load_entries(...,
  filter=True)`` keeps every entry;
- ``train_episodes/``: the same format for the train episodes (ids from 0, not filtered), usable for
  multi-turn rollouts;
- ``train/``: the train split in the HF train schema (``datasets.save_to_disk``), one row per train
  episode, extracted by playing the episode through ``envs`` so prompts and options are exactly what
  the environment shows;
- ``manifest.json``: the generation config and counts.

Every episode draws from its own ``numpy`` generator seeded with (seed, split, scenario, index), so the
output is byte-identical for a seed, whatever the number of worker processes, and test and train
episodes come from disjoint random streams.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import envs
from envs.matching import is_abstain_option
from proactive_rl.staging import staged_folder
from proactive_rl.synth.cache import GENERATOR_VERSION, MANIFEST, generation_config

if TYPE_CHECKING:
    from proactive_rl.data import DataConfig
from proactive_rl.prompting import format_mcqa, user_message
from proactive_rl.synth.drawing import CATEGORIES
from proactive_rl.synth.scenarios import AMBIGUOUS, INFORMATIVE, MAKERS

SPLIT_CODES = {"test": 0, "train": 1}
SHUFFLED_ORDER_SHARE = 0.5  # train episodes whose interventions and abstain option are shown in a random order
ENTRY_KEY_ORDER = ("id", "image_template", "first_image", "num_images", "reference_image", "prompt", "options")
NEUTRAL_CONFIDENCE = 0.25  # qwen_conf / llava_conf: a uniform guess over the four categories (not computed)
# qwen_delta / llava_delta stand-in: the real split records a base model's confidence change per intervention;
# here an intervention on a perfect player's shortest path to the informative frame gains, any other valid one
# (ROD's other direction, VSOD's / CIT's other way through the video) loses
ORACLE_CONFIDENCE_GAIN = 1.0


def oracle_deltas(actions: list[str], best: str) -> list[dict]:
    """Per-intervention confidence change of an ambiguous row: +gain for ``best``, -gain for the others."""
    return [{"key": a, "value": ORACLE_CONFIDENCE_GAIN if a == best else -ORACLE_CONFIDENCE_GAIN} for a in actions]


def episode_rng(seed: int, split: str, scenario: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLIT_CODES[split], envs.SCENARIOS.index(scenario), index])


def _categories_for(rng: np.random.Generator, answer_index: int) -> tuple[str, list[str]]:
    others = [i for i in range(len(CATEGORIES)) if i != answer_index]
    shown = [answer_index, *(int(i) for i in rng.choice(others, size=3, replace=False))]
    rng.shuffle(shown)
    return CATEGORIES[answer_index].name, [CATEGORIES[i].name for i in shown]


def _png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def make_episode(job: tuple) -> dict:
    """Draw one episode, write its images under ``folder`` and return its entry (runs in a worker)."""
    seed, split, scenario, index, entry_id, answer_index, size, folder = job
    rng = episode_rng(seed, split, scenario, index)
    answer, categories = _categories_for(rng, answer_index)
    episode = MAKERS[scenario](rng, CATEGORIES[answer_index], size)
    official = envs.OFFICIAL_NAMES[scenario]
    relative = f"{official}/{entry_id:06d}"
    target = Path(folder) / relative
    target.mkdir(parents=True, exist_ok=True)
    content = hashlib.sha256()
    for name in sorted(episode.images):
        data = _png_bytes(episode.images[name])
        content.update(name.encode() + data)
        (target / name).write_bytes(data)
    fields = dict(episode.fields)
    fields["image_template"] = f"{relative}/{fields['image_template']}"
    entry = {"id": entry_id, **{k: fields.pop(k) for k in ENTRY_KEY_ORDER[1:]}}
    entry["categories"] = categories
    entry["answer"] = answer
    entry.update(fields)
    entry["synth"] = {**episode.synth_record(), "split": split, "index": index, "content_sha256": content.hexdigest()}
    if split == "train":
        entry["options"] = _display_order(entry["options"], seed, scenario, index)
    return entry


def _display_order(options: list[str], seed: int, scenario: str, index: int) -> list[str]:
    """Half of the train episodes show their interventions and abstain option in a random order.

    The official data lists them in any order (the abstain option is not always last), and rows written from
    such turns are what the rewards and the splitter must judge right; the default training sees both. A stream
    of its own, so the drawings stay as they were. Test episodes keep the order their maker gives.
    """
    rng = np.random.default_rng([seed, SPLIT_CODES["train"], envs.SCENARIOS.index(scenario), index, 2**31 + 5])
    if rng.random() >= SHUFFLED_ORDER_SHARE:
        return options
    return [options[int(i)] for i in rng.permutation(len(options))]


def _jobs(cfg: DataConfig, split: str, scenario: str, count: int, ids: list[int], folder: Path) -> list[tuple]:
    order = np.random.default_rng([cfg.seed, SPLIT_CODES[split], envs.SCENARIOS.index(scenario), 2**31]).permutation(
        len(CATEGORIES)
    )
    return [
        (
            cfg.seed,
            split,
            scenario,
            index,
            ids[index],
            int(order[index % len(CATEGORIES)]),
            cfg.image_size,
            str(folder),
        )
        for index in range(count)
    ]


def test_ids(cfg: DataConfig, scenario: str) -> list[int]:
    """Entry ids for the test split: a seeded sample of the official filter's ids for the scenario."""
    from envs.loading import test_filter_ids

    allowed = sorted(test_filter_ids(envs.OFFICIAL_NAMES[scenario]))
    count = min(cfg.test_per_scenario, len(allowed))
    rng = np.random.default_rng([cfg.seed, SPLIT_CODES["test"], envs.SCENARIOS.index(scenario), 2**31 + 1])
    return sorted(int(i) for i in rng.choice(allowed, size=count, replace=False))


def train_counts(cfg: DataConfig) -> dict[str, int]:
    base, extra = divmod(cfg.train_rows, len(envs.SCENARIOS))
    return {scenario: base + (i < extra) for i, scenario in enumerate(envs.SCENARIOS)}


def _write_jsonl(path: Path, entries: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for entry in sorted(entries, key=lambda e: e["id"]):
            handle.write(json.dumps(entry, separators=(", ", ": ")) + "\n")


def _draw_split(cfg: DataConfig, split: str, folder: Path, pool: ProcessPoolExecutor | None) -> dict[str, list[dict]]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for scenario in envs.SCENARIOS:
        if split == "test":
            ids = test_ids(cfg, scenario)
            count = len(ids)
        else:
            count = train_counts(cfg)[scenario]
            ids = list(range(count))
        jobs += _jobs(cfg, split, scenario, count, ids, folder)
    chunk = max(1, len(jobs) // (8 * max(1, cfg.num_workers)))
    results = pool.map(make_episode, jobs, chunksize=chunk) if pool is not None else map(make_episode, jobs)
    by_scenario: dict[str, list[dict]] = {scenario: [] for scenario in envs.SCENARIOS}
    for job, entry in zip(jobs, results, strict=True):
        by_scenario[job[2]].append(entry)
    for scenario, entries in by_scenario.items():
        _write_jsonl(folder / f"{envs.OFFICIAL_NAMES[scenario]}_preprocessed.jsonl", entries)
    return by_scenario


def _row_turn(entry: dict, state: str) -> int:
    """The oracle turn a train row shows: the informative one, or a seeded pick among those in ``state``."""
    states = entry["synth"]["states"]
    if state == INFORMATIVE:
        return states.index(INFORMATIVE)
    turns = [turn for turn, frame_state in enumerate(states) if frame_state == state]
    rng = np.random.default_rng([entry["id"], len(states), 7])
    return int(rng.choice(turns))


def _row_states(scenario: str, entries: list[dict], informative_ratio: float, seed: int):
    """Which frame each train episode's row shows: ``informative_ratio`` of them their informative frame, the
    others an ambiguous one."""
    code = envs.SCENARIOS.index(scenario)
    rng = np.random.default_rng([seed, SPLIT_CODES["train"], code, 2**31 + 2])
    states = [AMBIGUOUS] * len(entries)
    for index in rng.permutation(len(entries))[: round(len(entries) * informative_ratio)]:
        states[index] = INFORMATIVE
    return states


def play_to_turn(scenario: str, entry: dict, root: Path, turn: int):
    """Play the oracle's interventions through ``envs`` and return (env, obs) at ``turn``."""
    env = envs.make(scenario, entry, root)
    obs, _ = env.reset()
    for option in entry["synth"]["oracle"][:turn]:
        obs, _, terminated, _, info = env.step(option)
        if terminated:
            raise RuntimeError(
                f"{scenario} entry id {entry['id']}: oracle intervention {option!r} ended the episode "
                f"({info['outcome'].kind})"
            )
    return env, obs


def train_rows(entries: dict[str, list[dict]], root: Path, informative_ratio: float, seed: int) -> list[dict]:
    """One HF-schema row per train episode, showing its informative or an ambiguous frame.

    ``categories_scored`` is false where the environment scores every category wrong (ROD's first turn), so the
    rewards grant nothing the environment would not.
    """
    rows = []
    for scenario, scenario_entries in entries.items():
        row_states = _row_states(scenario, scenario_entries, informative_ratio, seed)
        for entry, state in zip(scenario_entries, row_states, strict=True):
            informative = state == INFORMATIVE
            turn = _row_turn(entry, state)
            env, obs = play_to_turn(scenario, entry, root, turn)
            actions = [] if informative else env.valid_interventions()
            if not informative and not actions:
                raise RuntimeError(f"{scenario} train entry {entry['id']}: {state} frame without valid interventions")
            delta = [] if informative else oracle_deltas(actions, entry["synth"]["oracle"][turn])
            text = format_mcqa(obs["prompt"], obs["options"])
            rows.append(
                {
                    "prompt": [user_message(text, num_images=1)],
                    "images": [obs["image"]],
                    "ground_truth": entry["answer"],
                    "proactive_actions": actions,
                    "options": obs["options"],
                    "qwen_conf": NEUTRAL_CONFIDENCE,
                    "llava_conf": NEUTRAL_CONFIDENCE,
                    "qwen_delta": delta,
                    "llava_delta": delta,
                    "scenario": scenario,
                    "state": state,
                    "categories_scored": bool(env.correct_categories()),
                }
            )
            assert not any(is_abstain_option(a) for a in actions)
    return rows


def train_features():
    import datasets

    message = {
        "role": datasets.Value("string"),
        "content": datasets.List({"type": datasets.Value("string"), "text": datasets.Value("string")}),
    }
    delta = datasets.List({"key": datasets.Value("string"), "value": datasets.Value("float32")})
    return datasets.Features(
        {
            "prompt": datasets.List(message),
            "images": datasets.List(datasets.Image()),
            "ground_truth": datasets.Value("string"),
            "proactive_actions": datasets.List(datasets.Value("string")),
            "options": datasets.List(datasets.Value("string")),
            "qwen_conf": datasets.Value("float32"),
            "llava_conf": datasets.Value("float32"),
            "qwen_delta": delta,
            "llava_delta": delta,
            "scenario": datasets.Value("string"),
            "state": datasets.Value("string"),
            "categories_scored": datasets.Value("bool"),
        }
    )


def _save_train_split(rows: list[dict], folder: Path) -> None:
    import datasets

    for row in rows:
        for message in row["prompt"]:
            message["content"] = [{"type": part["type"], "text": part.get("text")} for part in message["content"]]
    dataset = datasets.Dataset.from_list(rows, features=train_features())
    dataset.save_to_disk(str(folder))


def make_data(cfg: DataConfig, out_dir: str | Path, overwrite: bool = False) -> Path:
    """Generate ProactiveBench-Synth for ``cfg`` into ``out_dir`` (atomically) and return the folder."""
    check_generation_settings(cfg)
    out = Path(out_dir)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} already exists; pass overwrite=True (--overwrite) or choose another folder")
    started = time.perf_counter()
    with staged_folder(out, MANIFEST, replace=overwrite) as staging:
        workers = max(1, int(cfg.num_workers))
        with ProcessPoolExecutor(workers) if workers > 1 else _NoPool() as pool:
            test = _draw_split(cfg, "test", staging / "test", pool)
            episodes = _draw_split(cfg, "train", staging / "train_episodes", pool)
        rows = train_rows(episodes, staging / "train_episodes", cfg.informative_ratio, cfg.seed)
        _save_train_split(rows, staging / "train")
        manifest = {
            "format": "ProactiveBench-Synth",
            "generator_version": GENERATOR_VERSION,
            "config": generation_config(cfg),
            "test_episodes": {scenario: len(entries) for scenario, entries in test.items()},
            "train_episodes": {scenario: len(entries) for scenario, entries in episodes.items()},
            "train_rows": len(rows),
            "train_informative_rows": sum(row["state"] == INFORMATIVE for row in rows),
        }
        manifest["generation_seconds"] = round(time.perf_counter() - started, 1)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def check_generation_settings(cfg: DataConfig) -> None:
    """Ranges of the synthetic generation settings (raises ValueError naming each bad key)."""
    problems = []
    if not 64 <= cfg.image_size <= 512:
        problems.append(f"data.image_size={cfg.image_size} (expected 64..512 pixels)")
    if not 0.0 <= cfg.informative_ratio <= 1.0:
        problems.append(f"data.informative_ratio={cfg.informative_ratio} (expected a fraction in [0, 1])")
    if cfg.test_per_scenario < 1:
        problems.append(f"data.test_per_scenario={cfg.test_per_scenario} (expected >= 1)")
    if cfg.train_rows < 0:
        problems.append(f"data.train_rows={cfg.train_rows} (expected >= 0)")
    if problems:
        raise ValueError("invalid synthetic data config: " + "; ".join(problems))


class _NoPool:
    """Stand-in for a process pool when ``num_workers`` is 1 (``None`` makes the caller map in-process)."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
