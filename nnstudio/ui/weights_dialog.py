"""File ▸ Load Weights…: pick a weights source, see what it gives this graph, then make it the project's start.

A source is a .safetensors or torch file, a checkpoint or run folder, an exported folder or a bundle .zip
(whatever training.init_weights reads). Before anything changes, a private copy of the project is compiled
and the source is matched into that copy on a helper thread (torch's first import alone takes seconds), and
the dialog lists what matched, per node, and what did not and why. OK sets `init.weights` with one undoable
command; a source that gives the graph nothing is refused with the matcher's own one-line reason.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.layers.registry import Registry
from nnstudio.model import Project
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.commands import SetInitWeightsCommand
from nnstudio.ui.docks.preview import snapshot
from nnstudio.ui.docks.summary import problems_note
from nnstudio.ui.document import Document
from nnstudio.ui.editor.interactions import locked_message
from nnstudio.ui.inspector.form import ERROR_STYLE

if TYPE_CHECKING:
    from nnstudio.training.init_weights import MatchReport
    from nnstudio.ui.main_window import MainWindow

# compile.weights.TORCH_SUFFIXES, spelled out: importing it would import torch on the GUI thread (a test
# keeps the two in step).
TORCH_FILES = ("*.pt", "*.pth", "*.ckpt", "*.bin")
FILE_FILTER = f"Weights (*.safetensors {' '.join(TORCH_FILES)} *.zip);;All files (*)"
STATUS_MS = 10_000


@dataclass
class WeightsCheck:
    """What a weights source gives the current graph (`report`), or the one line saying why it cannot."""

    path: Path
    report: MatchReport | None = None
    error: str | None = None


def check_weights(project: Project, registry: Registry, path: Path) -> WeightsCheck:
    """Compile `project` (a private copy) and match the source into that copy only. Runs on a helper thread;
    the imports are here so that torch loads off the GUI thread."""
    from nnstudio.compile import CompileError, build_module
    from nnstudio.training.init_weights import WeightsError, load_matching, read_weight_source

    try:
        compiled = build_module(project, registry)
    except CompileError as exc:
        first = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        return WeightsCheck(path, error=f"the graph does not compile ({first})")
    try:
        tensors, description = read_weight_source(path)
        return WeightsCheck(path, report=load_matching(compiled.network, tensors, compiled, source=description))
    except WeightsError as exc:
        return WeightsCheck(path, error=str(exc))


def stored_path(path: Path, project_file: Path | None) -> str:
    """What init.weights records: relative to the project's folder when the source is inside it (the project
    and its runs travel together), else absolute. resolve_source reads both back."""
    path = path.expanduser().resolve()
    if project_file is not None:
        folder = project_file.resolve().parent
        if path.is_relative_to(folder):
            return path.relative_to(folder).as_posix()
    return str(path)


class WeightsDialog(QDialog):
    """Checking…, then the match report with Use These Weights / Cancel, or the refusal with Close."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Load Weights")
        self.resize(620, 460)
        self.path = path
        self.check: WeightsCheck | None = None
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.RichText)  # always: an escaped path must not show its &#x27;
        self.heading.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        layout.addWidget(self.progress)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Tensor", "Result"])
        self.tree.setColumnWidth(0, 300)
        layout.addWidget(self.tree, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use These Weights")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.show_checking()

    @property
    def busy(self) -> bool:
        return self.check is None

    def show_checking(self) -> None:
        self.heading.setText(f"Checking <b>{html.escape(str(self.path))}</b> against the graph…")
        self.progress.setVisible(True)
        self.tree.setVisible(False)
        self.ok_button.setEnabled(False)

    def show_refusal(self, message: str) -> None:
        """Nothing can be used: the reason, and Close."""
        self.check = self.check or WeightsCheck(self.path, error=message)
        self.progress.setVisible(False)
        self.tree.setVisible(False)
        self.heading.setStyleSheet(ERROR_STYLE)
        self.heading.setText(f"Cannot use these weights: {html.escape(message)}")
        self.ok_button.setVisible(False)
        self.cancel_button.setText("Close")
        margins = self.layout().contentsMargins()
        text_width = self.width() - margins.left() - margins.right()
        height = (self.heading.heightForWidth(text_width) + self.buttons.sizeHint().height()
                  + margins.top() + margins.bottom() + self.layout().spacing())
        self.resize(self.width(), height)  # a few lines of reason, not an empty report

    def show_check(self, check: WeightsCheck) -> None:
        self.check = check
        if check.report is None:
            self.show_refusal(check.error or "nothing in it fits the graph")
            return
        report = check.report
        self.progress.setVisible(False)
        self.heading.setText(f"<b>{html.escape(report.summary())}</b><br><span style='color:gray'>Training will "
                             "start from these weights; everything not loaded keeps its fresh "
                             "initialisation. The source is read again when a run starts.</span>")
        self._fill(report)
        self.tree.setVisible(True)
        self.ok_button.setEnabled(True)
        self.ok_button.setFocus()

    def _fill(self, report: MatchReport) -> None:
        self.tree.clear()
        loaded = QTreeWidgetItem(self.tree, [f"Loaded: {report.matched_count} tensors in "
                                             f"{len(report.matched)} node(s)", ""])
        for label, keys in report.matched.items():
            node = QTreeWidgetItem(loaded, [label, f"{len(keys)} tensor(s) loaded"])
            for key in keys:
                QTreeWidgetItem(node, [key, "loaded"])
        reasons = report.reasons()
        if reasons:
            missed = QTreeWidgetItem(self.tree, [f"Not loaded: {len(reasons)}", ""])
            for key, reason in reasons:
                QTreeWidgetItem(missed, [key, reason])
            missed.setExpanded(True)
        loaded.setExpanded(True)

    def rows(self) -> list[tuple[str, str]]:
        """Every (tensor or node, result) row shown, depth first (tests, accessibility)."""
        out: list[tuple[str, str]] = []

        def walk(item: QTreeWidgetItem) -> None:
            out.append((item.text(0), item.text(1)))
            for index in range(item.childCount()):
                walk(item.child(index))

        for index in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(index))
        return out


