"""The Problems dock: the latest analysis' diagnostics; clicking one asks to show its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from nnstudio.analysis import Analysis, Diagnostic

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_SHOWN = 500  # a broken 10,000-node paste should not freeze the list


class ProblemsPanel(QWidget):
    """A list of diagnostics, errors first. `node_requested(node_id)` fires when one is clicked."""

    node_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setContentsMargins(4, 2, 4, 2)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Problem", "Code"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setWordWrap(False)
        self.tree.setColumnWidth(0, 420)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        style = self.style()
        self._icons = {
            True: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            False: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        self.diagnostics: list[Diagnostic] = []

    def show_analysis(self, analysis: Analysis) -> None:
        self.diagnostics = sorted(analysis.diagnostics, key=lambda d: not d.is_error)
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        items = [self._item(d) for d in self.diagnostics[:MAX_SHOWN]]
        if len(self.diagnostics) > MAX_SHOWN:
            more = QTreeWidgetItem([f"… and {len(self.diagnostics) - MAX_SHOWN} more", ""])
            more.setFlags(Qt.ItemFlag.ItemIsEnabled)
            items.append(more)
        self.tree.addTopLevelItems(items)
        self.tree.setUpdatesEnabled(True)
        self.summary.setText(self.summary_text())

    def summary_text(self) -> str:
        errors = sum(d.is_error for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        if not self.diagnostics:
            return "✓ No problems: the graph is valid."
        parts = [_count(errors, "error"), _count(warnings, "warning")]
        return ", ".join(p for p in parts if p)

    def _item(self, diagnostic: Diagnostic) -> QTreeWidgetItem:
        item = QTreeWidgetItem([diagnostic.message, diagnostic.code])
        item.setIcon(0, self._icons[diagnostic.is_error])
        item.setToolTip(0, diagnostic.message)
        item.setData(0, NODE_ROLE, diagnostic.node_id)
        return item

    def _on_clicked(self, item: QTreeWidgetItem, column: int = 0) -> None:
        node_id = item.data(0, NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)


def _count(number: int, word: str) -> str:
    if number == 0:
        return ""
    return f"{number} {word}" + ("" if number == 1 else "s")
