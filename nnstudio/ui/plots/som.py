"""The self-organising map's views: the U-matrix, the hit map coloured by majority class, and the map's errors.

The som trainer logs a "som" record when the map starts and every `map_every` epochs (fields: node_id,
height, width, topology, umatrix, hits, majority, purity, radius, rate; the lists are h rows of w values), and
the "start" record's "map" holds each unit's position, (y, x), which places the units of a hexagonal grid.
Each unit is drawn as a cell in data coordinates (a square, or a pointy-top hexagon whose neighbours are one
unit apart), so both layouts tile. U-matrix: the mean distance of a unit's prototype to its neighbours', dark
where prototypes are close (a cluster), light where they are far apart (a border between clusters). Hit map:
a cell's colour is the class its samples mostly belong to, its size grows with how many samples it wins, and
pale cells are mixed (low purity).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import PALETTE, CurvePlot, configure_plot, export_png, set_title
from nnstudio.ui.plots.curves import draw_runs
from nnstudio.ui.plots.layout import make_readable
from nnstudio.ui.plots.series import RunSeries

QE_CURVES = [("epoch/train_quantisation_error", "train", "#1f77b4", 2.0),
             ("epoch/val_quantisation_error", "validation", "#ff7f0e", 2.0)]
TE_CURVES = [("epoch/train_topographic_error", "train", "#1f77b4", 2.0),
             ("epoch/val_topographic_error", "validation", "#ff7f0e", 2.0)]
EMPTY_BRUSH = pg.mkBrush(238, 238, 238)
CELL_PEN = pg.mkPen(255, 255, 255, 200, width=0.02)


def hexagon() -> QPainterPath:
    """A pointy-top hexagon 1 wide (flat side to flat side), the cell of a hexagonal grid with unit spacing."""
    path = QPainterPath()
    radius = 1.0 / math.sqrt(3.0)
    for k in range(6):
        angle = math.radians(90 + 60 * k)
        point = (radius * math.cos(angle), radius * math.sin(angle))
        path.moveTo(*point) if k == 0 else path.lineTo(*point)
    path.closeSubpath()
    return path


HEXAGON = hexagon()


def unit_positions(record: dict, start_map: dict | None) -> np.ndarray:
    """[h·w, 2] (x, y) of each unit, units row by row: the start record's positions when they fit, else the
    rectangular grid."""
    height, width = int(record.get("height", 0)), int(record.get("width", 0))
    positions = (start_map or {}).get("positions")
    if isinstance(positions, list) and len(positions) == height * width:
        yx = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
        return yx[:, ::-1].copy()
    rows, cols = np.divmod(np.arange(height * width), max(width, 1))
    return np.stack([cols, rows], axis=1).astype(np.float64)


def flat(rows) -> list:
    return [value for row in (rows or []) for value in row]


class MapPlot(QWidget):
    """One map: a cell per unit, brushes and sizes set per redraw (the ScatterPlotItem is made once)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = pg.PlotWidget()
        self.item: pg.PlotItem = self.widget.getPlotItem()
        configure_plot(self.item, title, "", "")
        self.item.hideAxis("left")
        self.item.hideAxis("bottom")
        self.item.setAspectLocked(True)
        self.item.invertY(True)
        self.cells = pg.ScatterPlotItem(pxMode=False, pen=CELL_PEN)
        self.item.addItem(self.cells)
        # The key sits in a label under the map, not in a legend over it: on a map every corner is data.
        self.key = QLabel()
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setWordWrap(True)
        self.key.setStyleSheet("color: #444; font-size: 8pt; padding: 0 4px 2px 4px;")
        self.key_entries: list[str] = []
        self.count = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.widget, 1)
        layout.addWidget(self.key)
        make_readable(self)

    def set_cells(self, xy: np.ndarray, brushes: list, sizes: np.ndarray, hexagonal: bool) -> None:
        self.cells.setData(x=xy[:, 0], y=xy[:, 1], brush=brushes, size=sizes,
                           symbol=HEXAGON if hexagonal else "s")
        self.count = len(xy)
        self.item.enableAutoRange()  # refits whenever the plot is resized, so the whole map stays in view

    def set_key(self, entries: list[tuple[str, str]], note: str = "") -> None:
        """The key under the map: a coloured square and a label per entry, then a note."""
        parts = [f"<span style='color:{pen}; font-size:11pt'>■</span>&nbsp;{html.escape(label)}"
                 for label, pen in entries]
        text = " &nbsp; ".join(parts) + (f" &nbsp;·&nbsp; {html.escape(note)}" if note else "")
        self.key_entries = [label for label, _ in entries]
        if text != self.key.text():
            self.key.setText(text)

    def key_labels(self) -> list[str]:
        return list(self.key_entries)

    def has_data(self) -> bool:
        return self.count > 0

    def export_png(self, path: Path, width: int = 1200) -> Path:
        return export_png(self.item, path, width)


