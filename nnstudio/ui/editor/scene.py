"""EditorScene: builds items from the graph and keeps them in step through the graph's signals.

The scene never changes the document itself. Gestures are delegated to small interaction
objects (interactions.py) that push undo commands; the items then follow the graph's signals,
exactly as they do for undo, redo, the inspector or a file load.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from nnstudio.analysis import Analysis, Diagnostic
from nnstudio.layers.spec import LayerSpec, TensorType
from nnstudio.model import Edge, Graph, Node
from nnstudio.ui.document import Document
from nnstudio.ui.editor import style
from nnstudio.ui.editor.comment_layer import CommentLayer
from nnstudio.ui.editor.comments import CommentItem, comment_interaction
from nnstudio.ui.editor.edges import EdgeItem, EdgeOverview
from nnstudio.ui.editor.interactions import Interaction, LinkInteraction, MoveInteraction, locked_message
from nnstudio.ui.editor.items import NodeItem, PortItem
from nnstudio.ui.editor.players import PlayerMarks

EDGE_PROBLEM_CODES = {"shape-mismatch", "too-many-inputs", "bad-port", "shape-rule-failed"}
SCENE_MARGIN = 2000.0  # room to pan around the graph and to drop new layers beside it


class EditorScene(QGraphicsScene):
    status_message = Signal(str)

    def __init__(self, document: Document, parent: Any) -> None:
        super().__init__(parent)  # always parented: an orphan scene is collected and the canvas empties
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[str, EdgeItem] = {}
        self.read_only = False
        self.detail = True
        self.interaction: Interaction | None = None
        self.overview = EdgeOverview(self.edges)
        self.overview.setVisible(False)
        self.addItem(self.overview)
        self.sceneRectChanged.connect(self.overview.set_bounds)
        for node in document.graph.nodes.values():
            self._on_node_added(node)
        for edge in document.graph.edges.values():
            self._on_edge_added(edge)
        self.comment_layer = CommentLayer(self)  # notes and frames (model: project.annotations)
        self.players = PlayerMarks(self)  # a GAN's generator and discriminator, marked on their nodes
        self.apply_analysis(document.analysis)
        self.grow_scene_rect()
        self._connect()

    # --- wiring to the document ----------------------------------------------------------------
    def _slots(self) -> list[tuple[Any, Any]]:
        graph = self.document.graph
        return [(graph.node_added, self._on_node_added), (graph.node_removed, self._on_node_removed),
                (graph.edge_added, self._on_edge_added), (graph.edge_removed, self._on_edge_removed),
                (graph.param_changed, self._on_node_changed), (graph.node_renamed, self._on_node_changed),
                (graph.node_training_changed, self._on_node_changed), (graph.node_moved, self._on_node_moved),
                (self.document.project.settings_changed, self.players.on_settings)]

    def _connect(self) -> None:
        for signal, slot in self._slots():
            signal.connect(slot)
        self.comment_layer.connect()
        self.document.analysis_changed.connect(self.apply_analysis)

    def detach(self) -> None:
        """Stop following the document (before the scene is dropped for another one)."""
        self.cancel_interaction()
        for signal, slot in self._slots():
            signal.disconnect(slot)
        self.comment_layer.detach()
        self.document.analysis_changed.disconnect(self.apply_analysis)

    def set_detail(self, detail: bool) -> None:
        """Zoomed far out, ports are too small to use and links are drawn by one overview item:
        hide those items, so painting skips them entirely."""
        if detail != self.detail:
            self.detail = detail
            for item in self.nodes.values():
                item.show_ports(detail)
            for edge in self.edges.values():
                edge.setVisible(detail)
            self.overview.setVisible(not detail)
            self.overview.invalidate()

    def _on_node_added(self, node: Node) -> None:
        spec = self.document.registry.get(node.type)
        shape, known = _output_text(self.document.analysis, node.id, spec)  # lay the face out once
        item = NodeItem(node, spec, shape, known)
        item.show_ports(self.detail)
        self.nodes[node.id] = item
        self.addItem(item)

    def _on_node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        if item is not None:
            for edge in list(item.edges):  # normally gone already: the graph removes edges first
                self._on_edge_removed_id(edge.edge_id)
            self.removeItem(item)

    def _on_edge_added(self, edge: Edge) -> None:
        source = self.nodes[edge.source.node].outputs.get(edge.source.port)
        source = source or self.nodes[edge.source.node].ensure_port(edge.source.port, False)
        target = self.nodes[edge.target.node].inputs.get(edge.target.port)
        target = target or self.nodes[edge.target.node].ensure_port(edge.target.port, True)
        item = EdgeItem(edge.id, source, target)
        item.setVisible(self.detail)
        self.edges[edge.id] = item
        self.addItem(item)
        self.overview.invalidate()

    def _on_edge_removed(self, edge: Edge) -> None:
        self._on_edge_removed_id(edge.id)

    def _on_edge_removed_id(self, edge_id: str) -> None:
        item = self.edges.pop(edge_id, None)
        if item is not None:
            item.detach()
            self.removeItem(item)
            self.overview.invalidate()

    def _on_node_changed(self, node_id: str, *_: Any) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.update_face(self.document.graph.nodes[node_id])

    def _on_node_moved(self, node_id: str, position: tuple[float, float]) -> None:
        item = self.nodes.get(node_id)
        if item is not None and (item.x(), item.y()) != tuple(position):
            item.move_to(QPointF(*position))

    # --- analysis ----------------------------------------------------------------------------
    def apply_analysis(self, analysis: Analysis) -> None:
        """Show shapes and problems; only items whose text or marks changed repaint."""
        by_node, by_port, cycles = _index_problems(analysis.diagnostics)
        shapes = analysis.shapes
        for node_id, item in self.nodes.items():
            item.set_output_shape(*_output_text(analysis, node_id, item.spec))
            item.set_problems(by_node.get(node_id, []))
        graph = self.document.graph
        for edge_id, item in self.edges.items():
            edge = graph.edges[edge_id]
            found = shapes.of_edge(edge)
            item.set_label(style.compact_shape(found.shape, found.dtype) if found is not None else "")
            problems = by_port.get((edge.target.node, edge.target.port), []) + by_port.get(
                (edge.target.node, None), [])
            problems += [d for d in cycles if {edge.source.node, edge.target.node} <= set(d.related)]
            item.set_problems(problems, _link_text(graph, edge, found))
        self.players.refresh()
        self.grow_scene_rect()

    def grow_scene_rect(self) -> None:
        """Keep room around the graph; never shrink, so the view does not jump while editing."""
        wanted = self.nodes_rect().adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        current = self.sceneRect()
        if not current.contains(wanted):
            self.setSceneRect(current.united(wanted))

    # --- queries -----------------------------------------------------------------------------
    def nodes_rect(self) -> QRectF:
        """The area the nodes cover (links always run between them)."""
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
            if isinstance(item, NodeItem):
                return None
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            owner = item if isinstance(item, NodeItem) else item.parentItem()
            if isinstance(owner, NodeItem):
                return owner
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The link under a point (for dropping a layer into it), if no node is in the way."""
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
            if isinstance(item, (NodeItem, PortItem)):
                return None
        return None

    def selected_node_items(self) -> list[NodeItem]:
        return [item for item in self.selectedItems() if isinstance(item, NodeItem)]

    def selected_edge_items(self) -> list[EdgeItem]:
        return [item for item in self.selectedItems() if isinstance(item, EdgeItem)]

    # --- gestures ----------------------------------------------------------------------------
    def cancel_interaction(self) -> None:
        if self.interaction is not None:
            self.interaction.cancel()
            self.interaction = None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.cancel_interaction()
        if event.button() == Qt.MouseButton.LeftButton:
            # a note drawn over a port is what the user sees, and clicks
            port = None if self._note_on_top(event.scenePos()) else self.port_at(event.scenePos())
            if port is not None:
                event.accept()
                if self.read_only:
                    self.status_message.emit(locked_message())
                else:
                    self.interaction = LinkInteraction(self, port)
                return
            _shift_means_control(event)
        super().mousePressEvent(event)
        grabber = self.mouseGrabberItem()
        if event.button() == Qt.MouseButton.LeftButton and isinstance(grabber, NodeItem):
            self.interaction = MoveInteraction(self, grabber, event.scenePos())
        elif event.button() == Qt.MouseButton.LeftButton and isinstance(grabber, CommentItem):
            self.interaction = comment_interaction(self, grabber, event.scenePos())

    def _note_on_top(self, pos: QPointF) -> bool:
        top = next(iter(self.items(pos)), None)
        owner = top.parentItem() if top is not None and not isinstance(top, CommentItem) else top
        return isinstance(owner, CommentItem) and not owner.is_frame

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.interaction is not None:
            self.interaction.mouse_move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        interaction, self.interaction = self.interaction, None
        if isinstance(interaction, LinkInteraction):
            interaction.mouse_release(event.scenePos())
            event.accept()
            return
        _shift_means_control(event)
        super().mouseReleaseEvent(event)
        if interaction is not None:
            interaction.mouse_release(event.scenePos())

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, style.BACKGROUND)
        scale = painter.worldTransform().m11()
        if scale < 0.3:
            return
        for step, colour in ((style.GRID, style.GRID_MINOR), (style.GRID * 5, style.GRID_MAJOR)):
            if step * scale < 10:
                continue
            painter.setPen(QPen(colour, 0))
            painter.drawLines(_grid_lines(rect, step))


