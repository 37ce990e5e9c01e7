"""EditorView: the canvas widget. It owns its scene (parented to it) and forwards user gestures.

Performance choices, measured with benchmarks/bench_canvas.py on a 1,000-node project:
- MinimalViewportUpdate: dragging a node repaints only the strips that changed. Full update costs
  a whole-viewport repaint per mouse move (4-7x slower when the graph is fitted to the window);
  Smart and BoundingRect measure about the same as Minimal, which is the simplest to reason about.
- Node items use DeviceCoordinateCache (the pixmap cache is enlarged so a screenful fits), so panning
  blits pixmaps; node text is laid out into QStaticText when a node changes, never in paint().
- Level of detail: zoomed out, node text gives way to a large name and then to nothing, ports hide,
  and links are drawn by one overview item instead of a thousand items.
- Edges recompute their path only when one of their two nodes moves; the scene uses a BSP index;
  the grid background is cached by the view.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPixmapCache,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsTextItem, QGraphicsView, QWidget

from nnstudio.ui.document import Document
from nnstudio.ui.editor import editing, style
from nnstudio.ui.editor.focus import FocusReturn
from nnstudio.ui.editor.hint import CanvasHint
from nnstudio.ui.editor.interactions import locked_message
from nnstudio.ui.editor.navigation import ZOOM_STEP, Navigator
from nnstudio.ui.editor.scene import EditorScene

PALETTE_MIME = "application/x-nnstudio-layer"
PIXMAP_CACHE_KB = 128 * 1024
READABLE_ZOOM = 0.75  # going to a node zooms in to at least this scale, where its text is legible


class EditorView(QGraphicsView):
    selection_changed = Signal(list)  # selected node ids
    status_message = Signal(str)
    read_only_changed = Signal(bool)  # the inspector locks with the canvas while a run trains

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.read_only = False
        self.paste_count = 0
        self.last_paste: str | None = None
        self.navigator = Navigator(self)
        self.hint = CanvasHint(self)  # how to begin, while the canvas is empty
        self.focus_return = FocusReturn(self)  # shortcuts keep working after a dialog closes
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        # Panning is middle-drag or Space+drag; scroll bars would only clutter the canvas.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Node pixmaps live in QPixmapCache; its 10 MB default thrashes with a screenful of nodes.
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
        self._scene = self._make_scene(document)
        # Until the user zooms or pans, every resize re-fits the graph: the first fit otherwise runs
        # before the window has its final size and leaves parts of the graph off screen.
        self._auto_fit = True

    # --- document and scene ----------------------------------------------------------------------
    def _make_scene(self, document: Document) -> EditorScene:
        scene = EditorScene(document, self)
        scene.status_message.connect(self.status_message)
        scene.selectionChanged.connect(self._emit_selection)
        scene.read_only = self.read_only
        scene.set_detail(self.navigator.zoom() >= style.DETAIL_ZOOM)
        self.setScene(scene)
        return scene

    def scene(self) -> EditorScene:
        return self._scene

    def set_document(self, document: Document) -> None:
        """Show another document (File > Open): the old scene is detached and discarded."""
        old = self._scene
        old.detach()
        old.selectionChanged.disconnect(self._emit_selection)
        self.document = document
        self.paste_count, self.last_paste = 0, None
        self._scene = self._make_scene(document)
        old.deleteLater()
        self._auto_fit = True
        self.fit_to_window()
        self.selection_changed.emit([])

    def set_read_only(self, locked: bool) -> None:
        """While training runs: selection and navigation work, edits are refused with a reason."""
        changed = locked != self.read_only
        self.read_only = locked
        self._scene.read_only = locked
        if locked:
            self._scene.cancel_interaction()
        if changed:
            self.read_only_changed.emit(locked)

    def refuse_if_locked(self) -> bool:
        if self.read_only:
            self.status_message.emit(locked_message())
        return self.read_only

    # --- selection ---------------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        order = {node_id: i for i, node_id in enumerate(self.document.graph.nodes)}
        ids = [item.node_id for item in self._scene.selected_node_items()]
        return sorted(ids, key=lambda node_id: order.get(node_id, len(order)))

    def select_nodes(self, ids: list[str]) -> None:
        scene = self._scene
        scene.blockSignals(True)
        try:
            scene.clearSelection()
            for node_id in ids:
                item = scene.nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            scene.blockSignals(False)
        self._emit_selection()

    def select_all(self) -> None:
        self.select_nodes(list(self._scene.nodes))

    def center_on_node(self, node_id: str) -> None:
        """Bring a node into the middle of the view, zooming in first if it would be too small to read."""
        item = self._scene.nodes.get(node_id)
        if item is None:
            return
        self._auto_fit = False  # a later resize must not throw the user back to the overview
        if self.navigator.zoom() < READABLE_ZOOM:
            self.navigator.zoom_by(READABLE_ZOOM / self.navigator.zoom())
        self.centerOn(item.sceneBoundingRect().center())

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selected_node_ids())

    # --- navigation ------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self._auto_fit = False
        self.navigator.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._auto_fit = False
        self.navigator.zoom_by(1 / ZOOM_STEP)

    def zoom_changed(self, zoom: float) -> None:
        """Called by the navigator: far out, the scene drops ports and per-link items."""
        self._scene.set_detail(zoom >= style.DETAIL_ZOOM)

    def fit_to_window(self) -> None:
        self.navigator.fit(self._scene.nodes_rect())

    # --- editing (see editing.py) ----------------------------------------------------------------
    def delete_selection(self) -> None:
        editing.delete_selection(self)

    def copy_selection(self) -> None:
        editing.copy_selection(self)

    def cut_selection(self) -> None:
        editing.cut_selection(self)

    def paste(self) -> None:
        editing.paste(self)

    def duplicate_selection(self) -> None:
        editing.duplicate_selection(self)

    def auto_layout(self) -> None:
        editing.auto_layout(self)

    def add_node_at_center(self, layer_type: str) -> None:
        editing.place_layer(self, layer_type, self.mapToScene(self.viewport().rect().center()))

    def add_comment(self, kind: str) -> None:
        """A note at the middle of the view, or a frame: around the selected nodes if any, else at the middle."""
        if self.refuse_if_locked():
            return
        layer = self.scene().comment_layer
        if kind == "frame" and layer.frame_selection():
            return
        layer.add(kind, self.mapToScene(self.viewport().rect().center()))

    def add_node_at(self, layer_type: str, scene_pos: QPointF) -> None:
        editing.place_layer(self, layer_type, scene_pos)

    # --- palette drops ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(PALETTE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(PALETTE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QEvent) -> None:
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(PALETTE_MIME):
            event.ignore()
            return
        layer_type = bytes(data.data(PALETTE_MIME).data()).decode("utf-8", errors="replace").strip()
        event.acceptProposedAction()
        self.add_node_at(layer_type, self.mapToScene(event.position().toPoint()))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        self.hint.paint(painter)

    # --- mouse and keys --------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_window()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._auto_fit = False
        self.navigator.wheel(event)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.navigator.press(event):
            self._auto_fit = False
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event = _with_control(event)  # Shift-drag extends a rubber-band selection like Ctrl
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.navigator.move(event):
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.navigator.release(event):
            event.accept()
            return
        banding = not self.rubberBandRect().isNull()
        super().mouseReleaseEvent(event)
        if banding:
            self._keep_links_between_selected_nodes()

    def _keep_links_between_selected_nodes(self) -> None:
        """A rubber band selects the nodes it touches, and only the links joining two of them."""
        selected = {item.node_id for item in self._scene.selected_node_items()}
        for item in self._scene.selected_edge_items():
            if item.source.node_item.node_id not in selected or item.target.node_item.node_id not in selected:
                item.setSelected(False)

    def editing_text(self) -> bool:
        """Whether a comment's text is being written: every key is then the text's (Space, Delete, Escape)."""
        item = self._scene.focusItem()
        return (isinstance(item, QGraphicsTextItem)
                and bool(item.textInteractionFlags() & Qt.TextInteractionFlag.TextEditorInteraction))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.editing_text():
            super().keyPressEvent(event)
            return
        if self.navigator.key_press(event):
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self._scene.cancel_interaction()
            self._scene.clearSelection()
        elif event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self.editing_text() and self.navigator.key_release(event):
            event.accept()
            return
        super().keyReleaseEvent(event)


def _with_control(event: QMouseEvent) -> QMouseEvent:
    return QMouseEvent(event.type(), event.position(), event.scenePosition(), event.globalPosition(),
                       event.button(), event.buttons(), event.modifiers() | Qt.KeyboardModifier.ControlModifier,
                       event.pointingDevice())
