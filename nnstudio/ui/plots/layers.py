"""Per-layer views: gradient norms, activation statistics, weight histograms.

Curves are keyed by graph node id, so selecting a node on the canvas highlights its series and clicking
a curve selects its node. Histograms of different snapshots have different value ranges; they are
resampled onto one grid before being drawn as a heatmap over time.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import OVERLAY_STYLE, CurvePlot, colour, run_style, run_width, set_title
from nnstudio.ui.plots.heatmap import Heatmap
from nnstudio.ui.plots.layout import unsqueezable
from nnstudio.ui.plots.series import RunSeries, resample_histograms

Runs = list[tuple[RunSeries, str]]
STAT_TITLES = (("mean", "Mean activation"), ("std", "Activation spread (std)"),
               ("zero_fraction", "Dead fraction (exact zeros)"))


def draw_layer_curves(plot: CurvePlot, runs: Runs, kind: str, suffix_key: str = "") -> None:
    """One curve per layer of `kind` (e.g. grads) and statistic suffix, for each run; each run its own line."""
    keep = []
    for index, (run, suffix) in enumerate(runs):
        for position, node_id in enumerate(run.layer_ids(kind)):
            name = f"{kind}/{node_id}" + (f"/{suffix_key}" if suffix_key else "")
            if not run.has(name):
                continue
            key = f"{node_id}|{index}"
            keep.append(key)
            plot.curve(key, f"{run.layer_name(node_id)}{suffix}", colour(position), run_style(index),
                       run_width(index, 1.0))
            series = run.get(name)
            plot.set_data(key, series.x, series.y, token=(id(run), len(series)))
    plot.remove_missing(keep)


def cell_span(positions: np.ndarray) -> tuple[float, float]:
    """The x range of heatmap columns centred on evenly spaced positions."""
    if len(positions) == 0:
        return 0.0, 1.0
    first, last = float(positions[0]), float(positions[-1])
    half = (last - first) / (len(positions) - 1) / 2 if len(positions) > 1 and last > first else 0.5
    return first - half, last + half


class LayerChooser(QWidget):
    """A labelled combo box of layers; `chosen(node_id)` fires when the user picks one."""

    chosen = Signal(str)

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(14)
        self.combo.activated.connect(lambda index: self.chosen.emit(self.combo.itemData(index)))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(text))
        layout.addWidget(self.combo)
        layout.addStretch(1)

    def set_layers(self, layers: list[tuple[str, str]]) -> None:
        """(node id, name) pairs; keeps the current choice when it is still there."""
        if [(self.combo.itemData(i), self.combo.itemText(i)) for i in range(self.combo.count())] == layers:
            return
        current = self.current()
        self.combo.blockSignals(True)
        self.combo.clear()
        for node_id, name in layers:
            self.combo.addItem(name, node_id)
        self.combo.blockSignals(False)
        if current is not None:
            self.select(current)

    def current(self) -> str | None:
        return self.combo.currentData()

    def select(self, node_id: str) -> bool:
        index = self.combo.findData(node_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0


class GradientView(QSplitter):
    """Gradient norm per layer as lines (log scale) and as a layer × step heatmap of log10 norms."""

    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.lines = CurvePlot("Gradient norm per layer", "gradient norm")
        self.lines.item.setLogMode(y=True)
        self.lines.curve_clicked.connect(lambda key: self.node_clicked.emit(key.split("|")[0]))
        self.heatmap = Heatmap("Gradient norm: layer × step", "step", "", bar_label="log10 gradient norm")
        self.addWidget(self.lines)
        self.addWidget(self.heatmap)
        unsqueezable(self)
        self._rows: list[str] = []
        self._token: object = None

    def show_runs(self, runs: Runs) -> None:
        draw_layer_curves(self.lines, runs, "grads")
        if not runs:
            self.heatmap.set_image(np.zeros((0, 0)), (0, 1), (0, 1))
            return
        run = runs[0][0]
        layers = run.layer_ids("grads")
        token = (id(run), tuple(len(run.get(f"grads/{n}")) for n in layers))
        if token == self._token:
            return
        self._token = token
        self._rows = layers
        if not layers:
            return
        length = max(len(run.get(f"grads/{n}")) for n in layers)
        values = np.full((length, len(layers)), np.nan)
        steps = np.zeros(length)
        for row, node_id in enumerate(layers):
            series = run.get(f"grads/{node_id}")
            with np.errstate(divide="ignore", invalid="ignore"):
                values[:len(series), row] = np.log10(series.y)
            if len(series) == length:
                steps = series.x
        values[~np.isfinite(values)] = np.nan
        self.heatmap.set_image(values, cell_span(steps), (0.0, float(len(layers))))
        self.heatmap.set_row_labels([run.layer_name(n) for n in layers])

    def highlight(self, node_ids: list[str]) -> None:
        self.lines.highlight(node_ids)
        rows = [self._rows.index(n) for n in node_ids if n in self._rows]
        self.heatmap.outline_row(rows[0] if rows else None)


class ActivationView(QWidget):
    """Mean, spread and dead fraction of each layer's output, and the chosen layer's histogram over time."""

    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chooser = LayerChooser("Histogram of layer:")
        self.chooser.chosen.connect(self._on_chosen)
        self.stats: dict[str, CurvePlot] = {}
        row = QHBoxLayout()
        for key, title in STAT_TITLES:
            plot = CurvePlot(title, "", legend=key == "mean")
            plot.curve_clicked.connect(lambda k: self.node_clicked.emit(k.split("|")[0]))
            self.stats[key] = plot
            row.addWidget(plot)
        self.heatmap = Heatmap("Activation histogram over time", "step", "value", colour_map="inferno",
                               bar_label="log(1 + count)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QWidget()
        top.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        splitter = unsqueezable(QSplitter(Qt.Orientation.Vertical))
        splitter.addWidget(top)
        bottom = QWidget()
        column = QVBoxLayout(bottom)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.chooser)
        column.addWidget(self.heatmap, 1)
        splitter.addWidget(bottom)
        layout.addWidget(splitter)
        self._runs: Runs = []
        self._token: object = None

    def show_runs(self, runs: Runs) -> None:
        self._runs = runs
        for key, plot in self.stats.items():
            draw_layer_curves(plot, runs, "activations", key)
        if runs:
            run = runs[0][0]
            self.chooser.set_layers([(n, run.layer_name(n)) for n in run.layer_ids("activations")])
        self._draw_histogram()

    def _on_chosen(self, node_id: str) -> None:
        self.node_clicked.emit(node_id)
        self._draw_histogram()

    def _draw_histogram(self) -> None:
        node_id = self.chooser.current()
        if not self._runs or node_id is None:
            self.heatmap.set_image(np.zeros((0, 0)), (0, 1), (0, 1))
            return
        run = self._runs[0][0]
        snapshots = run.snapshots("activations", node_id)
        token = (id(run), node_id, len(snapshots))
        if token == self._token:
            return
        self._token = token
        image, lo, hi = resample_histograms(snapshots)
        if len(snapshots):
            steps = np.array([s.step for s in snapshots], dtype=np.float64)
            self.heatmap.set_image(np.log1p(image), cell_span(steps), (lo, hi))
            set_title(self.heatmap.item, f"Activation histogram over time: {run.layer_name(node_id)}")
        else:
            self.heatmap.set_image(np.zeros((0, 0)), (0, 1), (0, 1))

    def highlight(self, node_ids: list[str]) -> None:
        for plot in self.stats.values():
            plot.highlight(node_ids)
        if node_ids and self.chooser.select(node_ids[0]):
            self._draw_histogram()


class WeightView(QWidget):
    """The chosen layer's weight histogram for every epoch (heatmap) and for the first and latest epoch."""

    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chooser = LayerChooser("Weights of layer:")
        self.chooser.chosen.connect(self._on_chosen)
        self.heatmap = Heatmap("Weight histogram per epoch", "epoch", "weight value", colour_map="inferno",
                               bar_label="log(1 + count)")
        self.latest = CurvePlot("Weight distribution: first and latest epoch", "count", x_label="weight value")
        splitter = unsqueezable(QSplitter(Qt.Orientation.Vertical))
        splitter.addWidget(self.heatmap)
        splitter.addWidget(self.latest)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chooser)
        layout.addWidget(splitter, 1)
        self._runs: Runs = []
        self._token: object = None

    def show_runs(self, runs: Runs) -> None:
        self._runs = runs
        if runs:
            run = runs[0][0]
            self.chooser.set_layers([(n, run.layer_name(n)) for n in run.layer_ids("weights")])
        self._draw()

    def _on_chosen(self, node_id: str) -> None:
        self.node_clicked.emit(node_id)
        self._draw()

    def highlight(self, node_ids: list[str]) -> None:
        if node_ids and self.chooser.select(node_ids[0]):
            self._draw()

    def _draw(self) -> None:
        node_id = self.chooser.current()
        snapshots = self._runs[0][0].snapshots("weights", node_id) if self._runs and node_id else []
        token = (id(self._runs[0][0]) if self._runs else None, node_id, len(snapshots))
        if token == self._token:
            return
        self._token = token
        if not snapshots:
            self.heatmap.set_image(np.zeros((0, 0)), (0, 1), (0, 1))
            self.latest.clear_curves()
            return
        image, lo, hi = resample_histograms(snapshots)
        epochs = [s.epoch for s in snapshots]
        self.heatmap.set_image(np.log1p(image), (epochs[0] - 0.5, epochs[-1] + 0.5), (lo, hi))
        edges = np.linspace(lo, hi, image.shape[1] + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        name = self._runs[0][0].layer_name(node_id)
        self.latest.curve("first", "first epoch", "#9ecae1", OVERLAY_STYLE)
        self.latest.curve("latest", "latest epoch", "#1f77b4", width=2.0)
        set_title(self.latest.item, f"Weights of {name}: epoch {epochs[0]} and epoch {epochs[-1]}")
        self.latest.set_data("first", centres, image[0])
        self.latest.set_data("latest", centres, image[-1])
