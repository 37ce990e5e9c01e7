"""Gestures as small objects outside the scene: dragging a link, moving nodes.

Each interaction lives from a mouse press to its release. It may move items for feedback while
the mouse is down, but it changes the document only by pushing one undo command at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QTimer

from nnstudio.analysis import Verdict, can_connect
from nnstudio.model import Endpoint
from nnstudio.ui.commands import AddEdgeCommand, MoveNodesCommand
from nnstudio.ui.editor import style
from nnstudio.ui.editor.edges import LinkPreviewItem
from nnstudio.ui.editor.items import NodeItem, PortItem, PortState

if TYPE_CHECKING:
    from nnstudio.ui.editor.scene import EditorScene

HIGHLIGHT_BATCH = 64  # ports judged per event-loop turn while a link is dragged
MOVE_THRESHOLD = 3.0  # scene units the mouse must travel before a press becomes a move


def locked_message() -> str:
    return "Training is running: the network is locked until it stops."


def snap(point: QPointF, grid: float = style.GRID) -> QPointF:
    return QPointF(round(point.x() / grid) * grid, round(point.y() / grid) * grid)


class Interaction:
    def __init__(self, scene: EditorScene) -> None:
        self.scene = scene

    def mouse_move(self, pos: QPointF) -> None:
        """Feedback only; the document is untouched until release."""

    def mouse_release(self, pos: QPointF) -> None:
        """Finish: push at most one command."""

    def cancel(self) -> None:
        """Undo any feedback (Escape, or the scene going away)."""


class LinkInteraction(Interaction):
    """Drag from an output port to an input port (or backwards, from an input to an output)."""

    def __init__(self, scene: EditorScene, port: PortItem) -> None:
        super().__init__(scene)
        self.port = port
        document = scene.document
        if not document.analysis_is_current():
            document.reanalyze_now()  # judge shapes against the graph as it is now
        self.preview = LinkPreviewItem(port.scenePos(), from_output=not port.is_input)
        scene.addItem(self.preview)
        self._verdicts: dict[PortItem, Verdict] = {}
        self._hover: PortItem | None = None
        self._pending = self._visible_candidates()
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._judge_batch)
        self._timer.start()

    def _visible_candidates(self) -> list[PortItem]:
        """Opposite-direction ports on screen, nearest first; others are judged when hovered."""
        area = None
        for view in self.scene.views():
            rect = view.mapToScene(view.viewport().rect()).boundingRect()
            area = rect if area is None else area.united(rect)
        items = self.scene.items(area) if area is not None else self.scene.items()
        origin = self.port.scenePos()
        ports = [i for i in items if isinstance(i, PortItem) and i.is_input != self.port.is_input]
        return sorted(ports, key=lambda p: (p.scenePos() - origin).manhattanLength(), reverse=True)

    def _judge_batch(self) -> None:
        for _ in range(min(HIGHLIGHT_BATCH, len(self._pending))):
            self.verdict(self._pending.pop())
        if not self._pending:
            self._timer.stop()

    def _ends(self, other: PortItem) -> tuple[Endpoint, Endpoint]:
        return (other.endpoint, self.port.endpoint) if self.port.is_input else (self.port.endpoint, other.endpoint)

    def verdict(self, other: PortItem) -> Verdict:
        """can_connect() for the link this drag would make with `other`; highlights the port."""
        if other in self._verdicts:
            return self._verdicts[other]
        if other.is_input == self.port.is_input:
            kind = "inputs" if other.is_input else "outputs"
            result = Verdict(False, f"{_name(self.port)} and {_name(other)} are both {kind}; "
                                    "a link goes from an output to an input")
        else:
            document = self.scene.document
            source, target = self._ends(other)
            result = can_connect(document.graph, document.registry, source, target, document.analysis.shapes)
        self._verdicts[other] = result
        other.set_state(PortState.COMPATIBLE if result.ok else PortState.REFUSED)
        return result

    def _target_at(self, pos: QPointF) -> PortItem | None:
        """The port under the cursor; over a node body, its first port that would accept the link."""
        port = self.scene.port_at(pos)
        if port is not None:
            return port
        node = self.scene.node_at(pos)
        if node is None or node is self.port.node_item:
            return None
        ports = list((node.inputs if not self.port.is_input else node.outputs).values())
        return next((p for p in ports if self.verdict(p).ok), ports[0] if ports else None)

    def mouse_move(self, pos: QPointF) -> None:
        target = self._target_at(pos)
        self.preview.move_to(target.scenePos() if target is not None else pos)
        if target is self._hover:
            return
        if self._hover is not None:
            verdict = self._verdicts.get(self._hover)
            self._hover.set_state(PortState.COMPATIBLE if verdict and verdict.ok else PortState.REFUSED)
        self._hover = target
        if target is None or target is self.port:
            self.preview.set_ok(True)
            return
        verdict = self.verdict(target)
        self.preview.set_ok(verdict.ok)
        if verdict.ok:
            target.set_state(PortState.TARGET)
            source, end = self._ends(target)
            self.scene.status_message.emit(f"Release to connect {_endpoint_text(self.scene, source)} → "
                                           f"{_endpoint_text(self.scene, end)}")
        else:
            self.scene.status_message.emit(f"Cannot connect: {verdict.reason}")

    def mouse_release(self, pos: QPointF) -> None:
        target = self._target_at(pos)
        verdict = self.verdict(target) if target is not None and target is not self.port else None
        self.cancel()
        if target is None or target is self.port:
            wanted = "an output" if self.port.is_input else "an input"
            self.scene.status_message.emit(f"No link made: release it on {wanted} port.")
            return
        if not verdict:
            self.scene.status_message.emit(f"Cannot connect: {verdict.reason}")
            return
        document = self.scene.document
        source, end = self._ends(target)
        document.push(AddEdgeCommand(document, source, end))
        self.scene.status_message.emit(f"Connected {_endpoint_text(self.scene, source)} → "
                                       f"{_endpoint_text(self.scene, end)}")

    def cancel(self) -> None:
        self._timer.stop()
        for port in self._verdicts:
            port.set_state(PortState.NORMAL)
        self._verdicts.clear()
        if self.preview.scene() is not None:
            self.scene.removeItem(self.preview)


class MoveInteraction(Interaction):
    """Drag the selected nodes; positions snap to the grid and one MoveNodesCommand is pushed."""

    def __init__(self, scene: EditorScene, pressed: NodeItem, press: QPointF) -> None:
        super().__init__(scene)
        items = scene.selected_node_items()
        if pressed not in items:
            items.append(pressed)  # a Ctrl-press on an unselected node still drags it
        self.starts = {item: item.pos() for item in items}
        self.press = press
        self.moved = False
        self._warned = False

    def mouse_move(self, pos: QPointF) -> None:
        delta = pos - self.press
        if not self.moved and delta.manhattanLength() < MOVE_THRESHOLD:
            return
        if self.scene.read_only:
            if not self._warned:
                self._warned = True
                self.scene.status_message.emit(locked_message())
            return
        self.moved = True
        for item, start in self.starts.items():
            item.move_to(snap(start + delta))

    def mouse_release(self, pos: QPointF) -> None:
        if not self.moved:
            return
        graph = self.scene.document.graph
        moves = {}
        for item in self.starts:
            new = (item.x(), item.y())
            old = graph.nodes[item.node_id].position
            if new != tuple(old):
                moves[item.node_id] = (old, new)
        if moves:
            document = self.scene.document
            document.push(MoveNodesCommand(document, moves))
        self.scene.grow_scene_rect()

    def cancel(self) -> None:
        if self.moved:
            for item, start in self.starts.items():
                item.move_to(start)
        self.moved = False


def _name(port: PortItem) -> str:
    return f"{port.node_item.title_text}.{port.name}"


def _endpoint_text(scene: EditorScene, end: Endpoint) -> str:
    return f"{scene.document.graph.nodes[end.node].name}.{end.port}"
