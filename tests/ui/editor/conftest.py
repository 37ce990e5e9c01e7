"""Fixtures for canvas tests: a real EditorView, shown offscreen, driven with real mouse events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from nnstudio.io import dumps
from nnstudio.layers.registry import Registry
from nnstudio.model import Project
from nnstudio.ui.document import Document
from nnstudio.ui.editor import PALETTE_MIME, EditorView
from nnstudio.ui.editor.items import PortItem


class Canvas:
    """A view plus the gestures a user makes on it, in scene coordinates."""

    def __init__(self, qtbot, view: EditorView) -> None:
        self.qtbot = qtbot
        self.view = view
        self.messages: list[str] = []
        view.status_message.connect(self.messages.append)

    @property
    def document(self) -> Document:
        return self.view.document

    @property
    def scene(self):
        return self.view.scene()

    def dump(self) -> str:
        return dumps(self.document.project, self.document.registry)

    def point(self, scene_pos: QPointF) -> QPoint:
        return self.view.mapFromScene(scene_pos)

    def drop(self, layer_type: str, scene_pos: QPointF) -> None:
        """A palette drag released over the canvas, delivered as Qt would: enter, then drop."""
        data = QMimeData()
        data.setData(PALETTE_MIME, layer_type.encode("utf-8"))
        where = QPointF(self.point(scene_pos))
        # QDragEnterEvent takes a QPoint in PySide6 6.11 and a QPointF in 6.12: a QPoint works in both.
        enter = QDragEnterEvent(self.point(scene_pos), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(self.view.viewport(), enter)
        assert enter.isAccepted()
        drop = QDropEvent(where, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(self.view.viewport(), drop)

    def port(self, node_id: str, name: str, is_input: bool) -> PortItem:
        item = self.scene.nodes[node_id]
        return (item.inputs if is_input else item.outputs)[name]

    def drag(self, start: QPointF, end: QPointF, modifier=Qt.KeyboardModifier.NoModifier,
             button=Qt.MouseButton.LeftButton) -> None:
        viewport = self.view.viewport()
        a, b = self.point(start), self.point(end)
        self.qtbot.mousePress(viewport, button, modifier, a)
        self.qtbot.mouseMove(viewport, (a + b) / 2)
        self.qtbot.mouseMove(viewport, b)
        self.qtbot.mouseRelease(viewport, button, modifier, b)

    def link(self, source: str, target: str, port: str = "in", source_port: str = "out") -> None:
        """Drag from an output port to an input port."""
        self.drag(self.port(source, source_port, False).scenePos(), self.port(target, port, True).scenePos())

    def click(self, scene_pos: QPointF, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        self.qtbot.mouseClick(self.view.viewport(), Qt.MouseButton.LeftButton, modifier, self.point(scene_pos))

    def node_centre(self, node_id: str) -> QPointF:
        return self.scene.nodes[node_id].sceneBoundingRect().center()

    def node_named(self, name: str) -> str:
        node = self.document.graph.node_by_name(name)
        assert node is not None, name
        return node.id

    def settle(self) -> None:
        """Let the deferred analysis run and reach the items."""
        self.qtbot.waitUntil(self.document.analysis_is_current, timeout=2000)


@pytest.fixture
def make_canvas(qtbot, registry: Registry) -> Callable[..., Canvas]:
    def make(project: Project | None = None) -> Canvas:
        document = Document(project or Project(), registry)
        view = EditorView(document)
        qtbot.addWidget(view)
        view.resize(1100, 700)
        view.show()
        qtbot.waitExposed(view)
        view.centerOn(QPointF(450, 250))
        return Canvas(qtbot, view)

    return make


@pytest.fixture
def canvas(make_canvas) -> Canvas:
    return make_canvas()
