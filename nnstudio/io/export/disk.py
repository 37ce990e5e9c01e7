"""Every byte an export puts on disk goes through here: serialised in memory first, then written by Python.

torch's C++ writers (torch.jit.save, torch.export.save, torch.save to a path) abort the whole process when
the disk fills up mid-write, instead of raising. So exporters serialise into a buffer we own and hand the bytes
to `write_bytes`, which checks the free space against their size first and turns ENOSPC (or a full quota) into
NoSpaceError: one ExportError that export_model reports with the destination's name.
"""

from __future__ import annotations

import errno
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO

from nnstudio.io.export.errors import ExportError

FULL = (errno.ENOSPC, errno.EDQUOT)  # no space left; the quota is exhausted


class NoSpaceError(ExportError):
    """The disk (or quota) cannot take what the export writes. `needed`/`free` are bytes, when known."""

    def __init__(self, path: Path, needed: int | None = None, free: int | None = None) -> None:
        self.path, self.needed, self.free = path, needed, free
        super().__init__(f"cannot write {path}: no space left on device{self.sizes()}", bad_input=True)

    def sizes(self) -> str:
        if self.needed is None or self.free is None:
            return ""
        return f" (needs {size_text(self.needed)}, {size_text(self.free)} free)"

    def at(self, destination: Path) -> NoSpaceError:
        """The same error, naming the destination the user asked for instead of the staging file."""
        return NoSpaceError(destination, self.needed, self.free)


def size_text(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def is_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL


def free_space(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def ensure_space(path: Path, needed: int) -> None:
    """Refuse, before writing, what cannot fit in the free space of `path`'s folder."""
    folder = path if path.is_dir() else path.parent
    free = free_space(folder)
    if needed > free:
        raise NoSpaceError(path, needed, free)


def serialised(save: Callable[[IO[bytes]], object]) -> bytes:
    """What `save(buffer)` writes, as bytes: torch's writers run against memory, never against the disk."""
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getvalue()


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` after checking the free space; a full disk raises NoSpaceError, leaving no file."""
    ensure_space(path, len(data))
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        if is_full(exc):
            raise NoSpaceError(path) from None  # the free space said before is evidently not what counts
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
