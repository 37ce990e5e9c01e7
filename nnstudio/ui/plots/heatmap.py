"""A heatmap plot: one ImageItem placed in data coordinates, a colour bar, and optional row labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nnstudio.ui.plots.base import configure_plot, export_png
from nnstudio.ui.plots.layout import make_readable

HIGHLIGHT_PEN = pg.mkPen("#d62728", width=2.5)


class Heatmap(QWidget):
    """`set_image(values[x, y], x_range, y_range)`; NaN cells are drawn as the lowest colour."""

    def __init__(self, title: str, x_label: str, y_label: str, colour_map: str = "viridis",
                 bar_label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = pg.PlotWidget()
        self.item: pg.PlotItem = self.widget.getPlotItem()
        configure_plot(self.item, title, x_label, y_label)
        self.item.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get(colour_map))
        self.item.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get(colour_map), label=bar_label, interactive=False,
                                   width=12)
        self.bar.setImageItem(self.image, insert_in=self.item)
        self._outline = pg.PlotCurveItem(pen=HIGHLIGHT_PEN)
        self._outline.setZValue(20)
        self.item.addItem(self._outline)
        self.values: np.ndarray = np.zeros((0, 0))
        self._y_range = (0.0, 1.0)
        self._x_range = (0.0, 1.0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        make_readable(self)

    def set_image(self, values: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        """Show `values` (shape [columns along x, rows along y]) stretched over the given data ranges."""
        self.values = values
        if values.size == 0:
            self.image.clear()
            self._outline.setData([], [])
            return
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        shown = np.where(np.isfinite(values), values, lo)
        x0, x1 = x_range
        if x1 <= x0:
            x1 = x0 + 1.0
        y0, y1 = y_range
        self._x_range, self._y_range = (x0, x1), (y0, y1)
        self.image.setImage(shown.astype(np.float32), autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.bar.setLevels((lo, hi))

    def set_row_labels(self, labels: list[str]) -> None:
        """Label rows 0..n-1 (each one unit tall) on the left axis."""
        self.item.getAxis("left").setTicks([[(i + 0.5, text) for i, text in enumerate(labels)], []])

    def outline_row(self, row: int | None) -> None:
        """Draw a box around one row (a highlighted layer), or none."""
        if row is None or self.values.size == 0:
            self._outline.setData([], [])
            return
        x0, x1 = self._x_range
        self._outline.setData([x0, x1, x1, x0, x0], [row, row, row + 1, row + 1, row])

    def has_data(self) -> bool:
        return self.values.size > 0

    def export_png(self, path: Path, width: int = 1200) -> Path:
        return export_png(self.item, path, width)
