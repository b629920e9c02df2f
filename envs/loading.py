"""Reading the official test split: ``<root>/<official name>_preprocessed.jsonl`` plus the test filter.

The official loader keeps an entry when its id is in the per-dataset filter (shipped here as
``envs/data/proactivebench_test_filter.json``) and it does not carry ``strong_occlusions == False``
(a check applied to every dataset, though only VSOD entries carry the field). On the full official data
this keeps 7,557 entries. Unlike the official loader, bad input fails with a message naming the file,
the line and the field.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from envs.scenarios import SPECS

FILTER_PATH = Path(__file__).parent / "data" / "proactivebench_test_filter.json"
ROOT_HINT = "is data.test_root the folder holding the *_preprocessed.jsonl files?"


@cache
def test_filter_ids(official_name: str) -> frozenset:
    with FILTER_PATH.open() as handle:
        return frozenset(json.load(handle)[official_name])


def entries_path(scenario: str, root: str | Path) -> Path:
    return Path(root) / f"{SPECS[scenario].official}_preprocessed.jsonl"


def keeps(entry: dict, kept_ids: frozenset) -> bool:
    """The official test filter: listed id, and not explicitly marked as a weak occlusion."""
    weak = "strong_occlusions" in entry and entry["strong_occlusions"] == False  # noqa: E712 (official test)
    return not weak and entry["id"] in kept_ids


def read_entries(scenario: str, root: str | Path, filter: bool = True) -> list[dict]:
    spec = SPECS[scenario]
    root_path = Path(root)
    path = entries_path(scenario, root)
    if not root_path.is_dir():
        raise FileNotFoundError(f"data root {root_path} is not a folder; expected {path}; {ROOT_HINT}")
    if not path.is_file():
        raise FileNotFoundError(f"expected {path}; {ROOT_HINT}")
    kept_ids = test_filter_ids(spec.official) if filter else None
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {line_number}: not valid JSON ({error.msg})") from error
            if not isinstance(entry, dict):
                raise ValueError(f"{path}, line {line_number}: expected a JSON object, got {type(entry).__name__}")
            if "id" not in entry:
                raise ValueError(f"{path}, line {line_number}: missing required field 'id'")
            if kept_ids is not None and not keeps(entry, kept_ids):
                continue
            for name in spec.required_fields:
                if name not in entry:
                    raise ValueError(
                        f"{path}, line {line_number} (entry id {entry['id']}): missing required field {name!r} "
                        f"(a {spec.short} entry needs {', '.join(spec.required_fields)})"
                    )
            entries.append(entry)
    return entries
