"""What a writer killed mid-write (kill -9, a power cut) leaves behind, and whether anyone still owns it.

Staging folders and temporary files carry their writer's process id in their names. While that process lives the
name is its business; once it is gone the name belongs to nobody and may be removed (or, for a complete copy,
renamed back) the next time the folder is written. Each format declares one pattern for its names, a regular
expression with a named group `pid`, so only names we make are ever matched: a user's own files never are.

Liveness errs towards "alive": a leftover is removed only when its writer is surely gone. A process id that was
reused by an unrelated process keeps its leftover a while longer, which costs disk space, never data. Leftovers
are assumed to come from this machine (one machine writes a run's folder).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

_WINDOWS_STILL_ACTIVE = 259
_WINDOWS_ACCESS_DENIED = 5
_WINDOWS_QUERY_LIMITED = 0x1000


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (this process counts as alive).

    On POSIX this is os.kill(pid, 0): no signal is sent, only the existence and permission checks run; a
    process of another user answers EPERM and counts as alive. On Windows os.kill would terminate the process, so
    the process table is asked instead."""
    if pid <= 0:  # 0 and negative ids name process groups for kill(), never a writer
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:  # larger than any process id the system can have
        return False
    except OSError:  # EPERM (another user's process) or anything unexpected: assume it lives
        return True
    return True


def _windows_alive(pid: int) -> bool:
    import ctypes

    if pid > 0xFFFFFFFF:
        return False
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(_WINDOWS_QUERY_LIMITED, False, pid)
    if not handle:
        return kernel32.GetLastError() == _WINDOWS_ACCESS_DENIED
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == _WINDOWS_STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


@dataclass(frozen=True)
class Leftover:
    path: Path
    pid: int
    match: re.Match[str]  # the pattern's groups (a format may name its target and stage in the name)


def find_leftovers(folder: str | os.PathLike[str], pattern: re.Pattern[str]) -> list[Leftover]:
    """The entries of `folder` whose whole name matches `pattern`, sorted by name; [] for a missing folder."""
    folder = Path(folder)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None:
            found.append(Leftover(folder / name, int(match["pid"]), match))
    return found


def is_stale(leftover: Leftover, busy: Collection[Path] | None = None) -> bool:
    """Whether no live writer owns `leftover`.

    `busy` is the caller's own names in progress: with it, this process's other names are stale (a failed
    earlier write); without it (None), this process's names are all treated as in progress."""
    if leftover.pid == os.getpid():
        return busy is not None and leftover.path not in busy
    return not pid_alive(leftover.pid)


def remove_path(path: Path) -> bool:
    """Remove a file, a link (never what it points to) or a folder tree; False when it could not be removed."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return not path.exists() and not path.is_symlink()
    return True


def remove_stale(
    folder: str | os.PathLike[str], pattern: re.Pattern[str], busy: Collection[Path] | None = None
) -> list[Path]:
    """Remove the leftovers in `folder` that no live process owns; returns what was removed."""
    removed = []
    for leftover in find_leftovers(folder, pattern):
        if is_stale(leftover, busy) and remove_path(leftover.path):
            removed.append(leftover.path)
    return removed
