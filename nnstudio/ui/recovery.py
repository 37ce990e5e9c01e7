"""Autosave copies and the atomic writes they and saved projects go through.

Recovery files sit in one folder of the app-data folder: KEY.nnstudio plus KEY.json saying whose and from where.
A clean save or close removes them, so one still there at start-up, left by a process that is no longer
running, is what a crash left behind (FileController.offer_recovery in files.py offers it).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QIODevice, QSaveFile, QStandardPaths

from nnstudio.io import EXTENSION, dumps
from nnstudio.layers.registry import Registry
from nnstudio.model import Project
from nnstudio.ui.runs import pid_alive  # torch-free: the recovery offer comes before torch loads


class SaveError(Exception):
    """Writing a file failed; the message names the file and the reason."""


def write_atomically(path: Path, text: str) -> None:
    """Write through QSaveFile: the target changes only when the whole text is written."""
    data = text.encode("utf-8")
    target = QSaveFile(str(path))
    if not target.open(QIODevice.OpenModeFlag.WriteOnly):
        raise SaveError(f"{path}: {target.errorString()}")
    if target.write(data) != len(data):
        reason = target.errorString()
        target.cancelWriting()
        target.commit()  # with writing cancelled, this only discards the temporary file
        raise SaveError(f"{path}: {reason}")
    if not target.commit():
        raise SaveError(f"{path}: {target.errorString()}")


@dataclass(frozen=True)
class RecoveryEntry:
    key: str
    file: Path
    original: Path | None  # where the document was saved before, if anywhere
    name: str
    saved_at: float
    pid: int

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = str(self.original) if self.original else "an unsaved project"
        return f"{self.name} ({where}), autosaved {when}"


class Recovery:
    """Recovery files in one folder: KEY.nnstudio plus KEY.json saying whose and from where."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def default_folder() -> Path:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        return Path(base) / "recovery"

    def write(self, key: str, project: Project, registry: Registry, original: Path | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / f"{key}{EXTENSION}", dumps(project, registry))
        info = {
            "original": str(original) if original else None,
            "name": project.metadata.name,
            "saved_at": time.time(),
            "pid": os.getpid(),
        }
        write_atomically(self.folder / f"{key}.json", json.dumps(info))

    def claim(self, entry: RecoveryEntry) -> None:
        """Mark an entry as this process's, so another instance does not offer it too."""
        info = {
            "original": str(entry.original) if entry.original else None,
            "name": entry.name,
            "saved_at": entry.saved_at,
            "pid": os.getpid(),
        }
        write_atomically(self.folder / f"{entry.key}.json", json.dumps(info))

    def remove(self, key: str) -> None:
        for suffix in (EXTENSION, ".json"):
            (self.folder / f"{key}{suffix}").unlink(missing_ok=True)

    def pending(self) -> list[RecoveryEntry]:
        """Entries left by processes that are gone, newest first."""
        entries = [e for e in map(self._entry, sorted(self.folder.glob("*.json"))) if e is not None]
        return sorted((e for e in entries if not pid_alive(e.pid)), key=lambda e: -e.saved_at)

    def _entry(self, info_file: Path) -> RecoveryEntry | None:
        key = info_file.stem
        project_file = self.folder / f"{key}{EXTENSION}"
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            original = Path(info["original"]) if info.get("original") else None
            entry = RecoveryEntry(
                key,
                project_file,
                original,
                str(info.get("name", "Untitled")),
                float(info["saved_at"]),
                int(info["pid"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a foreign or damaged file: not ours to offer
        return entry if project_file.is_file() else None