class WeightsController(QObject):
    """The Load Weights actions of one window. `dialog` is the latest dialog (for tests)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: WeightsDialog | None = None
        self._poller = FuturePoller(self)

    # --- choosing a source -------------------------------------------------------------------
    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Load weights", str(self._start_folder()), FILE_FILTER)
        if name:
            self.load_path(Path(name))

    def choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self.window, "Load weights from a checkpoint, run or export folder",
                                                str(self._start_folder()))
        if name:
            self.load_path(Path(name))

    def _start_folder(self) -> Path:
        path = self.window.document.path
        return path.parent if path is not None else Path.home()

    # --- checking and applying ---------------------------------------------------------------
    def load_path(self, path: Path) -> WeightsDialog | None:
        """Check `path` against the graph on a helper thread and show the result; OK applies it."""
        if self._refuse_if_locked():
            return None
        document = self.window.document
        if self.dialog is not None:
            self.dialog.close()
        dialog = self.dialog = WeightsDialog(path, self.window)
        dialog.accepted.connect(lambda d=dialog, doc=document: self._apply(d, doc))
        dialog.open()
        if not document.analysis_is_current():
            document.reanalyze_now()
        if not document.analysis.ok:
            dialog.show_refusal(problems_note(len(document.analysis.errors), "matching weights"))
            return dialog
        copy = snapshot(document.project)  # taken here: only the GUI thread reads the document
        future = start_thread(lambda: check_weights(copy, document.registry, path), "nnstudio-weights")
        self._poller.watch(future, lambda done, d=dialog: self._on_checked(d, done))
        return dialog

    def _on_checked(self, dialog: WeightsDialog, future) -> None:
        exc = future.exception()
        if exc is not None:
            dialog.show_refusal(f"{type(exc).__name__}: {exc}")
        else:
            dialog.show_check(future.result())

    def _apply(self, dialog: WeightsDialog, document: Document) -> None:
        check = dialog.check
        if check is None or check.report is None or document is not self.window.document:
            return
        if self._refuse_if_locked():
            return
        document.push(SetInitWeightsCommand(document, stored_path(check.path, document.path)))
        self._say(f"Training will start from {check.report.summary()}.")

    def clear(self) -> None:
        document = self.window.document
        if self._refuse_if_locked():
            return
        if not document.project.init.weights:
            self._say("No weights are loaded: training starts from a fresh initialisation.")
            return
        document.push(SetInitWeightsCommand(document, None))
        self._say("Loaded weights cleared: training starts from a fresh initialisation (Undo brings them back).")

    def _refuse_if_locked(self) -> bool:
        if self.window.view.read_only:
            self._say(locked_message())
            return True
        return False

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MS)

    def shutdown(self) -> None:
        self._poller.stop()
