"""TrainingController: the one object the main window creates to get live training.

It adds two docks (Training settings on the right, Training with controls, plots, evaluation and runs at
the bottom) and a Training menu. The window must paint without torch, so the docks start with a short
note and their content is built once torch is imported: on a worker thread right after the window's
first paint, or at once when Train is pressed or `build()` is called (tests, benchmarks).

It also keeps the training tools in step with the window's document: when another project is opened the
workbench follows it and shows nothing of the previous project's runs; and while a run trains (the canvas
is read-only then) the document is locked, so neither an edit nor Undo/Redo can change a setting the run is
using, and Ctrl+Z says why in the status bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMessageBox, QWidget

from nnstudio.ui.background import FuturePoller, GuiThreadCollector, start_thread
from nnstudio.ui.editor.interactions import locked_message

if TYPE_CHECKING:
    from nnstudio.ui.export import ExportContext, ExportDialog

SETTINGS_DOCK = "dock_training_settings"
TRAINING_DOCK = "dock_training"
# The live plots (total loss, each loss term, metrics, learning rate) cannot be read in less: the dock, which
# shares the Problems dock's short default height, grows to this (at most 3/5 of the window) on the first
# Train. The canvas is locked while a run trains, so the plots are what the user looks at then.
READABLE_DOCK = 540
UNDO_STEPS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


def locked_reason() -> str:
    """What a refused edit, Undo or Redo says while a run trains."""
    return f"{locked_message()} Undo and Redo are off too, so the settings shown stay the ones the run uses."


def _import_engine() -> None:
    """Runs on a helper thread: torch and the training engine take seconds to import."""
    import nnstudio.training.engine  # noqa: F401
    import nnstudio.training.threads as threads

    threads.preload_lazy_modules()


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet("color: #777;")
    return label


class TrainingController(QObject):
    ready = Signal()

    def __init__(self, window, runs_root: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.runs_root = runs_root
        self.bench = None
        self.export_dialog = None  # File ▸ Export Model…, kept while an export it started runs
        self.ask_before_close = True
        self._importing = False
        self._made_room = False
        self.grow_dock_on_train = True  # False where a Train perspective gives the plots the window instead
        self._poller = FuturePoller(self)
        self.settings_dock = self._dock("Training settings", SETTINGS_DOCK, Qt.DockWidgetArea.RightDockWidgetArea)
        self.training_dock = self._dock("Training", TRAINING_DOCK, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._arrange_docks()
        self.actions = self._create_actions()
        window.installEventFilter(self)
        self._watch_document(window.document)
        view = getattr(window, "view", None)
        if view is not None:
            view.read_only_changed.connect(self._on_lock_changed)
        files = getattr(window, "files", None)
        if files is not None:
            files.document_replaced.connect(self._on_document_replaced)

    # --- building ----------------------------------------------------------------------------
    def _dock(self, title: str, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(_placeholder("Loading the training tools…"))
        self.window.addDockWidget(area, dock)
        return dock

    def _arrange_docks(self) -> None:
        """Settings share a tab with the Inspector, the Training dock with Problems.

        The settings dock is taken out and put back before tabifying: tabifying a dock that was just
        added beside the Inspector leaves Qt with a second, stray tab bar drawn over the middle of the
        window (seen with Qt 6.12).
        """
        docks = getattr(self.window, "docks", {})
        if "inspector" in docks:
            self.window.removeDockWidget(self.settings_dock)
            self.window.tabifyDockWidget(docks["inspector"], self.settings_dock)
            self.settings_dock.show()
            docks["inspector"].raise_()
        if "problems" in docks:
            self.window.tabifyDockWidget(docks["problems"], self.training_dock)
            docks["problems"].raise_()

    def _create_actions(self) -> dict[str, QAction]:
        menu = self.window.menuBar().addMenu("&Training")
        specs = (("train", "&Train", "F5", self.train, "Train the model as it is now"),
                 ("pause", "&Pause / Resume", "F6", self.toggle_pause, "Pause the run, or resume it"),
                 ("step", "Step &Once", "F8", self.step_once, "While paused: run one batch, show its numbers and "
                  "pause again"),
                 ("stop", "&Stop", "Shift+F5", self.stop, "Stop the run and keep a checkpoint"),
                 ("check", "&Check…", "F7", self.check, "Sanity checks: initial loss, overfit one batch, LR range, "
                  "gradient check"))
        actions = {}
        for key, text, shortcut, handler, tip in specs:
            action = QAction(text, self.window)
            action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip)
            action.triggered.connect(handler)
            menu.addAction(action)
            actions[key] = action
        menu.addSeparator()
        for dock in (self.settings_dock, self.training_dock):
            menu.addAction(dock.toggleViewAction())
        return actions

    def build(self) -> None:
        """Create the real panels (imports torch on this thread if the helper has not yet)."""
        if self.bench is not None:
            return
        from nnstudio.ui.training.workbench import Workbench

        self.bench = Workbench(self.window, self.runs_root, self)
        self.settings_dock.setWidget(self.bench.settings_panel)
        self.training_dock.setWidget(self.bench.dock_body)
        self.training_dock.visibilityChanged.connect(self.bench._update_boundary_wanted)
        self.bench.run_started.connect(lambda _session: self._make_room())  # F5, the menu or the Train button
        GuiThreadCollector.settle()  # torch and the engine are in: keep them out of later collections
        self.ready.emit()

    def build_soon(self) -> None:
        """Import the engine on a helper thread, then build on the GUI thread."""
        if self._importing or self.bench is not None:
            return
        self._importing = True
        future = start_thread(_import_engine, "nnstudio-import-torch")
        self._poller.watch(future, lambda _: self.build())  # an import error resurfaces, readably, in build()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            if event.type() == QEvent.Type.Paint and not self._importing:
                QTimer.singleShot(0, self.build_soon)  # after the first paint has finished
                return False
            refused = event.type() == QEvent.Type.Close and not self._close(event)
            return refused or (event.type() == QEvent.Type.KeyPress and self._refuse_undo_key(event))
        return False

    # --- the document ------------------------------------------------------------------------
    def _watch_document(self, document) -> None:
        document.refused.connect(lambda text: self.window.statusBar().showMessage(text, 6000))

    def _on_document_replaced(self, document) -> None:
        """Another project is open: follow it, clear the previous one's run view, lock it if a run trains."""
        self._watch_document(document)
        self._on_lock_changed(self.window.view.read_only)
        if self.bench is not None:
            self._follow_document()
            self.bench.actions.clear_view()

    def _on_lock_changed(self, locked: bool) -> None:
        """The canvas is read-only while a run trains: so is the rest of the document, Undo included."""
        document = self.window.document
        if locked:
            document.lock(locked_reason())
        else:
            document.unlock()

    def _refuse_undo_key(self, event: QKeyEvent) -> bool:
        """Ctrl+Z reaches the window when the disabled Undo action ignores it: say why nothing happened."""
        if not self.window.document.locked or not any(event.matches(key) for key in UNDO_STEPS):
            return False
        self.window.statusBar().showMessage(self.window.document.locked_reason, 6000)
        return True

    def _close(self, event: QEvent) -> bool:
        """Before the window closes: a running model is stopped cooperatively (after asking)."""
        if self.bench is None or not self.bench.is_training:
            if self.bench is not None:
                self.bench.shutdown()
            return True
        if self.ask_before_close:
            answer = QMessageBox.question(self.window, "Training is running",
                                          "A model is training. Stop it (a checkpoint is kept) and close?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return False
        self.bench.shutdown()
        return True

    # --- actions -----------------------------------------------------------------------------
    def _bench(self):
        self.build()
        self._follow_document()
        return self.bench

    def _follow_document(self) -> None:
        if self.bench.document is not self.window.document:
            self.bench.set_document(self.window.document)

    def train(self) -> bool:
        bench = self._bench()
        if self.training_dock.widget() is bench.dock_body:  # else the workbench is the window's central area
            self.training_dock.show()
            self.training_dock.raise_()
        return bench.train()

    def _make_room(self) -> None:
        """Once per window: a docked Training dock too short (or narrow) to read the plots in grows."""
        dock = self.training_dock
        if self._made_room or dock.isFloating() or not self.grow_dock_on_train:
            return
        self._made_room = True
        area = self.window.dockWidgetArea(dock)
        across = area in (Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea)
        size, room = (dock.height(), self.window.height()) if across else (dock.width(), self.window.width())
        wanted = min(READABLE_DOCK, room * 3 // 5)
        if size < wanted:
            orientation = Qt.Orientation.Vertical if across else Qt.Orientation.Horizontal
            self.window.resizeDocks([dock], [wanted], orientation)

    def toggle_pause(self) -> None:
        bench = self._bench()
        if bench.session is not None and bench.session.state in ("paused", "pausing"):
            bench.resume()
        else:
            bench.pause()

    def step_once(self) -> None:
        self._bench().actions.live.step_once()

    def stop(self) -> None:
        self._bench().stop()

    def check(self):
        """Training ▸ Check…: the sanity checks of `nnstudio check` on the document (check_dialog.py)."""
        from nnstudio.ui.training.check_dialog import CheckDialog

        bench = self._bench()
        dialog = CheckDialog(bench.document, bench.base_dir(), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()
        return dialog

    def export_model(self) -> ExportDialog:
        """File ▸ Export Model…: a fresh dialog, or the open one while an export it started still runs."""
        from nnstudio.ui.export import ExportDialog

        bench = self._bench()
        dialog = self.export_dialog
        if dialog is None or not dialog.busy:
            if dialog is not None:
                dialog.deleteLater()
            dialog = ExportDialog(self._export_context, self.window)
            bench.run_started.connect(dialog.refresh_sources)
            bench.run_finished.connect(dialog.refresh_sources)
            dialog.reported.connect(lambda text: self.window.statusBar().showMessage(text, 15_000))
            self.export_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _export_context(self) -> ExportContext:
        """The window's document, its runs, and the run training now (only finished runs can be exported)."""
        from nnstudio.ui.export import ExportContext

        bench = self._bench()
        document = bench.document
        active = bench.session.record.path if bench.is_training else None
        return ExportContext(document.project, document.registry, document.path, bench.store(), active)

    @property
    def widget(self) -> QWidget | None:
        return self.bench.dock_body if self.bench is not None else None
