"""The Problems dock: the window's ProblemList (graph, training and run problems); clicking one shows its node.

Each row wraps its whole message and carries it as a tooltip too, so a long problem is never cut off.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.analysis import Analysis, Diagnostic
from nnstudio.ui.problem_list import ProblemList

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_SHOWN = 500  # a broken 10,000-node paste should not freeze the list


class _WrappingDelegate(QStyledItemDelegate):
    """Row heights for wrapped text: Qt's tree asks for a size with no width to wrap at, so give it the column's."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        sized = QStyleOptionViewItem(option)
        sized.rect.setRect(0, 0, self.tree.columnWidth(index.column()), max(option.rect.height(), 1))
        return super().sizeHint(sized, index)


class ProblemsPanel(QWidget):
    """Shows `model` (a ProblemList), errors first. `node_requested(node_id)` fires when one is clicked."""

    node_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, model: ProblemList | None = None) -> None:
        super().__init__(parent)
        self.model = model if model is not None else ProblemList(self)
        self.summary = QLabel()
        self.summary.setContentsMargins(4, 2, 4, 2)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Problem", "Code"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(False)  # a long message wraps onto more lines
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setItemDelegate(_WrappingDelegate(self.tree))
        header.sectionResized.connect(lambda *_: self.tree.scheduleDelayedItemsLayout())  # re-wrap at the new width
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
        self.model.changed.connect(self._render)
        self._render()

    def set_document(self, document) -> None:
        """Follow the window's document: the model recomputes its problems from the project."""
        self.model.set_document(document)

    def show_analysis(self, analysis: Analysis) -> None:
        """The graph's part of the list (the window calls this on every analysis)."""
        self.model.set_graph(analysis.diagnostics)

    def _render(self) -> None:
        self.diagnostics = sorted(self.model.diagnostics, key=lambda d: not d.is_error)
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
        """What the status bar shows too: both read the one model."""
        return self.model.summary_text()

    def _item(self, diagnostic: Diagnostic) -> QTreeWidgetItem:
        item = QTreeWidgetItem([diagnostic.message, diagnostic.code])
        item.setIcon(0, self._icons[diagnostic.is_error])
        item.setToolTip(0, diagnostic.message)
        item.setToolTip(1, diagnostic.message)
        item.setData(0, NODE_ROLE, diagnostic.node_id)
        return item

    def _on_clicked(self, item: QTreeWidgetItem, column: int = 0) -> None:
        node_id = item.data(0, NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)
