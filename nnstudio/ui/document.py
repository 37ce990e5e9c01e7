"""The open document as the GUI sees it: the project, its undo stack and its latest analysis.

Widgets never hold document state. They push commands here and listen to the graph's signals
(for items) or to `analysis_changed` (for shapes and problems). Analysis is debounced through a
zero-delay single-shot timer, so a macro of many edits is analysed once, after the event loop
regains control.

While a run trains, the document is locked (`lock`): the canvas and the settings are read-only then, and
the lock also refuses pushes and takes the undo stack out of the window's undo group, so Undo and Redo
cannot change a setting the run is using either (the run trains a snapshot; the form must show it).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from nnstudio.analysis import Analysis, analyze
from nnstudio.layers.registry import Registry
from nnstudio.model import Graph, Project


class Document(QObject):
    analysis_changed = Signal(object)  # nnstudio.analysis.Analysis
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None
    refused = Signal(str)  # an edit, undo or redo was refused while locked: the reason, for the status bar

    def __init__(self, project: Project, registry: Registry, path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.registry = registry
        self._path = Path(path) if path is not None else None
        # Names this document's autosave copy and, while it is unsaved, its runs folder (ui/runs.py).
        self.session_id = uuid.uuid4().hex
        self.locked_reason = ""
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.reanalyze_now)
        self.analysis: Analysis = analyze(project.graph, registry)
        self._analysed_revision = project.graph.revision
        project.graph.changed.connect(self._schedule_analysis)

    # --- properties ------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def path(self) -> Path | None:
        return self._path

    @path.setter
    def path(self, value: Path | None) -> None:
        value = Path(value) if value is not None else None
        if value != self._path:
            self._path = value
            self.path_changed.emit(value)

    # --- editing ---------------------------------------------------------------------------
    def push(self, command: QUndoCommand) -> None:
        """Run a command and record it. Only the GUI thread may change the document."""
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("the document may only be changed from the GUI thread")
        if self.locked_reason:
            self.refused.emit(self.locked_reason)
            return
        self.undo_stack.push(command)

    def lock(self, reason: str) -> None:
        """Refuse edits, and turn Undo and Redo off, until unlock(); `reason` is what the refusal says."""
        self.locked_reason = reason
        self.undo_stack.setActive(False)  # the undo group then has no active stack: its actions disable

    def unlock(self) -> None:
        self.locked_reason = ""
        self.undo_stack.setActive(True)  # makes it the group's active stack again (no-op outside a group)

    @property
    def locked(self) -> bool:
        return bool(self.locked_reason)

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def set_clean(self) -> None:
        """Mark the current state as saved."""
        self.undo_stack.setClean()

    def reanalyze_now(self) -> Analysis:
        """Analyse synchronously (tests, before save or compile) and tell listeners."""
        self._timer.stop()
        self.analysis = analyze(self.project.graph, self.registry)
        self._analysed_revision = self.project.graph.revision
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    def analysis_is_current(self) -> bool:
        """False between an edit and the (deferred) analysis that follows it."""
        return self._analysed_revision == self.project.graph.revision

    def dispose(self) -> None:
        """Stop listening to the graph; call when the document is closed or replaced."""
        self._timer.stop()
        self.project.graph.changed.disconnect(self._schedule_analysis)

    # --- internals -------------------------------------------------------------------------
    def _schedule_analysis(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)