class UMatrixPlot(MapPlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("U-matrix", parent)
        self.colours = pg.colormap.get("viridis")

    def show_map(self, record: dict, start_map: dict | None) -> None:
        values = np.asarray(flat(record.get("umatrix")), dtype=np.float64)
        xy = unit_positions(record, start_map)
        if len(values) != len(xy):
            return
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        brushes = [pg.mkBrush(self.colours.map(float(v), mode="qcolor")) if math.isfinite(v) else EMPTY_BRUSH
                   for v in scaled]
        self.set_cells(xy, brushes, np.full(len(xy), 1.0), record.get("topology") == "hexagonal")
        self.set_key([(f"close {lo:.3g}", self._hex(0.0)), (f"far {hi:.3g}", self._hex(1.0))],
                     "dark: clusters, light: borders")
        set_title(self.item, f"U-matrix · epoch {record.get('epoch')}")

    def _hex(self, value: float) -> str:
        return self.colours.map(value, mode="qcolor").name()


class HitMapPlot(MapPlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Hit map", parent)

    def show_map(self, record: dict, start_map: dict | None) -> None:
        hits = np.asarray(flat(record.get("hits")), dtype=np.float64)
        xy = unit_positions(record, start_map)
        if len(hits) != len(xy):
            return
        majority = flat(record.get("majority")) or [None] * len(hits)
        purity = flat(record.get("purity")) or [None] * len(hits)
        top = float(hits.max()) if len(hits) and hits.max() > 0 else 1.0
        sizes = np.where(hits > 0, 0.3 + 0.7 * np.sqrt(hits / top), 0.95)
        brushes = [self._brush(h, c, p) for h, c, p in zip(hits, majority, purity)]
        self.set_cells(xy, brushes, sizes, record.get("topology") == "hexagonal")
        classes = (start_map or {}).get("classes") or []
        present = sorted({c for c in majority if isinstance(c, int)})
        self.set_key([(str(classes[c]) if c < len(classes) else f"class {c}", PALETTE[c % len(PALETTE)])
                      for c in present], f"{'pale: mixed, ' if present else ''}size: hits (≤ {top:.0f})")
        set_title(self.item, f"Hit map · epoch {record.get('epoch')}")

    @staticmethod
    def _brush(hits: float, majority, purity) -> pg.QtGui.QBrush:
        if hits <= 0:
            return EMPTY_BRUSH
        if not isinstance(majority, int):
            return pg.mkBrush("#555555")
        colour = QColor(PALETTE[majority % len(PALETTE)])
        colour.setAlpha(int(90 + 165 * (purity if isinstance(purity, (int, float)) else 1.0)))
        return pg.mkBrush(colour)


class SomTab(QSplitter):
    """U-matrix and hit map side by side, the quantisation and topographic errors stacked on the right."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.umatrix = UMatrixPlot()
        self.hits = HitMapPlot()
        self.quantisation = CurvePlot("Quantisation error", "mean distance to BMU", x_label="step")
        self.topographic = CurvePlot("Topographic error", "share of samples", x_label="step")
        curves = QSplitter(Qt.Orientation.Vertical)
        curves.setChildrenCollapsible(False)
        curves.addWidget(self.quantisation)
        curves.addWidget(self.topographic)
        for widget in (self.umatrix, self.hits, curves):
            self.addWidget(widget)
        self.setChildrenCollapsible(False)
        self.setSizes([340, 340, 420])
        self._shown: int | None = None

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        draw_runs(self.quantisation, runs, QE_CURVES)
        draw_runs(self.topographic, runs, TE_CURVES)
        primary = runs[0][0] if runs else None
        record = primary.latest.get("som") if primary else None
        if record is None or id(record) == self._shown:
            return
        self._shown = id(record)
        start_map = primary.start.get("map") if isinstance(primary.start.get("map"), dict) else None
        self.umatrix.show_map(record, start_map)
        self.hits.show_map(record, start_map)

    def plots(self) -> list[tuple[str, object]]:
        return [("U-matrix", self.umatrix), ("Hit map", self.hits), ("Quantisation error", self.quantisation),
                ("Topographic error", self.topographic)]
