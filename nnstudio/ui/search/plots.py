"""The Search panel's four plots, drawn with pyqtgraph from nnstudio.search.figures.

- History: each completed trial's metric (dots) and the best so far (a step line), by trial number.
- Parallel coordinates: one vertical axis per searched parameter and one for the metric; each trial is a line,
  coloured from the best trial (dark blue) to the worst (light).
- Importances: Optuna's importance of each parameter for the metric (its default evaluator), as horizontal bars.
- Pareto front: with a second objective, every trial as a dot and the front joined by a line.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nnstudio.search.figures import History, Parallel, Pareto
from nnstudio.ui.plots.base import colour, configure_plot, make_readable

BEST, WORST = QColor("#08306b"), QColor("#9ecae1")


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    configure_plot(widget.getPlotItem(), title, x_label, y_label)
    make_readable(widget)
    return widget


def _message(item: pg.PlotItem, text: str) -> None:
    label = pg.TextItem(text, color="#5f6772", anchor=(0.5, 0.5))
    item.addItem(label)
    label.setPos(0.5, 0.5)
    item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)


def shade(fraction: float) -> QColor:
    """From BEST (0) to WORST (1)."""
    f = min(1.0, max(0.0, fraction))
    return QColor.fromRgbF(*(BEST.getRgbF()[i] * (1 - f) + WORST.getRgbF()[i] * f for i in range(3)))


class HistoryPlot(QWidget):
    def __init__(self, metric: str = "metric", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = _plot("Optimisation history", "trial", metric)
        QVBoxLayout(self).addWidget(self.widget)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.points = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(colour(0)), pen=None, name="trial")
        self.best = pg.PlotDataItem(pen=pg.mkPen(colour(1), width=2), stepMode=None, name="best so far")
        item = self.widget.getPlotItem()
        item.addItem(self.points)
        item.addItem(self.best)

    def draw(self, history: History, metric: str) -> None:
        self.widget.getPlotItem().setLabel("left", metric)
        self.points.setData(history.numbers, history.values)
        self.best.setData(history.numbers, history.best)


class ParallelPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = _plot("Parallel coordinates", "", "")
        QVBoxLayout(self).addWidget(self.widget)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.lines: list[pg.PlotDataItem] = []

    def draw(self, data: Parallel, maximize: bool) -> None:
        item = self.widget.getPlotItem()
        item.clear()
        self.lines = []
        if len(data.axes) < 2 or not data.lines:
            _message(item, "no completed trial yet")
            return
        count = len(data.axes)
        order = np.argsort(data.metric)[::-1] if maximize else np.argsort(data.metric)
        rank = {int(index): position / max(1, len(order) - 1) for position, index in enumerate(order)}
        for index in sorted(rank, key=rank.get, reverse=True):  # the best line is drawn last, on top
            points = data.lines[index]
            line = pg.PlotDataItem(list(range(count)), [p if not math.isnan(p) else np.nan for p in points],
                                   pen=pg.mkPen(shade(rank[index]), width=2 if rank[index] == 0 else 1),
                                   connect="finite")
            item.addItem(line)
            self.lines.append(line)
        for x, axis in enumerate(data.axes):
            item.addItem(pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen("#9aa1ab")))
            for y, text in self._ticks(axis):
                label = pg.TextItem(text, color="#1f2329", anchor=(0, 0.5))
                label.setPos(x + 0.03, y)
                item.addItem(label)
        bottom = item.getAxis("bottom")
        bottom.setTicks([[(x, axis.name.split(".")[-1]) for x, axis in enumerate(data.axes)]])
        item.getAxis("left").setTicks([[]])
        item.setRange(xRange=(-0.45, count - 0.55), yRange=(-0.05, 1.05), padding=0)  # room for end labels

    @staticmethod
    def _ticks(axis) -> list[tuple[float, str]]:
        if axis.labels is not None:
            return [(axis.position(label), label) for label in axis.labels]
        return [(0.0, f"{axis.low:.3g}"), (1.0, f"{axis.high:.3g}")]


class ImportancePlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = _plot("Parameter importance", "importance", "")
        QVBoxLayout(self).addWidget(self.widget)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.bars: pg.BarGraphItem | None = None

    def draw(self, importances: dict[str, float], why_not: str) -> None:
        item = self.widget.getPlotItem()
        item.clear()
        self.bars = None
        if not importances:
            _message(item, why_not or "no importances yet")
            item.getAxis("left").setTicks(None)
            return
        names = list(importances)[::-1]  # the most important on top
        values = [importances[name] for name in names]
        self.bars = pg.BarGraphItem(x0=0, y=list(range(len(names))), height=0.6, width=values,
                                    brush=pg.mkBrush(colour(0)))
        item.addItem(self.bars)
        item.getAxis("left").setTicks([[(i, name.split(".")[-1]) for i, name in enumerate(names)]])
        item.setRange(xRange=(0, max(values) * 1.05 or 1), yRange=(-0.6, len(names) - 0.4), padding=0)


class ParetoPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = _plot("Pareto front", "metric", "second objective")
        QVBoxLayout(self).addWidget(self.widget)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.dots = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(WORST), pen=None)
        self.front = pg.PlotDataItem(pen=pg.mkPen(colour(1), width=2), symbol="o", symbolSize=9,
                                     symbolBrush=colour(1))
        item = self.widget.getPlotItem()
        item.addItem(self.dots)
        item.addItem(self.front)
        font = QFont()
        font.setPointSizeF(9)
        item.getAxis("left").setStyle(tickFont=font)

    def draw(self, data: Pareto, metric: str, second: str) -> None:
        item = self.widget.getPlotItem()
        item.setLabel("bottom", metric)
        item.setLabel("left", second)
        self.dots.setData(data.x, data.y)
        self.front.setData([data.x[i] for i in data.front], [data.y[i] for i in data.front])

