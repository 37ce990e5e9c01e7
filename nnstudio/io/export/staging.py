"""Write exports beside their destination, and move them into place only once they passed the checks.

A failed or interrupted export leaves the destination as it was: never a half-written or unchecked file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from nnstudio.io.export.errors import ExportError
from nnstudio.util.atomic import default_mode

MARKER = "nnstudio-export.json"  # written into exported folders; marks a folder we may replace


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
            self.root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent))
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
            old = self.root / ".replaced"
            os.replace(final, old)
        os.replace(entry, final)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
