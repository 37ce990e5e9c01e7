"""Write exports beside their destination, and move them into place only once they passed the checks.

A failed or interrupted export leaves the destination as it was: never a half-written or unchecked file.
The staging folder's name holds the exporting process's id (`.NAME.PID.RANDOM.partial`), so one that a killed
process left behind is recognised, and removed, the next time an export writes into that folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from nnstudio.io.export.errors import ExportError
from nnstudio.util.atomic import default_mode

MARKER = "nnstudio-export.json"  # written into exported folders; marks a folder we may replace
REPLACED = ".replaced"  # inside a staging folder: the earlier export folder, moved aside for the new one
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.partial")  # what mkdtemp names below


def check_destination(out: Path, folder: bool) -> None:
    """Refuse early, before any slow work, a destination that cannot be written."""
    parent = out.parent
    if not parent.exists():
        raise ExportError(f"cannot write {out}: the folder {parent} does not exist", bad_input=True)
    if not parent.is_dir():
        raise ExportError(f"cannot write {out}: {parent} is not a folder", bad_input=True)
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot write {out}: no permission to write in {parent}", bad_input=True)
    if out.is_dir() and not folder:
        raise ExportError(f"cannot write {out}: it is a folder; give a file name", bad_input=True)
    if out.exists() and folder and not _replaceable(out):
        raise ExportError(f"cannot write {out}: it exists and is not an earlier nnstudio export; "
                          "choose a new folder name", bad_input=True)


def _replaceable(out: Path) -> bool:
    if not out.is_dir():
        return False
    return (out / MARKER).is_file() or not any(out.iterdir())


class Staging:
    """A private temporary folder next to the destination; `commit` moves the results into place."""

    def __init__(self, out: Path, folder: bool) -> None:
        self.out = out
        self.folder = folder
        self.root: Path | None = None

    def __enter__(self) -> Staging:
        check_destination(self.out, self.folder)
        try:
            remove_leftovers(self.out.parent)
            self.root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.{os.getpid()}.", suffix=".partial",
                                              dir=self.out.parent))
        except OSError as exc:
            raise ExportError(f"cannot write in {self.out.parent}: {exc.strerror or exc}", bad_input=True) from None
        return self

    @property
    def target(self) -> Path:
        """Where the exporter writes the main artefact (file or folder)."""
        assert self.root is not None
        return self.root / self.out.name

    def companion(self, name: str) -> Path:
        """A second file that moves next to the main one (the safetensors sidecar)."""
        assert self.root is not None
        return self.root / name

    def commit(self) -> list[Path]:
        """Move every staged entry beside the destination; returns the final paths."""
        assert self.root is not None
        placed = []
        for entry in sorted(self.root.iterdir(), key=lambda p: p != self.target):
            final = self.out.parent / entry.name
            os.chmod(entry, default_mode(entry.is_dir()))
            if entry.is_dir():
                self._replace_folder(entry, final)
            else:
                os.replace(entry, final)
            placed.append(final)
        return placed

    def _replace_folder(self, entry: Path, final: Path) -> None:
        if final.exists():
            assert self.root is not None
            old = self.root / REPLACED
            os.replace(final, old)
        os.replace(entry, final)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def alive(pid: int) -> bool:
    """Whether a process with this id runs. Where that cannot be asked safely (Windows, where signal 0 would
    terminate it), every process counts as alive, so nothing is ever removed from under a running export."""
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the staging folders of dead exporting processes in `folder`; returns what was removed.

    A process killed between the two renames of a folder swap leaves the previous export inside its staging
    folder (REPLACED) and nothing at the destination: that export is moved back first, so nothing is lost."""
    removed = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = _LEFTOVER.fullmatch(entry.name)
        if match is None or not entry.is_dir() or alive(int(match["pid"])):
            continue
        earlier, final = entry / REPLACED, folder / match["name"]
        try:
            if earlier.is_dir() and not final.exists():
                os.replace(earlier, final)
            shutil.rmtree(entry)
        except OSError:  # another process cleaning at the same time, or no permission: not ours to insist
            continue
        removed.append(entry)
    return removed
