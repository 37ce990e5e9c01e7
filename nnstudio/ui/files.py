"""Everything between the window and the disk: open, save, recent files, autosave and crash recovery.

Saving goes through QSaveFile, which writes a temporary file and renames it over the target only on
commit(), so a crash (or a full disk) mid-save never leaves a half-written project. Autosave writes
a recovery copy of a modified document every two minutes into the app-data folder, keyed per
document; a clean save or close removes it, so one that is still there at start-up, left by a
process that is no longer running, is what a crash left behind.

Runs are unsaved work too. An unsaved document keeps its runs in the app-data folder under its session id,
which is also its recovery key (ui/runs.py), so the close prompt counts them, a saved project takes them
beside its file, and a recovered document gets them back. The unsaved-runs folder is the recovery folder's
sibling, so tests and benchmarks that isolate one isolate both.

Every question to the user goes through one of the `ask_*` / `show_error` methods, which tests
replace with canned answers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nnstudio.examples import EXAMPLES
from nnstudio.io import EXTENSION, ProjectFileError, dumps, load
from nnstudio.layers.registry import Registry
from nnstudio.model import Project
from nnstudio.ui.document import Document
from nnstudio.ui.recovery import Recovery, RecoveryEntry, SaveError, write_atomically
from nnstudio.ui.runs import PACKAGE_FOLDER, UNSAVED_FOLDER, UnsavedRuns, keeps_runs_beside, runs_folder_for

AUTOSAVE_MS = 2 * 60 * 1000
RECENT_LIMIT = 10
FILE_FILTER = f"nnstudio projects (*{EXTENSION});;All files (*)"


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


class DocumentHost(Protocol):
    document: Document

    def set_document(self, document: Document) -> None: ...


class FileController(QObject):
    """File actions for one window. Replacing the window's document always asks about unsaved work."""

    recent_changed = Signal()
    document_replaced = Signal(object)  # the window shows another Document (opened, new, recovered)

    def __init__(self, host: DocumentHost, parent_widget: QWidget, registry: Registry, settings: QSettings,
                 recovery_folder: Path | None = None) -> None:
        super().__init__(parent_widget)
        self.host = host
        self.widget = parent_widget
        self.registry = registry
        self.recent = RecentFiles(settings)
        self.recovery = Recovery(recovery_folder or Recovery.default_folder())
        self.unsaved_runs = UnsavedRuns(self.recovery.folder.parent / UNSAVED_FOLDER)
        # Older versions left runs here; only the real app folder tidies the shared one up.
        self.temp_folder: Path | None = Path(tempfile.gettempdir()) if recovery_folder is None else None
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

    def ask_unsaved_changes(self, name: str, runs: int = 0) -> str:
        """'save', 'discard' or 'cancel'. `runs` counts the training runs kept only for this unsaved work."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.widget, "Unsaved changes", unsaved_question(name, runs, self.document.is_modified()),
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

    @property
    def recovery_key(self) -> str:
        """The open document's autosave key: its session id, which also names its unsaved runs."""
        return self.document.session_id

    def unsaved_run_count(self, document: Document | None = None) -> int:
        """Training runs that live only in the app-data folder because their project is not saved."""
        document = document or self.document
        return 0 if keeps_runs_beside(document.path) else self.unsaved_runs.count(document.session_id)

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

    def open_new(self, project: Project) -> bool:
        """Open a project made in memory (File ▸ Import Model) as new, unsaved work: closing asks to save it."""
        if not self.maybe_save():
            return False
        document = Document(project, self.registry)
        document.undo_stack.resetClean()
        self._replace(document)
        return True

    def _replace(self, document: Document, key: str | None = None) -> None:
        old_key = self.recovery_key
        if key is not None:
            document.session_id = key
        self.host.set_document(document)
        document.modified_changed.connect(self._on_modified_changed)
        if old_key != self.recovery_key:
            self.recovery.remove(old_key)
        self.document_replaced.emit(document)

    def adopt(self, document: Document) -> None:
        """Start tracking a document the window was created with."""
        document.modified_changed.connect(self._on_modified_changed)

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save in place; a file in the installed package or an unwritable folder is saved elsewhere (Save As)."""
        if not keeps_runs_beside(self.document.path):
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        document = self.document
        name = document.path.name if document.path else f"{_file_stem(document.project.metadata.name)}{EXTENSION}"
        suggested = document.path if keeps_runs_beside(document.path) else _writable_folder() / name
        path = self.ask_save_path(str(suggested))
        return self.save_to(path) if path is not None else False

    def save_to(self, path: Path) -> bool:
        document = self.document
        try:
            write_atomically(Path(path), dumps(document.project, self.registry))
        except (SaveError, OSError) as exc:
            self.show_error("Could not save the project", str(exc))
            return False
        path = Path(path).resolve()
        if keeps_runs_beside(path) and not keeps_runs_beside(document.path):
            self._move_unsaved_runs(document, path)
        document.path = path
        document.set_clean()
        self.recovery.remove(self.recovery_key)
        self.recent.add(Path(path))
        self.recent_changed.emit()
        return True

    def _move_unsaved_runs(self, document: Document, path: Path) -> None:
        """Unsaved work was saved: its runs follow it beside the file (a run still training follows later)."""
        try:
            self.unsaved_runs.store(document.session_id).move_to(runs_folder_for(path))
        except OSError as exc:
            self.widget.statusBar().showMessage(f"The runs stay in {self.unsaved_runs.base}: {exc}", 15_000)

    def maybe_save(self) -> bool:
        """Before the document goes away: True when it is fine to drop it (saved, discarded or clean).

        Runs of unsaved work count as unsaved work: Discard deletes them with the changes."""
        runs = self.unsaved_run_count()
        if not self.document.is_modified() and not runs:
            return True
        name = self.display_name()
        answer = self.ask_unsaved_changes(name, runs=runs) if runs else self.ask_unsaved_changes(name)
        if answer == "save":
            return self.save()
        if answer == "discard" and runs:
            self.unsaved_runs.discard(self.document.session_id)
        return answer == "discard"

    def closed(self) -> None:
        """The window closed after maybe_save(): its recovery copy is no longer needed."""
        self.autosave_timer.stop()
        self.recovery.remove(self.recovery_key)

    # --- autosave and recovery ---------------------------------------------------------------
    def autosave_now(self) -> bool:
        """Write a recovery copy if the document has unsaved changes or runs. True when one was written."""
        document = self.document
        if not document.is_modified() and not self.unsaved_run_count(document):
            return False
        try:
            self.recovery.write(self.recovery_key, document.project, self.registry, document.path)
        except (SaveError, OSError) as exc:
            self.widget.statusBar().showMessage(f"Autosave failed: {exc}", 10_000)
            return False
        return True

    def _on_modified_changed(self, modified: bool) -> None:
        if not modified and not self.unsaved_run_count():  # saved, or undone back to the saved state
            self.recovery.remove(self.recovery_key)

    def offer_recovery(self) -> bool:
        """At start-up: offer autosaved work a crashed session left. True when a document was recovered.

        The recovered document takes the crashed one's session id, and with it its runs of unsaved work.
        Left-over folders no live process owns are tidied up first (UnsavedRuns.clean)."""
        self.unsaved_runs.clean(self.temp_folder)
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
            self.unsaved_runs.claim(entry.key, entry.name)
            self._replace(document, key=entry.key)
            return True
        if self.unsaved_runs.sessions(exclude=(self.document.session_id,)):
            self.widget.statusBar().showMessage("Runs of unsaved work from an earlier session are kept: choose "
                                                "them under Show: in the Training dock's Runs tab.", 20_000)
        return False

    def open_unsaved_session(self, session_id: str) -> bool:
        """Reopen runs an earlier session left for unsaved work: the newest run's project, with all its runs."""
        session = self.unsaved_runs.session(session_id)
        records = session.store().runs() if session is not None else []
        if not records:
            return False
        try:
            project = read_project(records[-1].path / "project.nnstudio", self.registry)
        except ProjectFileError as exc:
            self.show_error("Could not open the runs' project", str(exc))
            return False
        if not self.maybe_save():
            return False
        document = Document(project, self.registry)
        self.unsaved_runs.claim(session_id, session.name)
        self._replace(document, key=session_id)
        return True


def unsaved_question(name: str, runs: int, modified: bool) -> str:
    """The close prompt's text: the changes, and the runs that are kept only while the work is unsaved."""
    if not runs:
        return f"Save the changes to {name} before closing it?"
    count = "1 training run" if runs == 1 else f"{runs} training runs"
    changes = "changes and " if modified else ""
    return (f"You have {count} of unsaved work in {name}. Save the {changes}project to keep the runs beside it? "
            "Discard deletes them.")


def _writable_folder() -> Path:
    """Where Save As starts for work with no folder of its own: the working folder, else Documents."""
    cwd = Path.cwd()
    if os.access(cwd, os.W_OK) and not cwd.resolve().is_relative_to(PACKAGE_FOLDER):
        return cwd
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or Path.home())


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip()).strip("_")
    return stem.lower() or "untitled"
