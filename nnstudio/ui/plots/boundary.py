"""The live decision boundary for 2-D datasets: class regions as an image, the data points on top.

The grid of predictions is computed on the training thread (see ui/training/boundary.py) and arrives
here as a small `BoundaryGrid`, already coloured there (`with_image`), so the GUI thread only uploads it. Each region
takes its class colour, faded towards white where the model is unsure, as TF Playground does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import PALETTE, configure_plot, export_png
from nnstudio.ui.plots.layout import make_readable

MAX_POINTS = 2000  # points drawn on top; more only clutter the picture


@dataclass
class BoundaryGrid:
    """Predicted class and its probability on a regular grid; rows follow y, columns follow x."""

    classes: np.ndarray  # int [rows, cols]
    confidence: np.ndarray  # float in [0, 1], [rows, cols]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    step: int = 0
    num_classes: int = 2
    image: np.ndarray | None = None  # region_image(self), when the training thread has made it already
    # each small hidden layer's units over the same plane, as RGBA thumbnails [units, s, s, 4] by node id
    # (ui/training/units.py); the canvas draws them under their nodes, as TF Playground draws its neurons
    units: dict[str, np.ndarray] | None = None


def with_image(grid: BoundaryGrid) -> BoundaryGrid:
    """The grid with its RGBA picture attached, so the thread that computed it also colours it."""
    grid.image = region_image(grid)
    return grid


def class_colours(count: int) -> np.ndarray:
    """RGB (0-255) for each class, from the shared palette."""
    return np.array([QColor(PALETTE[i % len(PALETTE)]).getRgb()[:3] for i in range(max(count, 1))],
                    dtype=np.float64)


def region_image(grid: BoundaryGrid) -> np.ndarray:
    """RGBA uint8 [cols, rows, 4] (x-major, as ImageItem expects): class colour mixed with white by
    how far the confidence is above chance."""
    colours = class_colours(grid.num_classes)
    chance = 1.0 / max(grid.num_classes, 2)
    confidence = np.nan_to_num(grid.confidence, nan=chance)  # a diverged model's cells read as unsure
    strength = np.clip((confidence - chance) / (1.0 - chance), 0.0, 1.0)[..., None]
    strength = 0.15 + 0.6 * strength  # never fully white, never fully saturated: points stay readable
    rgb = 255.0 * (1.0 - strength) + colours[np.clip(grid.classes, 0, len(colours) - 1)] * strength
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255.0)], axis=-1)
    return np.ascontiguousarray(rgba.astype(np.uint8).transpose(1, 0, 2))


class RegionImage(pg.ImageItem):
    """An ImageItem that keeps its picture as opaque RGB32, the format Qt's raster engine scales fastest.

    pyqtgraph wraps an RGBA array as an RGBA8888 QImage, which Qt converts on every paint: with the regions
    scaled up to the plot's size that cost ~3x the RGB32 draw on every repaint of the plot. The regions are
    opaque, so converting once per new grid loses nothing."""

    def render(self) -> None:  # pyqtgraph's name
        super().render()
        if self.qimage is not None and self.qimage.format() != QImage.Format.Format_RGB32:
            self.qimage = self.qimage.convertToFormat(QImage.Format.Format_RGB32)


class BoundaryView(QWidget):
    """Regions coloured by predicted class, redrawn whenever a new grid arrives, with the data on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = pg.PlotWidget()
        self.item: pg.PlotItem = self.widget.getPlotItem()
        configure_plot(self.item, "Decision boundary", "x₁", "x₂")
        self.item.showGrid(x=False, y=False)
        self.item.setClipToView(False)
        # Equal units on both axes (a circle stays round), and the view fitted to the grid exactly: pyqtgraph's
        # auto range padded the regions and the locked aspect then left most of the plot empty.
        self.item.setAspectLocked(True)
        self.item.enableAutoRange(False)
        self.item.getViewBox().setDefaultPadding(0.0)
        self.image = RegionImage(axisOrder="col-major")
        self.item.addItem(self.image)
        self.points: list[pg.ScatterPlotItem] = []  # one item per class: one brush each, so one symbol each
        self.grid: BoundaryGrid | None = None
        self.updates = 0
        self._fitted: QRectF | None = None
        self.caption = QLabel()  # a label outside the plot: retitling a PlotItem re-lays out the whole plot
        self.caption.setStyleSheet("color: #555;")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.widget, 1)
        make_readable(self)

    def set_points(self, x: np.ndarray, labels: np.ndarray, num_classes: int) -> None:
        """The (training) samples to draw on top: x [N, 2], integer labels [N]."""
        if len(x) > MAX_POINTS:
            keep = np.random.default_rng(0).choice(len(x), MAX_POINTS, replace=False)
            x, labels = x[keep], labels[keep]
        self._clear_points()
        colours = class_colours(num_classes)
        pen = pg.mkPen(255, 255, 255, 200, width=0.8)
        for label in range(int(labels.max()) + 1 if len(labels) else 0):  # not np.unique: it imports numpy.ma
            chosen = labels == label
            if not chosen.any():
                continue
            item = pg.ScatterPlotItem(x=x[chosen, 0], y=x[chosen, 1], size=5, pen=pen,
                                      brush=pg.mkBrush(*colours[int(label) % len(colours)]))
            item.setZValue(10)
            # The samples never move, but the regions under them change ~12 times a second: keep their rendering
            # as a pixmap (redrawn only when the view's scale changes) instead of redrawing 2000 symbols each time.
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.item.addItem(item)
            self.points.append(item)

    def _clear_points(self) -> None:
        for item in self.points:
            self.item.removeItem(item)
        self.points = []

    def clear(self) -> None:
        self.grid = None
        self._fitted = None
        self.image.clear()
        self._clear_points()
        self.caption.setText("")

    def set_grid(self, grid: BoundaryGrid) -> None:
        self.grid = grid
        self.updates += 1
        picture = grid.image if grid.image is not None else region_image(grid)
        self.image.setImage(picture, autoLevels=False, levels=(0, 255))
        (x0, x1), (y0, y1) = grid.x_range, grid.y_range
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.image.setRect(rect)
        if self._fitted != rect:
            self._fitted = rect
            self.item.setRange(rect=rect, padding=0.0)
        self.caption.setText(f"Class regions predicted by the model at step {grid.step}; dots are training samples.")

    def has_data(self) -> bool:
        return self.grid is not None

    def export_png(self, path: Path, width: int = 1000) -> Path:
        return export_png(self.item, path, width)
