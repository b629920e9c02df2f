"""`episodes.html`: every evaluated episode, turn by turn, with the frames the model saw.

The tables say how often a policy was right; the question after a run is *what it did*: on which frame it
asked, what it asked for, where it went wrong, what the base did on the same episode. The per-episode
records store the answers and verdicts but not the frames, and they need not: the environments are
deterministic, so replaying each recorded answer sequence through ``envs.make`` (reset, then one step per
recorded answer) recovers every turn's frame, options and valid interventions. The replay also checks
itself: each replayed verdict must equal the recorded one, and a disagreement is shown on the episode.

The page is static and self-contained (inline CSS, script and data; no server, no network). Frames are small
JPEG thumbnails in ``episodes_files/`` beside the page, named by a hash of their bytes so an episode's
first frame, shared by the base and the fine-tuned run, is stored once. Embedding them instead would put
every thumbnail of every episode into the page (some 33,000 at the benchmark's 7,557 episodes: tens of MB of
base64 to parse before anything shows, see benchmarks/bench_browser.py); as files they load only for the
cards on screen (``loading="lazy"``, 50 cards per page). The episode data is one JSON blob with a string table (options and
categories repeat across turns and episodes), rendered into cards a page at a time by the script.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PAGE_NAME = "episodes.html"
FRAMES_FOLDER = "episodes_files"
THUMBNAIL_SIDE = 128
THUMBNAIL_QUALITY = 75
ENDINGS = ("correct", "wrong", "abstain", "invalid", "turn cap", "no next frame", "error")


@dataclass
class TurnView:
    frame: str | None  # thumbnail file name, None when the replay could not show it
    prompt: str | None  # the question as shown (with the hint, when the setting adds it)
    options: list[str]
    valid: list[str]  # options that counted as an intervention on this turn
    answer: str
    kind: str  # the recorded verdict
    option: str | None  # the option the answer was matched to


@dataclass
class RunView:
    """One model's play of one episode."""

    ending: str  # one of ENDINGS
    correct: bool
    hit_turn_cap: bool
    error: str | None
    turns: list[TurnView]
    reference_kind: str | None = None  # verdict of the reference pass (clear frame), when it was run
    note: str | None = None  # where the replay disagreed with the record


@dataclass
class EpisodeView:
    scenario: str
    id: str
    answer: str
    reference_frame: str | None
    runs: dict[str, RunView] = field(default_factory=dict)  # column label -> run


# ---- reading records --------------------------------------------------------------------------------------


def read_records(path: Path) -> list[dict]:
    """Complete JSON lines of a record file; read-only (a line still being written is left alone)."""
    records = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON record ({error})") from error
    return records


def find_setting_folders(root: str | Path) -> list[Path]:
    """MCQA result folders (``<label>/<setting>/run.json``) under ``root``, e.g. a run folder or its ``eval/``."""
    folders = []
    for settings_file in sorted(Path(root).rglob("run.json")):
        settings = json.loads(settings_file.read_text())
        if settings.get("mode") == "mcqa" and not settings.get("reference"):
            folders.append(settings_file.parent)
    return folders


def _column_label(folder: Path) -> str:
    label, setting = folder.parent.name, folder.name
    return label if setting == "mcqa" else f"{label} ({setting})"


def _ending(record: dict) -> str:
    kinds = record.get("kinds") or []
    if record.get("error") or not kinds:
        return "error"
    if kinds[-1] != "intervention":
        return kinds[-1]
    return "turn cap" if record.get("hit_max_turns") else "no next frame"


# ---- replay -----------------------------------------------------------------------------------------------


