"""Marks for what happened in a run: on the canvas, around the node where it went non-finite; on the plots,
a line at each step where the run was changed while it trained (training/interventions.py).

The node mark is a child of the node's item, so it moves with the node and disappears with it; it is not part
of the document, and the next run (or a click on "Clear") removes it. Change markers are vertical dashed lines
on every plot whose x axis is the step, each with a tooltip naming the change ("step 25 (epoch 3): learning
rate 0.1 → 0.01"); they follow the run the plots show.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

MARK_COLOUR = QColor("#d62728")
CHANGE_COLOURS = {"lr": "#6a3d9a", "freeze": "#1f78b4", "unfreeze": "#33a02c"}  # purple, blue, green


class NodeMark(QGraphicsPathItem):
    def __init__(self, node_item: QGraphicsItem, label: str, tooltip: str) -> None:
        super().__init__(node_item)
        rect: QRectF = node_item.boundingRect().adjusted(-7, -7, 7, 7)
        path = QPainterPath()
        path.addRoundedRect(rect, 10, 10)
        self.setPath(path)
        pen = QPen(MARK_COLOUR, 3)
        pen.setDashPattern([4, 2])
        self.setPen(pen)
        self.setBrush(QBrush(QColor(214, 39, 40, 28)))
        self.setZValue(-1)
        self.setToolTip(tooltip)
        self.text = QGraphicsSimpleTextItem(label, self)
        font = QFont()
        font.setBold(True)
        self.text.setFont(font)
        self.text.setBrush(MARK_COLOUR)
        self.text.setPos(rect.left(), rect.top() - self.text.boundingRect().height() - 2)


class NodeMarker:
    """Marks at most one node of an EditorView's scene."""

    def __init__(self) -> None:
        self.mark: NodeMark | None = None
        self.node_id: str | None = None

    def show(self, view, node_id: str, label: str, tooltip: str) -> bool:
        """Mark `node_id` in `view`'s scene and bring it into view; False when the node is not on the canvas."""
        self.clear()
        item = view.scene().nodes.get(node_id)
        if item is None:
            return False
        self.mark = NodeMark(item, label, tooltip)
        self.node_id = node_id
        view.center_on_node(node_id)
        return True

    def clear(self) -> None:
        if self.mark is not None:
            try:
                scene = self.mark.scene()
                if scene is not None:
                    scene.removeItem(self.mark)
            except RuntimeError:  # the scene (and the mark with it) is already gone
                pass
        self.mark = None
        self.node_id = None


def change_label(event) -> str:
    """The few characters a marker line carries: "lr 0.01", "❄ dense1", "☀ dense1"."""
    if event.kind == "lr":
        return f"lr {event.new:.3g}"
    return f"{'❄' if event.kind == 'freeze' else '☀'} {event.node or event.node_id}"


class ChangeMarkers:
    """A dashed line at each live change's step on every step-axis plot of a LivePlots."""

    def __init__(self, plots) -> None:
        self.plots = plots
        self.events: list = []  # training.interventions.ChangeEvent, in the order they were added
        self.lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []

    def show(self, events: Iterable) -> None:
        """Replace the markers with these events' (the plots show another run)."""
        self.clear()
        for event in events:
            self.add(event)

    def add(self, event) -> None:
        from nnstudio.ui.plots.base import CurvePlot

        self.events.append(event)
        pen = pg.mkPen(CHANGE_COLOURS.get(event.kind, "#555555"), width=1, style=Qt.PenStyle.DashLine)
        for plot in self.plots.findChildren(CurvePlot):
            if plot.x_label != "step":
                continue
            line = pg.InfiniteLine(pos=event.step, angle=90, movable=False, pen=pen, label=change_label(event),
                                   labelOpts={"position": 0.92, "color": CHANGE_COLOURS.get(event.kind)})
            line.setToolTip(event.text())
            line.setZValue(5)
            plot.item.addItem(line, ignoreBounds=True)  # a marker never widens the axes
            self.lines.append((plot.item, line))

    def clear(self) -> None:
        for item, line in self.lines:
            with contextlib.suppress(RuntimeError):  # the plot is already gone
                item.removeItem(line)
        self.lines.clear()
        self.events.clear()

    def tooltips(self) -> list[str]:
        """One per marked change (what hovering any of its lines shows)."""
        return [event.text() for event in self.events]
