"""The plot of robust accuracy against ε (training/robustness.py), for the Adversarial examples page.

One line per attack, every measured ε marked with a dot, since a curve of six or seven points is read point by
point; the accuracy axis is fixed to 0–1 so curves of different runs compare at a glance. A dashed vertical
line marks the ε of the examples shown under the plot. Hovering a point says its ε, accuracy and flips.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnstudio.training.robustness import RobustnessCurve
from nnstudio.ui.plots.base import add_legend_row, colour, configure_plot
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT, make_readable

COLOURS = {"fgsm": colour(0), "pgd": colour(3)}
MARKER_COLOUR = "#7f7f7f"


def curve_name(curve: RobustnessCurve) -> str:
    return f"PGD ({curve.steps} steps)" if curve.method == "pgd" else "FGSM"


class RobustnessPlot(pg.PlotWidget):
    """Robust accuracy (y, 0–1) against ε in the data's units (x); `show_curve` adds or replaces an attack's line."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        configure_plot(item, "Robust accuracy against ε", "ε (data units)", "accuracy")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setYRange(0.0, 1.0, padding=0.03)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.legend = add_legend_row(item)
        make_readable(self, MIN_PLOT_HEIGHT + 40)
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.points: dict[str, pg.ScatterPlotItem] = {}
        self.curves: dict[str, RobustnessCurve] = {}
        self.marker: pg.InfiniteLine | None = None

    def clear_curves(self) -> None:
        item = self.getPlotItem()
        for graphic in [*self.lines.values(), *self.points.values(), *([self.marker] if self.marker else [])]:
            item.removeItem(graphic)
        self.legend.clear()
        self.lines, self.points, self.curves, self.marker = {}, {}, {}, None

    def show_curve(self, curve: RobustnessCurve) -> None:
        item = self.getPlotItem()
        for store in (self.lines, self.points):  # (PlotItem.removeItem takes the line out of the legend too)
            if curve.method in store:
                item.removeItem(store.pop(curve.method))
        pen_colour = COLOURS.get(curve.method, colour(1))
        line = pg.PlotDataItem(curve.epsilons, curve.accuracies, pen=pg.mkPen(pen_colour, width=2),
                               name=curve_name(curve))
        dots = pg.ScatterPlotItem(curve.epsilons, curve.accuracies, data=list(range(len(curve.points))), size=9,
                                  symbol="o", pen=pg.mkPen("w", width=1), brush=pg.mkBrush(pen_colour),
                                  hoverable=True, hoverSize=12, tip=self._tip(curve))
        item.addItem(line)
        item.addItem(dots)
        self.lines[curve.method], self.points[curve.method], self.curves[curve.method] = line, dots, curve
        self._fit_x()

    def mark_epsilon(self, epsilon: float, text: str) -> None:
        """A dashed vertical line at `epsilon`, labelled (the examples under the plot were attacked there)."""
        item = self.getPlotItem()
        if self.marker is not None:
            item.removeItem(self.marker)
        self.marker = pg.InfiniteLine(epsilon, angle=90, movable=False,
                                      pen=pg.mkPen(MARKER_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                                      label=text, labelOpts={"position": 0.92, "color": MARKER_COLOUR,
                                                             "anchors": [(0, 0.5), (0, 0.5)]})
        item.addItem(self.marker)
        self._fit_x()

    def _fit_x(self) -> None:
        values = [e for c in self.curves.values() for e in c.epsilons]
        values += [self.marker.value()] if self.marker is not None else []
        high = max(values, default=1.0) or 1.0
        self.getPlotItem().setXRange(0.0, high, padding=0.04)

    @staticmethod
    def _tip(curve: RobustnessCurve):
        def tip(x: float, y: float, data: object) -> str:
            point = curve.points[int(data)]
            return (f"{curve_name(curve)}, ε = {point.epsilon:g}: accuracy {point.accuracy:.1%}, "
                    f"{point.flipped} of {curve.predictions} predictions flipped")
        return tip
