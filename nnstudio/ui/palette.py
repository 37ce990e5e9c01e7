"""The layer palette: every registered layer by category, searchable, draggable onto the canvas.

Entries come from the registry's specs, so a plugin's layers appear here with no extra code. A drag
carries the layer type under PALETTE_MIME; the canvas decides where (and on which edge) it lands.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import LayerSpec
from nnstudio.ui.editor import PALETTE_MIME
from nnstudio.ui.editor.style import header_colour

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 2
PALETTE_WIDTH = 230  # wide enough for titles such as "Negative log-likelihood" beside their icons


def glyph_icon(spec: LayerSpec, size: int = 20, scale: float = 2.0) -> QIcon:
    """The spec's glyph drawn white on a rounded square in its header colour (as on the canvas)."""
    pixmap = QPixmap(int(size * scale), int(size * scale))
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(header_colour(spec))
    rect = QRectF(0.5, 0.5, size - 1, size - 1)
    painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
    font = QFont()
    font.setPixelSize(int(size * 0.62))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, spec.glyph or spec.type[:1])
    painter.end()
    return QIcon(pixmap)


class LayerTree(QTreeWidget):
    """The tree itself; it starts the drag with the layer type under PALETTE_MIME."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(QSize(20, 20))
        self.setIndentation(12)
        self.setUniformRowHeights(True)

    def mime_for(self, item: QTreeWidgetItem) -> QMimeData | None:
        layer_type = item.data(0, TYPE_ROLE)
        if not layer_type:
            return None
        mime = QMimeData()
        mime.setData(PALETTE_MIME, layer_type.encode("utf-8"))
        mime.setText(layer_type)
        return mime

    def startDrag(self, actions: Qt.DropAction) -> None:
        item = self.currentItem()
        mime = self.mime_for(item) if item is not None else None
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(QSize(28, 28)))
        drag.setHotSpot(QPoint(14, 14))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search box over the layer tree. `activated(type)` fires on double-click or Return."""

    activated = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first_visible)
        self.tree = LayerTree()
        self.tree.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate(registry)

    def _populate(self, registry: Registry) -> None:
        for category, specs in registry.by_category():
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.title])
                item.setIcon(0, glyph_icon(spec))
                item.setToolTip(0, spec.tooltip)
                item.setData(0, TYPE_ROLE, spec.type)
                words = " ".join((spec.type, spec.title, spec.summary, category))
                item.setData(0, SEARCH_ROLE, words.lower())
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()

    def sizeHint(self) -> QSize:
        """The dock's first width (before the user resizes it): room for every layer title beside its icon."""
        return QSize(max(PALETTE_WIDTH, self.fitting_width()), super().sizeHint().height())

    def fitting_width(self) -> int:
        """The width at which no layer title is cut: the widest title, its icon, indent, margins, a scroll bar."""
        tree = self.tree
        metrics = tree.fontMetrics()
        widest = max((metrics.horizontalAdvance(item.text(0)) for item in self.layer_items()), default=0)
        bar = tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        margins = self.layout().contentsMargins()
        chrome = 2 * tree.indentation() + tree.iconSize().width() + 16 + bar + 2 * tree.frameWidth()
        return widest + chrome + margins.left() + margins.right()

    def filter(self, text: str) -> None:
        """Show the layers whose type, title or summary contain every word typed."""
        words = text.lower().split()
        for group in self.groups():
            visible = 0
            for index in range(group.childCount()):
                item = group.child(index)
                hit = all(word in item.data(0, SEARCH_ROLE) for word in words)
                item.setHidden(not hit)
                visible += hit
            group.setHidden(visible == 0)
        if words:
            self.tree.expandAll()

    def groups(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    def visible_types(self) -> list[str]:
        return [item.data(0, TYPE_ROLE) for item in self.layer_items() if not item.isHidden()
                and not item.parent().isHidden()]

    def item_for(self, layer_type: str) -> QTreeWidgetItem | None:
        return next((item for item in self.layer_items() if item.data(0, TYPE_ROLE) == layer_type), None)

    def layer_items(self) -> list[QTreeWidgetItem]:
        return [group.child(i) for group in self.groups() for i in range(group.childCount())]

    def _on_activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        layer_type = item.data(0, TYPE_ROLE)
        if layer_type:
            self.activated.emit(layer_type)

    def _activate_first_visible(self) -> None:
        visible = self.visible_types()
        if visible:
            self.activated.emit(visible[0])
