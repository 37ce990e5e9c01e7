"""The Summary dock: per-layer output shape, parameter count and FLOPs, with totals.

A Training column (frozen, a learning-rate scale, "training only" for losses and what only they use) shows
only when some node has something to say there, and the totals split trainable from frozen parameters.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from nnstudio.ui.docks.preview import PreviewResult

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Node", "Type", "Output shape", "Params", "FLOPs", "Training")
TRAINING_COLUMN = 5
FROZEN_TEXT = "#1864ab"  # the canvas' frozen blue


def human(count: int) -> str:
    """1234567 -> '1.23M': FLOP counts span too many orders of magnitude for plain digits."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f}{unit}"
    return str(count)


def problems_note(count: int, what: str = "the summary") -> str:
    noun = "problem" if count == 1 else "problems"
    return f"Fix the {count} {noun} listed in Problems first: {what} needs a valid graph."


def totals_text(summary) -> str:
    """The line under the table: parameters split into trainable and frozen, size, FLOPs per sample."""
    split = f"{summary.trainable_params:,} trainable"
    if summary.frozen_params:
        split += f", {summary.frozen_params:,} frozen"
    text = (f"<b>Total</b>: {summary.total_params:,} parameters ({split}), {summary.size_bytes / 1024:,.1f} KiB · "
            f"{human(summary.total_flops)} FLOPs per sample")
    if summary.inference_params != summary.total_params:
        text += (f"<br>The inference model keeps {summary.inference_params:,} of them; the rest serve only "
                 "the losses.")
    return text


class SummaryPanel(QWidget):
    """Shows the latest PreviewResult. `node_requested(node_id)` fires when a row is clicked."""

    node_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel("Computing the summary…")
        self.note.setWordWrap(True)
        self.note.setContentsMargins(4, 4, 4, 4)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemClicked.connect(self._on_clicked)
        self.totals = QLabel()
        self.totals.setContentsMargins(4, 4, 4, 4)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)

    def show_busy(self, busy: bool) -> None:
        if busy and self.table.topLevelItemCount() == 0:
            self.note.setText("Computing the summary…")
            self.note.setVisible(True)

    def show_result(self, result: PreviewResult) -> None:
        if result.summary is None:
            self.table.clear()
            self.totals.clear()
            self.note.setText(problems_note(result.problems) if result.problems
                              else f"Could not compile the graph: {result.error}")
            self.note.setVisible(True)
            return
        self.note.setVisible(False)
        summary = result.summary
        self.table.setUpdatesEnabled(False)
        self.table.clear()
        self.table.addTopLevelItems([self._row(row) for row in summary.rows])
        self.table.setColumnHidden(TRAINING_COLUMN, not any(row.note for row in summary.rows))
        self.table.setUpdatesEnabled(True)
        self.totals.setText(totals_text(summary))

    def _row(self, row) -> QTreeWidgetItem:
        item = QTreeWidgetItem([row.name, row.type, row.output, f"{row.params:,}", human(row.flops), row.note])
        for column in (3, 4):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setToolTip(4, f"{row.flops:,} floating-point operations for one sample")
        if row.frozen:
            item.setForeground(TRAINING_COLUMN, QColor(FROZEN_TEXT))
            item.setToolTip(TRAINING_COLUMN, "Frozen: the trainer leaves these parameters as they are")
        elif not row.inference:
            item.setToolTip(TRAINING_COLUMN, "Used only while training (by a loss); not part of the exported model")
        item.setData(0, NODE_ROLE, row.node_id)
        return item

    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        node_id = item.data(0, NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)