class Thumbnails:
    """Writes each distinct frame once into ``folder`` as a small JPEG named by the hash of its bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: set[str] = set()

    def add(self, image: Any) -> str:
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        buffer = io.BytesIO()
        small.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY)
        data = buffer.getvalue()
        name = hashlib.sha1(data).hexdigest()[:16] + ".jpg"
        if name not in self.written:
            path = self.folder / name
            if not path.exists():
                path.write_bytes(data)
            self.written.add(name)
        return name

    def remove_unused(self) -> None:
        for path in self.folder.glob("*.jpg"):
            if path.name not in self.written:
                path.unlink()


class Replayer:
    """Rebuilds the turns of recorded episodes from the deterministic environments of one test folder."""

    def __init__(self, test_root: Path, hint: bool, thumbnails: Thumbnails) -> None:
        self.test_root = test_root
        self.hint = hint
        self.thumbnails = thumbnails
        self._entries: dict[str, dict[str, dict]] = {}

    def entry(self, scenario: str, episode_id: str) -> dict:
        import envs

        if scenario not in self._entries:
            entries = envs.load_entries(scenario, self.test_root, filter=True)
            self._entries[scenario] = {str(entry["id"]): entry for entry in entries}
        try:
            return self._entries[scenario][episode_id]
        except KeyError:
            raise KeyError(
                f"{scenario} episode id {episode_id} is not in the test file under {self.test_root}"
            ) from None

    def reference_frame(self, scenario: str, entry: dict) -> str | None:
        import envs

        try:
            observation, _ = envs.make(scenario, entry, self.test_root, reference=True).reset()
        except (OSError, ValueError):
            return None
        return self.thumbnails.add(observation["image"])

    def replay(self, record: dict, entry: dict) -> RunView:
        import envs

        answers, kinds, options = record.get("answers", []), record.get("kinds", []), record.get("options", [])
        turns: list[TurnView] = []
        note = None
        try:
            env = envs.make(record["scenario"], entry, self.test_root, hint=self.hint)
            observation, _ = env.reset()
            for index, (answer, kind) in enumerate(zip(answers, kinds, strict=True)):
                valid = env.valid_interventions()
                frame = self.thumbnails.add(observation["image"])
                options_shown = list(observation["options"])
                turns.append(
                    TurnView(frame, observation["prompt"], options_shown, valid, answer, kind, options[index])
                )
                observation, _, terminated, truncated, info = env.step(answer)
                replayed = info["outcome"].kind
                if replayed != kind:
                    note = f"replay differs on turn {index + 1}: recorded {kind}, replayed {replayed}"
                    break
                if (terminated or truncated) and index + 1 < len(answers):
                    note = f"replay ended after turn {index + 1} of {len(answers)} recorded"
                    break
        except (OSError, ValueError, RuntimeError) as error:
            note = f"replay stopped: {type(error).__name__}: {error}"
        for answer, kind, option in list(zip(answers, kinds, options, strict=True))[len(turns) :]:
            turns.append(TurnView(None, None, [], [], answer, kind, option))
        return RunView(
            _ending(record),
            bool(record.get("correct")),
            bool(record.get("hit_max_turns")),
            record.get("error"),
            turns,
            note=note,
        )


def collect_episodes(folders: Sequence[Path], frames: Path, test_root: str | Path | None = None) -> list[EpisodeView]:
    """Every recorded episode of the setting folders, replayed; frames are written under ``frames``."""
    thumbnails = Thumbnails(frames)
    episodes: dict[tuple[str, str], EpisodeView] = {}
    replayers: dict[tuple[str, bool], Replayer] = {}
    for folder in folders:
        settings = json.loads((folder / "run.json").read_text())
        raw_root = test_root or settings.get("test_root")
        if not raw_root or not Path(raw_root).is_dir():
            raise FileNotFoundError(
                f"{folder / 'run.json'}: test_root {raw_root!r} is not a folder; pass the test folder the "
                "episodes were played on (proactive-rl browse RUN_DIR --test-root PATH)"
            )
        root = Path(raw_root)
        key = (str(root.resolve()), bool(settings.get("hint")))
        replayer = replayers.setdefault(key, Replayer(root, key[1], thumbnails))
        reference = _reference_kinds(folder.parent / "reference")
        label = _column_label(folder)
        for path in sorted(folder.glob("*.jsonl")):
            for record in read_records(path):
                scenario, episode_id = record["scenario"], str(record["id"])
                entry = replayer.entry(scenario, episode_id)
                episode = episodes.get((scenario, episode_id))
                if episode is None:
                    episode = EpisodeView(
                        scenario, episode_id, entry["answer"], replayer.reference_frame(scenario, entry)
                    )
                    episodes[(scenario, episode_id)] = episode
                run = replayer.replay(record, entry)
                run.reference_kind = reference.get((scenario, episode_id))
                episode.runs[label] = run
    thumbnails.remove_unused()
    return list(episodes.values())


def _reference_kinds(folder: Path) -> dict[tuple[str, str], str]:
    kinds = {}
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        for record in read_records(path):
            kinds[(record["scenario"], str(record["id"]))] = _ending(record)
    return kinds


# ---- the page ---------------------------------------------------------------------------------------------


class _Strings:
    """A table of distinct strings; the data refers to them by index (options repeat on every turn)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str | None) -> int:
        if text is None:
            return -1
        if text not in self.index:
            self.index[text] = len(self.index)
        return self.index[text]

    def table(self) -> list[str]:
        return list(self.index)


