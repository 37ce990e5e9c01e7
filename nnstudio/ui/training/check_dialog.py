"""Training ▸ Check…: the sanity runs of `nnstudio check`, off the GUI thread, with the LR range plot.

The checks run on a worker thread on a copy of the project (its saved text, as a run gets it), so edits
made meanwhile do not race them; a FuturePoller hands the results back to the GUI thread. The report is the
CLI's text, line for line. "Use this learning rate" sets training.optimizer.lr to the LR range test's
suggestion as one undoable edit, the same command the training settings form pushes.
"""

from __future__ import annotations

import math
from concurrent.futures import Future
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from nnstudio.io import dumps
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.plots.base import PALETTE, configure_plot, lighter
from nnstudio.ui.training.commands import push_setting

LR_PATH = ("optimizer", "lr")
YRANGE_FACTOR = 2.0  # the plot shows losses up to twice the curve's start


def run_sanity(text: str, registry, base_dir: Path | None, options=None):
    """The worker's job: load, prepare and check; bad input comes back as SanityFailure (one line)."""
    from nnstudio.io import ProjectFileError, loads
    from nnstudio.training import TrainingInputError, prepare
    from nnstudio.training.sanity import SanityContext, SanityInputError, run_checks

    try:
        ctx = SanityContext(prepare(loads(text, registry), base_dir, allow_nothing_to_train=True))
    except (TrainingInputError, SanityInputError, ProjectFileError) as exc:
        raise SanityFailure(f"Cannot check: {exc}") from None
    return run_checks(ctx, options)


class SanityFailure(Exception):
    """The project cannot be checked; the message is the line the dialog shows."""


def rounded(lr: float) -> float:
    """A learning rate a person would type: two significant digits (0.00316 -> 0.0032)."""
    return float(f"{lr:.2g}")


class CheckDialog(QDialog):
    """The report of the sanity checks on the window's document; `finished_checks` fires when it is shown."""

    finished_checks = Signal()

    def __init__(self, document, base_dir: Path | None, parent: QWidget | None = None, options=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sanity checks")
        self.document, self.base_dir, self.options = document, base_dir, options
        self.results: list = []
        self.suggestion: float | None = None
        self._poller = FuturePoller(self)
        self.status = QLabel("")
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.plot = pg.PlotWidget()
        configure_plot(self.plot.getPlotItem(), "LR range test", "learning rate", "loss")
        self.plot.getPlotItem().setLogMode(x=True, y=False)
        self.plot.hide()
        self.apply_button = QPushButton("Use this learning rate")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_suggestion)
        self.rerun_button = QPushButton("Run again")
        self.rerun_button.clicked.connect(self.start)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)
        buttons.addWidget(self.rerun_button)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.report, self.plot):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.resize(760, 620)

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def start(self) -> None:
        """Run the checks on the document as it is now (ignored while a run is under way)."""
        if self.busy:
            return
        self.status.setText("Running the sanity checks (initial loss, overfit one batch, LR range, gradients)…")
        self.rerun_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        doc = self.document
        text = dumps(doc.project, doc.registry)
        future = start_thread(lambda: run_sanity(text, doc.registry, self.base_dir, self.options), "nnstudio-check")
        self._poller.watch(future, self._done)

    def _done(self, future: Future) -> None:
        self.rerun_button.setEnabled(True)
        try:
            results = future.result()
        except SanityFailure as exc:
            self._show_error(str(exc))
            return
        except Exception as exc:  # a check that broke on this graph: one line, never a traceback dialog
            self._show_error(f"The checks stopped: {type(exc).__name__}: {exc}")
            return
        from nnstudio.training.sanity import report_text

        self.results = results
        failed = sum(not r.passed for r in results)
        self.status.setText(
            f"{failed} of {len(results)} check(s) failed" if failed else f"All {len(results)} checks passed"
        )
        self.report.setPlainText(report_text(results))
        self._show_curve(next((r for r in results if r.curve), None))
        self.finished_checks.emit()

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self.report.setPlainText(message)
        self.finished_checks.emit()

    def _show_curve(self, result) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        if result is None or not result.curve or not result.curve["lr"]:
            self.plot.hide()
            return
        curve = result.curve
        item.plot(curve["lr"], curve["loss"], pen=pg.mkPen(lighter(PALETTE[0]), width=1), name="loss")
        item.plot(curve["lr"], curve["smoothed"], pen=pg.mkPen(PALETTE[0], width=2), name="smoothed")
        smooth = [v for v in curve["smoothed"] if math.isfinite(v)]
        if smooth:  # the last, exploded steps would flatten the part that matters
            low, high = min(smooth), max(smooth[0], 0.0) * YRANGE_FACTOR
            item.setYRange(low, high if high > low else low + 1.0, padding=0.05)
        lr = result.figures.get("suggested_lr")
        self.suggestion = rounded(lr) if lr is not None and math.isfinite(lr) and lr > 0 else None
        if self.suggestion is not None:
            line = pg.InfiniteLine(
                pos=math.log10(self.suggestion),
                angle=90,
                label=f"suggested {self.suggestion:g}",
                pen=pg.mkPen(PALETTE[3], width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                labelOpts={"position": 0.9, "color": PALETTE[3]},
            )
            item.addItem(line)
            self.apply_button.setText(f"Use this learning rate ({self.suggestion:g})")
        self.apply_button.setEnabled(self.suggestion is not None and result.passed)
        self.plot.show()

    def apply_suggestion(self) -> None:
        """Set training.optimizer.lr to the suggestion: one undoable edit, like typing it in the form."""
        if self.suggestion is None:
            return
        push_setting(self.document, "training", LR_PATH, self.suggestion)
        self.status.setText(f"training.optimizer.lr set to {self.suggestion:g} (Edit ▸ Undo takes it back)")

    def closeEvent(self, event) -> None:
        self._poller.stop()  # a late result must not reach a closed dialog
        super().closeEvent(event)
