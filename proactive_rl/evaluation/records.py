"""Per-episode results, appended as JSON lines while a run goes, so a killed run resumes where it stopped.

Layout: ``<output_dir>/<tag>/<scenario>.jsonl``, one line per finished episode, plus ``<tag>/run.json``
with the settings that change results. A line is written and flushed as soon as its episode ends; on
resume the ids already present are skipped, and a last line cut short by the kill is dropped (the file is
truncated back to its last complete line before anything new is appended). Resuming with settings that
would change the numbers is refused: mixing them would give a summary that no single run produces.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class SettingsMismatch(ValueError):
    """The results folder was written with different settings than the run trying to resume it."""


class RecordStore:
    """The JSONL files of one tag (one model x one setting) under ``output_dir``."""

    def __init__(self, output_dir: str | Path, tag: str, run_settings: dict[str, Any], resume: bool = True) -> None:
        from proactive_rl.distributed import is_main_process, main_process_first

        self.directory = Path(output_dir) / tag
        self.tag = tag
        with main_process_first():  # under several processes, the others find the folder the main one made
            if is_main_process():
                if not resume and self.directory.exists():
                    shutil.rmtree(self.directory)
                self.directory.mkdir(parents=True, exist_ok=True)
            self._check_settings(run_settings)

    def _check_settings(self, run_settings: dict[str, Any]) -> None:
        path = self.directory / "run.json"
        expected = json.loads(json.dumps(run_settings))
        if path.exists():
            recorded = json.loads(path.read_text())
            if recorded != expected:
                changed = sorted(k for k in set(recorded) | set(expected) if recorded.get(k) != expected.get(k))
                raise SettingsMismatch(
                    f"{path} was written with different settings ({', '.join(changed)}: "
                    f"{ {k: recorded.get(k) for k in changed} } -> { {k: expected.get(k) for k in changed} }); "
                    "use another eval.output_dir, or eval.resume=false to start these results afresh"
                )
            return
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, path)

    def path(self, scenario: str) -> Path:
        return self.directory / f"{scenario}.jsonl"

    def load(self, scenario: str) -> list[dict]:
        """The complete records of ``scenario``; a cut-off last line is dropped from the file."""
        path = self.path(scenario)
        if not path.exists():
            return []
        raw = path.read_bytes()
        records: list[dict] = []
        good_length = 0
        offset = 0
        for line in raw.splitlines(keepends=True):
            offset += len(line)
            if not line.endswith(b"\n"):
                break  # cut short by a kill
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{len(records) + 1}: not a JSON record ({error})") from error
            good_length = offset
        if good_length < len(raw):
            with path.open("r+b") as handle:
                handle.truncate(good_length)
        return records

    def done_ids(self, scenario: str) -> set[str]:
        return {str(record["id"]) for record in self.load(scenario)}

    def pending(self, jobs: list) -> list:
        """The jobs (anything with ``scenario`` and ``id``) that have no record yet, in order."""
        done: dict[str, set[str]] = {}
        for job in jobs:
            if job.scenario not in done:
                done[job.scenario] = self.done_ids(job.scenario)
        return [job for job in jobs if job.id not in done[job.scenario]]

    def append(self, scenario: str, record: dict) -> None:
        with self.path(scenario).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def scenarios(self) -> Iterator[str]:
        for path in sorted(self.directory.glob("*.jsonl")):
            yield path.stem
