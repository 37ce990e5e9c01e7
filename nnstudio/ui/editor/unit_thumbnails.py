"""Unit thumbnails on the canvas: under each small hidden layer of a network on 2-D points, one picture per unit
of its response over the input plane, updated live as the run trains (TF Playground's neurons).

The pictures are made on the training thread with the decision-boundary grid (ui/training/units.py) and arrive
with it; here they only become pixmaps on a child item of each node item (below its health badge), so they move
with the node and vanish with it. One set per view (`UnitThumbnails.of(view)`); the health overlay's View-menu
toggle shows and hides them with the badges.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.ui.editor import style

TILE = 20.0  # scene units per unit picture
GAP = 3.0
PER_ROW = 6  # tiles per row: the node is 140 wide
BELOW_BADGE = 28.0  # the health badge (20 high) sits 4 below the node; the strip goes under it


def pixmaps(units: np.ndarray) -> list[QPixmap]:
    """RGBA uint8 [units, h, w, 4] to one pixmap per unit."""
    found = []
    for unit in units:
        height, width = unit.shape[:2]
        data = unit.tobytes()  # held until the copy: QImage only points at the buffer it is given
        image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        found.append(QPixmap.fromImage(image.copy()))
    return found


class UnitStrip(QGraphicsItem):
    """The unit pictures of one node, in rows of PER_ROW under it."""

    def __init__(self, node_item: QGraphicsItem, name: str) -> None:
        super().__init__(node_item)
        self.name = name
        self.tiles: list[QPixmap] = []
        self._rect = QRectF()
        self.setZValue(2)
        self.setPos(0, node_item.boundingRect().bottom() + BELOW_BADGE)

    def set_units(self, units: np.ndarray) -> None:
        self.tiles = pixmaps(units)
        rows = -(-len(self.tiles) // PER_ROW)
        columns = min(PER_ROW, len(self.tiles))
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, columns * (TILE + GAP) - GAP, rows * (TILE + GAP) - GAP)
        self.setPos(0, self.parentItem().boundingRect().bottom() + BELOW_BADGE)
        self.setToolTip(f"{self.name}: each of its {len(self.tiles)} units over the input plane (x left to right, "
                        f"y bottom to top), orange where it is positive, blue where negative, white at zero, "
                        f"on one scale for the layer")
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.setPen(QPen(QColor(style.NODE_BORDER), 0.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)  # the painter comes with the brush of the item drawn before
        for index, tile in enumerate(self.tiles):
            row, column = divmod(index, PER_ROW)
            target = QRectF(column * (TILE + GAP), row * (TILE + GAP), TILE, TILE)
            painter.drawPixmap(target, tile, QRectF(tile.rect()))
            painter.drawRect(target)


class UnitThumbnails(QObject):
    """The strips of one view's scene, by node id."""

    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        self.strips: dict[str, UnitStrip] = {}
        self.visible = True

    @classmethod
    def of(cls, view) -> UnitThumbnails:
        found = view.findChild(UnitThumbnails)
        return found if found is not None else cls(view)

    def show(self, units: dict[str, np.ndarray] | None) -> None:
        """The latest pictures; nodes that no longer have any lose their strip."""
        units = units or {}
        scene = self.view.scene()
        for node_id in [n for n in self.strips if n not in units or n not in scene.nodes]:
            self._drop(node_id)
        for node_id, maps in units.items():
            item = scene.nodes.get(node_id)
            if item is None:
                continue
            strip = self.strips.get(node_id)
            if strip is None or strip.parentItem() is not item:
                strip = self.strips[node_id] = UnitStrip(item, item.title_text)
            strip.set_units(maps)
            strip.setVisible(self.visible)

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for strip in self.strips.values():
            strip.setVisible(visible)

    def clear(self) -> None:
        for node_id in list(self.strips):
            self._drop(node_id)

    def _drop(self, node_id: str) -> None:
        strip = self.strips.pop(node_id)
        if strip.scene() is not None:
            strip.scene().removeItem(strip)