def _output_text(analysis: Analysis, node_id: str, spec: LayerSpec | None) -> tuple[str, bool]:
    """The node's output type as shown on its face (an Output node shows what it returns)."""
    port = spec.outputs[0].name if spec is not None and spec.outputs else ""
    found = analysis.shapes.of(node_id, port)
    return (str(found), True) if found is not None else ("", False)


def _link_text(graph: Graph, edge: Edge, found: TensorType | None) -> str:
    source, target = graph.nodes[edge.source.node], graph.nodes[edge.target.node]
    shape = str(found) if found is not None else "shape unknown"
    return f"{source.name}.{edge.source.port} → {target.name}.{edge.target.port}: {shape}"


def _shift_means_control(event: QGraphicsSceneMouseEvent) -> None:
    """Qt toggles selection with Ctrl only; Shift-click adds to the selection too."""
    if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
        event.setModifiers(event.modifiers() | Qt.KeyboardModifier.ControlModifier)


def _grid_lines(rect: QRectF, step: float) -> list[QLineF]:
    left = int(rect.left() // step) * step
    top = int(rect.top() // step) * step
    lines = []
    x = left
    while x < rect.right():
        lines.append(QLineF(x, rect.top(), x, rect.bottom()))
        x += step
    y = top
    while y < rect.bottom():
        lines.append(QLineF(rect.left(), y, rect.right(), y))
        y += step
    return lines


def _index_problems(diagnostics: list[Diagnostic]) -> tuple[
        dict[str, list[Diagnostic]], dict[tuple[str, str | None], list[Diagnostic]], list[Diagnostic]]:
    """Problems per node, per (node, port) for edges, and cycles (which mark every edge inside)."""
    by_node: dict[str, list[Diagnostic]] = defaultdict(list)
    by_port: dict[tuple[str, str | None], list[Diagnostic]] = defaultdict(list)
    cycles: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if diagnostic.node_id:
            by_node[diagnostic.node_id].append(diagnostic)
        if diagnostic.code == "cycle":
            cycles.append(diagnostic)
            for other in diagnostic.related:
                if other != diagnostic.node_id:
                    by_node[other].append(diagnostic)
        elif diagnostic.code in EDGE_PROBLEM_CODES and diagnostic.node_id:
            by_port[(diagnostic.node_id, diagnostic.port)].append(diagnostic)
    return by_node, by_port, cycles

