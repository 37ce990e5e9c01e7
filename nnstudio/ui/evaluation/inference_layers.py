"""The Inference panel's pictures: the answer as bars (or values), and every layer's output for the sample.

Feature maps are one picture per layer, a grid of tiles on one colour scale (training/layer_outputs.tile_grid),
so thirty layers cost thirty labels, not thirty plots; a dense layer's units are bars, and attention weights a
heatmap of heads × positions above each head's queries × keys tiles. Nothing here computes: it draws a
SampleOutputs handed over from the worker thread.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from nnstudio.training.layer_outputs import MAX_BARS, MAX_TILES, AttentionOutput, LayerOutput, tile_grid
from nnstudio.ui.plots.base import configure_plot
from nnstudio.ui.plots.heatmap import Heatmap

TOP_K = 10  # classes shown as bars, most probable first
TILE_PX = 56  # a feature-map tile's longer side, when a layer has several
SINGLE_PX = 224  # ... and when it has one map (a sequence, a 2-D output)
HEAD_PX = 112  # an attention head's queries × keys tile
BAR_HEIGHT = 150
FEW_UNITS = 20  # up to this many bars or positions, every one is labelled
GAP = (255, 255, 255)
_LOOKUP = pg.colormap.get("viridis").getLookupTable(nPts=256, mode="byte")[:, :3]


def grid_pixmap(grid: np.ndarray) -> QPixmap:
    """A tile grid (values in 0..1, NaN gaps) in viridis, the gaps white."""
    index = np.clip(np.nan_to_num(grid, nan=0.0) * 255, 0, 255).astype(np.uint8)
    rgb = np.ascontiguousarray(_LOOKUP[index])
    rgb[np.isnan(grid)] = GAP
    h, w = grid.shape
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def tile_scale(maps: np.ndarray, target: int | None = None) -> int:
    """How many screen pixels per map pixel: small maps grow to a readable tile, large ones stay."""
    target = target or (SINGLE_PX if len(maps) == 1 else TILE_PX)
    return int(np.clip(target // max(maps.shape[1:]), 1, 32))


def bar_plot(title: str, values: np.ndarray, x_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    item = plot.getPlotItem()
    configure_plot(item, title, x_label, "value")
    brushes = [pg.mkBrush("#1f77b4" if v >= 0 else "#d62728") for v in values]
    item.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.8, brushes=brushes))
    item.setMouseEnabled(x=True, y=False)
    if len(values) <= FEW_UNITS:  # whole units only: no '0.5' between two bars
        item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(len(values))]])
    plot.setFixedHeight(BAR_HEIGHT)
    return plot


class AnswerView:
    """A classifier's top classes as horizontal bars, or a non-classifier's output values as text.

    Two widgets the page places apart: the one-line answer beside the input, the bars below it."""

    def __init__(self) -> None:
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.item = self.plot.getPlotItem()
        configure_plot(self.item, "Class probabilities", "", "")  # the title says what the axis holds
        self.item.setXRange(0, 1, padding=0.02)
        self.item.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumHeight(120)
        self.bars: pg.BarGraphItem | None = None
        self.shown: list[tuple[str, float]] = []

    def show_prediction(self, prediction) -> None:
        if not prediction.classes:
            values = prediction.output[:8]
            more = f" … ({len(prediction.output)} values)" if len(prediction.output) > 8 else ""
            shown = ", ".join(f"{v:.4g}" for v in values)
            self.text.setText(f"Output: <b style='font-size:14pt'>{html.escape(shown)}</b>{more}")
            self.plot.setVisible(False)
            self.shown = []
            return
        self.shown = prediction.classes[:TOP_K]
        name, p = self.shown[0]
        self.text.setText(f"Predicted: <b style='font-size:14pt'>{html.escape(name)}</b> ({p:.1%})")
        if self.bars is not None:
            self.item.removeItem(self.bars)
        rows = np.arange(len(self.shown))
        probs = np.array([p for _, p in self.shown])
        brushes = [pg.mkBrush("#2ca02c" if i == 0 else "#1f77b4") for i in rows]
        self.bars = pg.BarGraphItem(x0=0, y=rows, height=0.7, width=probs, brushes=brushes)
        self.item.addItem(self.bars)
        self.item.getAxis("left").setTicks([[(int(i), f"{n[:16]} {p:.0%}") for i, (n, p) in enumerate(self.shown)]])
        self.item.invertY(True)
        self.item.setYRange(-0.5, len(self.shown) - 0.5, padding=0.02)
        self.plot.setFixedHeight(max(110, 44 + 16 * len(self.shown)))
        self.plot.setVisible(True)


class LayerOutputsView(QWidget):
    """One section per layer (its name, type and shape, then its picture), then the attention layers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = QVBoxLayout(self)
        self.column.addStretch(1)  # sections go above it, at their own height
        self.sections: list[QWidget] = []
        self.grids: dict[str, QLabel] = {}  # node name -> its feature-map picture
        self.bar_plots: dict[str, pg.PlotWidget] = {}
        self.heatmaps: dict[str, Heatmap] = {}  # attention label -> heads × positions

    def clear(self) -> None:
        for section in self.sections:
            self.column.removeWidget(section)
            section.setParent(None)
            section.deleteLater()
        self.sections.clear()
        self.grids.clear()
        self.bar_plots.clear()
        self.heatmaps.clear()

    def show_outputs(self, layers: list[LayerOutput], attention: list[AttentionOutput]) -> None:
        self.clear()
        for output in attention:
            self._add(self._attention_section(output))
        for layer in layers:
            self._add(self._layer_section(layer))

    def _add(self, section: QWidget) -> None:
        self.sections.append(section)
        self.column.insertWidget(self.column.count() - 1, section)

    def _layer_section(self, layer: LayerOutput) -> QWidget:
        stats = f"min {layer.values.min():.3g}, max {layer.values.max():.3g}" if layer.values.size else "empty"
        section, body = _section(f"<b>{html.escape(layer.name)}</b> ({html.escape(layer.type)}) "
                                 f"{list(layer.shape)} · {stats}")
        if layer.view == "value":
            body.addWidget(QLabel(f"value {float(layer.values.reshape(-1)[0]):.4g}"))
        elif layer.view == "bars":
            values = layer.values[:MAX_BARS]
            plot = bar_plot("", values, "unit")
            self.bar_plots[layer.name] = plot
            body.addWidget(plot)
            if layer.values.size > MAX_BARS:
                body.addWidget(QLabel(f"+{layer.values.size - MAX_BARS} more units"))
        else:
            maps = layer.maps()
            what = "one map" if len(maps) == 1 else f"{len(maps)} feature maps"
            self._add_grid(body, layer.name, maps, what)
        return section

    def _attention_section(self, output: AttentionOutput) -> QWidget:
        section, body = _section(f"<b>{html.escape(output.name)}</b> attention: {output.heads} heads × "
                                 f"{output.positions} positions")
        heatmap = Heatmap(f"Attention received per position ({output.name})", "position", "head",
                          bar_label="weight")
        heatmap.set_image(output.by_position().T, (0.0, float(output.positions)), (0.0, float(output.heads)))
        heatmap.set_row_labels([f"head {h + 1}" for h in range(output.heads)])
        heatmap.item.invertY(True)
        if output.positions <= FEW_UNITS:
            heatmap.item.getAxis("bottom").setTicks([[(p + 0.5, str(p)) for p in range(output.positions)]])
        heatmap.setMinimumHeight(max(200, 60 + 28 * output.heads))
        self.heatmaps[output.name] = heatmap
        body.addWidget(heatmap)
        body.addWidget(QLabel("Each head: queries (rows) × keys (columns)"))
        self._add_grid(body, f"{output.name} heads", output.weights, "heads", HEAD_PX)
        return section

    def _add_grid(self, body: QVBoxLayout, key: str, maps: np.ndarray, what: str, px: int | None = None) -> None:
        grid, more = tile_grid(maps, MAX_TILES, tile_scale(maps, px))
        picture = QLabel()
        picture.setPixmap(grid_pixmap(grid))
        picture.setToolTip(f"{what}, on one colour scale (dark: low, yellow: high)")
        self.grids[key] = picture
        body.addWidget(picture)
        if more:
            body.addWidget(QLabel(f"+{more} more {what.split()[-1]} not shown (the first {MAX_TILES} are)"))


def _section(title: str) -> tuple[QWidget, QVBoxLayout]:
    frame = QFrame()
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    layout = QVBoxLayout(frame)
    header = QLabel(title)
    header.setTextFormat(Qt.TextFormat.RichText)
    layout.addWidget(header)
    return frame, layout
