"""Putting a freshly written checkpoint folder in place so that `--resume` always finds one.

A save writes `.last.tmp-PID` beside `last`. Once every file is in it, it is renamed `.last.new-PID` (from then on
it is a complete checkpoint), the old `last` is renamed `.last.old-PID`, the new one becomes `last`, and the old
copy is removed. The only instant without a `last` is between those two middle renames. A crash there leaves two
complete copies, `.last.new-PID` (the newest) and `.last.old-PID` (the previous). `recover_missing` renames the
newest complete copy back: load_checkpoint calls it when a folder is missing, and every save calls it (through
`tidy`) before removing what dead writers left behind. An error in-process (not a crash) between the renames puts
the old folder back at once.

Liveness: a name whose process is alive is never touched, except this process's own names that it is not
writing now (the GUI may load a checkpoint while its worker thread saves one, so names in progress are tracked).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from nnstudio.util.leftovers import Leftover, find_leftovers, is_stale, remove_path

# every name a save makes beside its folder, and what it holds; "new" and "old" are complete checkpoints
STAGES = {"tmp": "a save in progress", "new": "the checkpoint being saved", "old": "the previous checkpoint"}
RECOVERABLE = ("new", "old")
LEFTOVER = re.compile(r"\.(?P<target>[^/\\]+)\.(?P<stage>tmp|new|old)-(?P<pid>[0-9]{1,10})")

_busy: set[Path] = set()  # this process's names in progress
_lock = threading.Lock()


def stage_path(directory: Path, stage: str) -> Path:
    return directory.parent / f".{directory.name}.{stage}-{os.getpid()}"


@contextlib.contextmanager
def staging(directory: Path, required: tuple[str, ...]) -> Iterator[Path]:
    """An empty staging folder for `directory`, after tidying its parent; removed again if the block fails.

    `required` names the files a complete checkpoint holds (what recovery checks before renaming a copy back)."""
    names = [stage_path(directory, stage) for stage in STAGES]
    with _lock:
        _busy.update(names)
    try:
        tidy(directory.parent, required)
        folder = names[0]
        remove_path(folder)
        folder.mkdir()
        yield folder
    except BaseException:
        remove_path(names[0])
        if directory.is_dir():  # a copy that never made it in; with no folder in place it may be the only one
            remove_path(names[1])
        raise
    finally:
        with _lock:
            _busy.difference_update(names)


def swap_in(staging_folder: Path, directory: Path) -> None:
    """Rename a complete staging folder to `directory`; see the module docstring for the order and why."""
    ready, old = stage_path(directory, "new"), stage_path(directory, "old")
    remove_path(ready)
    staging_folder.rename(ready)
    previous = directory.is_dir()
    if previous:
        remove_path(old)
    try:
        if previous:
            directory.rename(old)
        ready.rename(directory)
    except BaseException:  # an error in this process (a crash is recover_missing's business): put the old back
        if previous and not directory.exists():
            with contextlib.suppress(OSError):
                old.rename(directory)
        raise
    remove_path(old)


def _stale(parent: Path) -> list[Leftover]:
    with _lock:
        busy = set(_busy)
    return [found for found in find_leftovers(parent, LEFTOVER) if is_stale(found, busy)]


def _complete(folder: Path, required: tuple[str, ...]) -> bool:
    return folder.is_dir() and not folder.is_symlink() and all((folder / name).is_file() for name in required)


def _age(folder: Path, required: tuple[str, ...]) -> float:
    """When the copy was written (its files' newest time); the newest complete copy wins."""
    try:
        return max((folder / name).stat().st_mtime for name in required)
    except OSError:  # gone since it was found complete
        return 0.0


def recover_missing(parent: Path, required: tuple[str, ...]) -> list[str]:
    """Rename the newest complete copy back for every folder of `parent` that an interrupted save left missing.

    Returns one line per folder recovered, saying from what."""
    parent = Path(parent)
    candidates: dict[str, list[Leftover]] = {}
    for found in _stale(parent):
        if found.match["stage"] in RECOVERABLE and _complete(found.path, required):
            candidates.setdefault(found.match["target"], []).append(found)
    notes = []
    for target, copies in sorted(candidates.items()):
        directory = parent / target
        if directory.exists() or directory.is_symlink():
            continue
        chosen = max(copies, key=lambda found: _age(found.path, required))
        try:
            chosen.path.rename(directory)
        except OSError:  # another process (another rank) recovered it first, or the folder is read-only
            continue
        notes.append(
            f"{directory}: recovered from {chosen.path.name} ({STAGES[chosen.match['stage']]}), "
            "left by a save that was interrupted"
        )
    return notes


def tidy(parent: Path, required: tuple[str, ...]) -> list[str]:
    """Recover missing folders (recover_missing), then remove every leftover that no live process owns."""
    notes = recover_missing(parent, required)
    for found in _stale(parent):
        kept = found.match["stage"] in RECOVERABLE and not (parent / found.match["target"]).exists()
        if not kept:  # a copy whose folder is missing (one recovery could not take) stays for a person to see
            remove_path(found.path)
    return notes
