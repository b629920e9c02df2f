"""Folders that appear whole or not at all: built under a hidden staging name, renamed into place when complete.

Used by every cache the project fills (synthetic data, tiny models, the tiny judge): a run killed mid-build
leaves no half-written folder that a later run would trust, and two processes building the same folder at
once both succeed (the second keeps the first's copy: same inputs, same content).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(target: str | os.PathLike, complete_marker: str, replace: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder; on success it becomes ``target``, on any error it is removed.

    ``complete_marker`` is a file every finished ``target`` holds: a ``target`` without it is the leftover of
    an older, interrupted build and is replaced; with it, ``target`` is kept unless ``replace``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if not (staging / complete_marker).is_file():
            raise RuntimeError(f"staged build of {target} finished without writing {complete_marker}")
        if target.exists() and (replace or not (target / complete_marker).is_file()):
            shutil.rmtree(target)
        try:
            staging.rename(target)
        except OSError:
            if not (target / complete_marker).is_file():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process finished the same build first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
