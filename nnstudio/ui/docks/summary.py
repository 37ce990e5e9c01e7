"""The Summary dock: per-layer output shape, parameter count and FLOPs, with totals."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from nnstudio.ui.docks.preview import PreviewResult

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Node", "Type", "Output shape", "Params", "FLOPs")


def human(count: int) -> str:
    """1234567 -> '1.23M': FLOP counts span too many orders of magnitude for plain digits."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f}{unit}"
    return str(count)


def problems_note(count: int, what: str = "the summary") -> str:
    noun = "problem" if count == 1 else "problems"
    return f"Fix the {count} {noun} listed in Problems first: {what} needs a valid graph."


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
        self.table.setUpdatesEnabled(True)
        self.totals.setText(
            f"<b>Total</b>: {summary.total_params:,} parameters ({summary.trainable_params:,} trainable), "
            f"{summary.size_bytes / 1024:,.1f} KiB · {human(summary.total_flops)} FLOPs per sample")

    def _row(self, row) -> QTreeWidgetItem:
        item = QTreeWidgetItem([row.name, row.type, row.output, f"{row.params:,}", human(row.flops)])
        for column in (3, 4):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setToolTip(4, f"{row.flops:,} floating-point operations for one sample")
        item.setData(0, NODE_ROLE, row.node_id)
        return item

    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        node_id = item.data(0, NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)
