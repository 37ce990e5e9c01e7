"""The "Loss terms" plot: one colour per loss node, for graphs that declare their own objective.

Each term gets three curves in its colour: a thin, light one for the logged steps (so the first epoch is not
empty), a thick one for the train mean of each epoch, and a dashed one for validation. The legend names each
loss node once, drawn as its thick train curve. A compared run draws its epoch curves dotted (train) and
dash-dotted (validation).

The y axis is logarithmic by default. Terms routinely sit orders of magnitude apart (a KL of 30 beside a
reconstruction error of 0.05), and on a log axis every term keeps its true values, so the numbers read off
the plot are the ones the CLI and the run record report, a ratio between terms is a fixed vertical distance,
and a term that halves drops by the same amount whatever its scale. Normalising each term (say, by its first
value) would also fit them on one axis, but it hides their levels, which is what a user balancing the
weights needs to see; a linear axis is one click away.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from nnstudio.ui.plots.base import CurvePlot, lighter
from nnstudio.ui.plots.series import RunSeries, term_series

# Blue and orange mean train and validation in the Loss plot beside this one; terms start elsewhere.
TERM_COLOURS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
                "#1f77b4", "#ff7f0e")
STYLES = {  # (run index > 0, split) -> pen style
    (False, "train"): Qt.PenStyle.SolidLine, (False, "val"): Qt.PenStyle.DashLine,
    (True, "train"): Qt.PenStyle.DotLine, (True, "val"): Qt.PenStyle.DashDotLine,
}
HINT = "thin: steps · thick: train · dashed: validation"

Transform = Callable[[str, np.ndarray], np.ndarray]


def term_colour(index: int) -> str:
    return TERM_COLOURS[index % len(TERM_COLOURS)]


def all_terms(runs: list[tuple[RunSeries, str]]) -> list[str]:
    """Every run's terms, the primary run's first: a term keeps its colour across compared runs."""
    names: list[str] = []
    for run, _ in runs:
        names += [name for name in run.terms() if name not in names]
    return names


def term_curves(term: str, index: int, overlay: bool) -> list[tuple[str, str, Qt.PenStyle, float]]:
    """(series, colour, style, width) of one term's curves; a compared run shows only its epoch curves."""
    base = term_colour(index)
    metric = term_series(term)
    curves = [] if overlay else [(f"step/{metric}", lighter(base), Qt.PenStyle.SolidLine, 1.0)]
    curves.append((f"epoch/train_{metric}", base, STYLES[(overlay, "train")], 2.0))
    curves.append((f"epoch/val_{metric}", base, STYLES[(overlay, "val")], 2.0))
    return curves


def draw_terms(plot: CurvePlot, runs: list[tuple[RunSeries, str]], terms: list[str],
               transform: Transform | None = None, force: bool = False) -> list[tuple[str, str, Qt.PenStyle]]:
    """Feed every term's curves (made once, then given data); returns the legend: (label, colour, style) of
    each term in each run, drawn as its thick train curve even while only the thin step curve has data."""
    keep, legend = [], []
    for run_index, (run, suffix) in enumerate(runs):
        for index, term in enumerate(terms):
            curves = term_curves(term, index, run_index > 0)
            present = [curve for curve in curves if run.has(curve[0])]
            if present:
                train = curves[-2]
                legend.append((f"{term}{suffix}", train[1], train[2]))
            for name, pen_colour, style, width in present:
                key = f"{name}|{run_index}"
                keep.append(key)
                plot.curve(key, None, pen_colour, style, width)
                series = run.get(name)
                y = transform(name, series.y) if transform is not None else series.y
                plot.set_data(key, series.x, y, token=None if force else (id(run), len(series)))
    plot.remove_missing(keep)
    return legend


class TermsPlot(CurvePlot):
    """The Loss terms plot. Its log-scale switch (`log_box`) is placed by the owner, beside the other controls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Loss terms", "loss term", parent=parent)
        self.item.setTitle(f"Loss terms <span style='color:#777777; font-size:8pt'>&nbsp;&nbsp;{HINT}</span>",
                           size="10pt")
        self.log_box = QCheckBox("Log scale (terms)")
        self.log_box.setToolTip("Terms on very different scales (a KL of 30 beside an error of 0.05) stay readable "
                                "on a log axis, with their true values.")
        self.log_box.toggled.connect(lambda on: self.item.setLogMode(y=on))
        self.log_box.setChecked(True)
        self.terms: list[str] = []
        self._legend_entries: list[tuple[str, str, Qt.PenStyle]] = []
        self._legend_samples: list[pg.PlotDataItem] = []  # stand-ins the legend draws; never in the plot

    def show_runs(self, runs: list[tuple[RunSeries, str]], transform: Transform | None = None,
                  force: bool = False) -> bool:
        """Draw the runs' terms; False (and nothing drawn) when they have none."""
        self.terms = all_terms(runs)
        if not self.terms:
            if self.curves:
                self.clear_curves()
            self._set_legend([])
            return False
        self._set_legend(draw_terms(self, runs, self.terms, transform, force))
        return True

    def _set_legend(self, entries: list[tuple[str, str, Qt.PenStyle]]) -> None:
        """One legend line per term, rebuilt only when the terms (or runs) change, not on every redraw."""
        if entries == self._legend_entries or self.legend is None:
            return
        for sample in self._legend_samples:
            self.legend.removeItem(sample)
        self._legend_samples = []
        for label, pen_colour, style in entries:
            sample = pg.PlotDataItem(pen=pg.mkPen(pen_colour, width=2, style=style))
            self.legend.addItem(sample, label)
            self._legend_samples.append(sample)
        self._legend_entries = entries
