"""Everything between the window and the disk: open, save, recent files, autosave and crash recovery.

Saving goes through QSaveFile, which writes a temporary file and renames it over the target only on
commit(), so a crash (or a full disk) mid-save never leaves a half-written project. Autosave writes
a recovery copy of a modified document every two minutes into the app-data folder, keyed per
document; a clean save or close removes it, so one that is still there at start-up, left by a
process that is no longer running, is what a crash left behind.

Every question to the user goes through one of the `ask_*` / `show_error` methods, which tests
replace with canned answers.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QIODevice, QObject, QSaveFile, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nnstudio.examples import EXAMPLES
from nnstudio.io import EXTENSION, ProjectFileError, dumps, load
from nnstudio.layers.registry import Registry
from nnstudio.model import Project
from nnstudio.ui.document import Document

AUTOSAVE_MS = 2 * 60 * 1000
RECENT_LIMIT = 10
FILE_FILTER = f"nnstudio projects (*{EXTENSION});;All files (*)"


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


def read_project(path: Path, registry: Registry) -> Project:
    """Load a project; raises ProjectFileError naming the file and the place inside it."""
    return load(path, registry)


class RecentFiles:
    """The most recently used project paths, newest first, kept in QSettings."""

    KEY = "files/recent"

    def __init__(self, settings: QSettings, limit: int = RECENT_LIMIT) -> None:
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[Path]:
        stored = self.settings.value(self.KEY, [])
        stored = [stored] if isinstance(stored, str) else list(stored or [])
        return [Path(p) for p in stored if Path(p).is_file()]

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        self._store([path, *[p for p in self.paths() if p != path]][: self.limit])

    def remove(self, path: Path) -> None:
        self._store([p for p in self.paths() if p != Path(path).resolve()])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self.settings.setValue(self.KEY, [str(p) for p in paths])


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
        info = {"original": str(original) if original else None, "name": project.metadata.name,
                "saved_at": time.time(), "pid": os.getpid()}
        write_atomically(self.folder / f"{key}.json", json.dumps(info))

    def claim(self, entry: RecoveryEntry) -> None:
        """Mark an entry as this process's, so another instance does not offer it too."""
        info = {"original": str(entry.original) if entry.original else None, "name": entry.name,
                "saved_at": entry.saved_at, "pid": os.getpid()}
        write_atomically(self.folder / f"{entry.key}.json", json.dumps(info))

    def remove(self, key: str) -> None:
        for suffix in (EXTENSION, ".json"):
            (self.folder / f"{key}{suffix}").unlink(missing_ok=True)

    def pending(self) -> list[RecoveryEntry]:
        """Entries left by processes that are gone, newest first."""
        entries = [e for e in map(self._entry, sorted(self.folder.glob("*.json"))) if e is not None]
        return sorted((e for e in entries if not _alive(e.pid)), key=lambda e: -e.saved_at)

    def _entry(self, info_file: Path) -> RecoveryEntry | None:
        key = info_file.stem
        project_file = self.folder / f"{key}{EXTENSION}"
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            original = Path(info["original"]) if info.get("original") else None
            entry = RecoveryEntry(key, project_file, original, str(info.get("name", "Untitled")),
                                  float(info["saved_at"]), int(info["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a foreign or damaged file: not ours to offer
        return entry if project_file.is_file() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else
    return True


class DocumentHost(Protocol):
    document: Document

    def set_document(self, document: Document) -> None: ...


class FileController(QObject):
    """File actions for one window. Replacing the window's document always asks about unsaved work."""

    recent_changed = Signal()

    def __init__(self, host: DocumentHost, parent_widget: QWidget, registry: Registry, settings: QSettings,
                 recovery_folder: Path | None = None) -> None:
        super().__init__(parent_widget)
        self.host = host
        self.widget = parent_widget
        self.registry = registry
        self.recent = RecentFiles(settings)
        self.recovery = Recovery(recovery_folder or Recovery.default_folder())
        self.recovery_key = uuid.uuid4().hex
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()

    # --- questions (replaced in tests) -------------------------------------------------------
    def ask_open_path(self) -> Path | None:
        start = str(self.recent.paths()[0].parent) if self.recent.paths() else ""
        name, _ = QFileDialog.getOpenFileName(self.widget, "Open project", start, FILE_FILTER)
        return Path(name) if name else None

    def ask_save_path(self, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.widget, "Save project as", suggested, FILE_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix == EXTENSION else path.with_name(path.name + EXTENSION)

    def ask_unsaved_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.widget, "Unsaved changes", f"Save the changes to {name} before closing it?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_recover(self, entry: RecoveryEntry) -> bool:
        answer = QMessageBox.question(
            self.widget, "Recover unsaved work",
            f"nnstudio did not close normally last time. Recover the autosaved copy of {entry.describe()}?\n\n"
            "Choosing No deletes the autosaved copy.")
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.widget, title, message)

    # --- opening -----------------------------------------------------------------------------
    @property
    def document(self) -> Document:
        return self.host.document

    def display_name(self, document: Document | None = None) -> str:
        document = document or self.document
        return document.path.name if document.path else document.project.metadata.name

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        project = Project()
        self._replace(Document(project, self.registry))
        return True

    def open(self) -> bool:
        path = self.ask_open_path()
        return self.open_path(path) if path is not None else False

    def open_path(self, path: Path) -> bool:
        """Open a file in place of the current document. A bad file leaves the current one untouched."""
        path = Path(path)
        try:
            project = read_project(path, self.registry)
        except ProjectFileError as exc:
            self.show_error("Could not open the project", str(exc))
            if not path.is_file():
                self.recent.remove(path)
                self.recent_changed.emit()
            return False
        if not self.maybe_save():
            return False
        self._replace(Document(project, self.registry, path.resolve()))
        self.recent.add(path)
        self.recent_changed.emit()
        return True

    def open_example(self, name: str) -> bool:
        """Open a shipped example as a new untitled document (saving asks where)."""
        try:
            project = read_project(EXAMPLES[name].path, self.registry)
        except (KeyError, ProjectFileError) as exc:
            self.show_error("Could not open the example", str(exc))
            return False
        if not self.maybe_save():
            return False
        self._replace(Document(project, self.registry))
        return True

    def _replace(self, document: Document, key: str | None = None) -> None:
        old_key = self.recovery_key
        self.recovery_key = key or uuid.uuid4().hex
        self.host.set_document(document)
        document.modified_changed.connect(self._on_modified_changed)
        if old_key != self.recovery_key:
            self.recovery.remove(old_key)

    def adopt(self, document: Document) -> None:
        """Start tracking a document the window was created with."""
        document.modified_changed.connect(self._on_modified_changed)

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        document = self.document
        suggested = document.path or Path.cwd() / f"{_file_stem(document.project.metadata.name)}{EXTENSION}"
        path = self.ask_save_path(str(suggested))
        return self.save_to(path) if path is not None else False

    def save_to(self, path: Path) -> bool:
        document = self.document
        try:
            write_atomically(Path(path), dumps(document.project, self.registry))
        except (SaveError, OSError) as exc:
            self.show_error("Could not save the project", str(exc))
            return False
        document.path = Path(path).resolve()
        document.set_clean()
        self.recovery.remove(self.recovery_key)
        self.recent.add(Path(path))
        self.recent_changed.emit()
        return True

    def maybe_save(self) -> bool:
        """Before the document goes away: True when it is fine to drop it (saved, discarded or clean)."""
        if not self.document.is_modified():
            return True
        answer = self.ask_unsaved_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def closed(self) -> None:
        """The window closed after maybe_save(): its recovery copy is no longer needed."""
        self.autosave_timer.stop()
        self.recovery.remove(self.recovery_key)

    # --- autosave and recovery ---------------------------------------------------------------
    def autosave_now(self) -> bool:
        """Write a recovery copy if the document has unsaved changes. True when one was written."""
        document = self.document
        if not document.is_modified():
            return False
        try:
            self.recovery.write(self.recovery_key, document.project, self.registry, document.path)
        except (SaveError, OSError) as exc:
            self.widget.statusBar().showMessage(f"Autosave failed: {exc}", 10_000)
            return False
        return True

    def _on_modified_changed(self, modified: bool) -> None:
        if not modified:  # saved, or undone back to the saved state
            self.recovery.remove(self.recovery_key)

    def offer_recovery(self) -> bool:
        """At start-up: offer autosaved work a crashed session left. True when a document was recovered."""
        for entry in self.recovery.pending():
            if not self.ask_recover(entry):
                self.recovery.remove(entry.key)
                continue
            try:
                project = read_project(entry.file, self.registry)
            except ProjectFileError as exc:
                self.show_error("Could not recover the project", str(exc))
                self.recovery.remove(entry.key)
                continue
            if not self.maybe_save():
                return False
            document = Document(project, self.registry, entry.original)
            document.undo_stack.resetClean()  # recovered work is unsaved work
            self.recovery.claim(entry)
            self._replace(document, key=entry.key)
            return True
        return False


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip()).strip("_")
    return stem.lower() or "untitled"
