"""Atomic file writes: a crash mid-write leaves the old file, never a half-written one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def default_mode(directory: bool = False) -> int:
    """The permissions a plain open() or mkdir() would give under the current umask.

    Temporary files from mkstemp/mkdtemp are private (0600 / 0700); a file handed to the user
    should not be.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def temp_prefix(path: Path) -> str:
    """Temporary files are named `.NAME.PID.XXXXXXXX.tmp`: the writer's process id lets a later write tell a
    leftover of a killed writer from a write in progress (nnstudio.util.leftovers)."""
    return f".{path.name}.{os.getpid()}."


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call write(temp_path) for a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temp_name)
        with open(temp_name, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp_name, default_mode())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write(path, lambda temp: Path(temp).write_text(text, encoding="utf-8"))