def page_data(episodes: Iterable[EpisodeView], title: str, frames_folder: str = FRAMES_FOLDER) -> dict[str, Any]:
    """The JSON the page script renders: models, scenarios, endings, a string table and compact episodes."""
    from envs import SCENARIOS

    episodes = list(episodes)
    strings = _Strings()
    models = list(dict.fromkeys(label for episode in episodes for label in episode.runs))
    order = {name: index for index, name in enumerate(SCENARIOS)}
    episodes.sort(key=lambda e: (order.get(e.scenario, len(order)), e.scenario, _natural(e.id)))
    rows = []
    for episode in episodes:
        runs = []
        for model in models:
            run = episode.runs.get(model)
            if run is None:
                runs.append(None)
                continue
            turns = [
                [
                    strings(turn.frame),
                    strings(turn.prompt),
                    [strings(option) for option in turn.options],
                    [turn.options.index(option) for option in turn.valid if option in turn.options],
                    strings(turn.answer),
                    strings(turn.kind),
                    strings(turn.option),
                ]
                for turn in run.turns
            ]
            runs.append(
                [
                    strings(run.ending),
                    int(run.correct),
                    int(run.hit_turn_cap),
                    strings(run.error),
                    strings(run.reference_kind),
                    strings(run.note),
                    turns,
                ]
            )
        rows.append(
            [strings(episode.scenario), episode.id, strings(episode.answer), strings(episode.reference_frame), runs]
        )
    scenarios = list(dict.fromkeys(episode.scenario for episode in episodes))
    return {
        "title": title,
        "frames": frames_folder,
        "models": models,
        "scenarios": scenarios,
        "endings": list(ENDINGS),
        "strings": strings.table(),
        "episodes": rows,
    }


def _natural(identifier: str) -> tuple:
    return (0, int(identifier), "") if identifier.isdigit() else (1, 0, identifier)


def render_page(data: dict[str, Any]) -> str:
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    template = (Path(__file__).parent / "templates" / "episodes.html").read_text(encoding="utf-8")
    return template.replace("__TITLE__", html.escape(data["title"])).replace("__DATA__", blob)


def write_episode_browser(
    folders: Sequence[Path], output_dir: str | Path, title: str | None = None, test_root: str | Path | None = None
) -> Path:
    """Replay the episodes recorded in ``folders`` and write ``output_dir/episodes.html`` (+ its frames)."""
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    episodes = collect_episodes(folders, output / FRAMES_FOLDER, test_root)
    title = title or f"Episodes of {output.resolve()}"
    page = output / PAGE_NAME
    temporary = page.with_name(page.name + ".tmp")
    temporary.write_text(render_page(page_data(episodes, title)), encoding="utf-8")
    os.replace(temporary, page)
    return page


def write_browser_beside_report(folders: Sequence[Path], output_dir: Path) -> dict[str, Path]:
    """The report's hook: the page beside summary.md; a failure is logged, the tables already written stay."""
    try:
        return {"episodes": write_episode_browser(folders, output_dir)}
    except Exception:  # the page is a view of results that are already safe on disk
        log.exception("episodes.html not written; rebuild it with `proactive-rl browse %s`", output_dir)
        return {}


def browse(run_dir: str | Path, output_dir: str | Path | None = None, test_root: str | Path | None = None) -> Path:
    """``proactive-rl browse``: the page of a finished or interrupted evaluation, from its records alone."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"browse: {run_dir} is not a folder (expected a train run folder or an eval folder)")
    folders = find_setting_folders(run_dir)
    if not folders:
        raise FileNotFoundError(
            f"browse: no MCQA results under {run_dir} (looked for <label>/<setting>/run.json with mode mcqa)"
        )
    parents = {folder.parent.parent for folder in folders}
    default_output = parents.pop() if len(parents) == 1 else run_dir
    return write_episode_browser(folders, output_dir or default_output, test_root=test_root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proactive-rl browse",
        description="(Re)build episodes.html from the per-episode records of a finished or interrupted evaluation.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a train run folder, or an eval output folder")
    parser.add_argument("--out", help="folder of episodes.html (default: the folder holding the model folders)")
    parser.add_argument("--test-root", help="the test folder, when it moved since the evaluation (run.json's)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        page = browse(args.run_dir, args.out, args.test_root)
    except (FileNotFoundError, KeyError, ValueError) as error:
        parser.error(str(error))
    print(page)
    return page
