"""Run-level curves: loss (train and validation), each loss term, task metrics, and the learning rate.

Each view draws a primary run and, for a comparison, up to four more in the same colours, each with its own line
(dashed, dotted, …; base.RUN_STYLES). A graph
with loss nodes gets a second loss plot, "Loss terms", with one colour per loss node (see terms.py); plain
projects never show it. Several heads get one colour each in the metric plots, named after the head.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from nnstudio.ui.plots.base import CurvePlot, colour, lighter, run_style, run_width
from nnstudio.ui.plots.series import RunSeries, moving_average
from nnstudio.ui.plots.terms import TermsPlot

LOSS_CURVES = (  # series, label, colour, width
    ("step/loss", "train (steps)", "#9ecae1", 1.0),
    ("epoch/train_loss", "train (epoch)", "#1f77b4", 2.0),
    ("epoch/val_loss", "validation", "#ff7f0e", 2.0),
)
SCORE_METRICS = ("accuracy", "r2")
ERROR_METRICS = ("rmse", "mae")
METRIC_COLOURS = {"train_accuracy": "#1f77b4", "val_accuracy": "#ff7f0e", "accuracy": "#9ecae1",
                  "val_r2": "#2ca02c", "train_r2": "#98df8a", "val_rmse": "#d62728", "train_rmse": "#ff9896",
                  "val_mae": "#9467bd", "train_mae": "#c5b0d5"}
PRETTY = {"accuracy": "accuracy", "r2": "R²", "rmse": "RMSE", "mae": "MAE"}


def _label(metric: str) -> str:
    for prefix, words in (("val_", "validation"), ("train_", "train")):
        if metric.startswith(prefix):
            name = metric[len(prefix):]
            return f"{PRETTY.get(name, name)} {words}"
    return f"{PRETTY.get(metric, metric)} train (steps)"


def draw_runs(plot: CurvePlot, runs: list[tuple[RunSeries, str]], curves: list[tuple[str, str, str, float]],
              transform=None, force: bool = False) -> None:
    """Draw `curves` (series name, label, colour, width) for each (run, suffix); each run its own line.

    A curve whose run and length are unchanged since the last draw is skipped unless `force` is set.
    """
    keep = []
    for index, (run, suffix) in enumerate(runs):
        for name, label, pen_colour, width in curves:
            if not run.has(name):
                continue
            key = f"{name}|{index}"
            keep.append(key)
            plot.curve(key, f"{label}{suffix}", pen_colour, run_style(index), run_width(index, width))
            series = run.get(name)
            y = transform(name, series.y) if transform is not None else series.y
            plot.set_data(key, series.x, y, token=None if force else (id(run), len(series)))
    plot.remove_missing(keep)


class LossView(QWidget):
    """Train and validation loss with a log-scale toggle and a smoothing slider for the step loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = CurvePlot("Loss", "loss")
        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self._on_log)
        self.smooth = QSlider(Qt.Orientation.Horizontal)
        self.smooth.setRange(0, 50)
        self.smooth.setValue(0)
        self.smooth.setToolTip("Average the step loss over this many logged points, to see the trend "
                               "through the noise of single batches.")
        self.smooth.valueChanged.connect(self._on_smooth)
        self.smooth_label = QLabel("Smoothing: off")
        # Below the total, on the same (linked) step axis, so a jump in the total can be traced to its term at a
        # glance; its step curves share the smoothing. Hidden unless the run has loss terms, so plain projects
        # look as they always did.
        self.terms = TermsPlot()
        self.terms.item.setXLink(self.plot.item)
        self.terms.setVisible(False)
        self.terms.log_box.setVisible(False)
        controls = QHBoxLayout()
        controls.addWidget(self.log_box)
        controls.addWidget(self.terms.log_box)
        controls.addSpacing(12)
        controls.addWidget(self.smooth_label)
        controls.addWidget(self.smooth, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(self.terms)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.splitter, 1)
        self._runs: list[tuple[RunSeries, str]] = []

    def _on_log(self, on: bool) -> None:
        self.plot.item.setLogMode(y=on)

    def _on_smooth(self, value: int) -> None:
        self.smooth_label.setText(f"Smoothing: {value} points" if value > 1 else "Smoothing: off")
        self._redraw_smoothing()

    def _transform(self, name: str, values):
        if name.startswith("step/loss"):  # the total and each term's step curve
            return moving_average(values, self.smooth.value())
        return values

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        self._runs = runs
        self.redraw()

    def redraw(self, force: bool = False) -> None:
        draw_runs(self.plot, self._runs, list(LOSS_CURVES), self._transform, force=force)
        self._show_terms(self.terms.show_runs(self._runs, self._transform, force=force))

    def _redraw_smoothing(self) -> None:
        self.redraw(force=True)

    def _show_terms(self, shown: bool) -> None:
        if shown == self.terms.isVisibleTo(self):
            return
        self.terms.setVisible(shown)
        self.terms.log_box.setVisible(shown)
        self.log_box.setText("Log scale (total)" if shown else "Log scale")
        self.plot.item.getAxis("bottom").showLabel(not shown)  # the terms plot below labels the shared axis


class MetricView(QWidget):
    """Accuracy for classification; RMSE, MAE and R² for regression (errors and scores on two plots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score = CurvePlot("Score", "accuracy / R²")
        self.error = CurvePlot("Error", "RMSE / MAE")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.score, 1)
        layout.addWidget(self.error, 1)
        self.error.setVisible(False)

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        scores, errors = self._curves(runs)
        draw_runs(self.score, runs, scores)
        draw_runs(self.error, runs, errors)
        self.error.setVisible(bool(errors))
        self.score.setVisible(bool(scores) or not errors)

    def _curves(self, runs: list[tuple[RunSeries, str]]) -> tuple[list, list]:
        names: set[str] = set()
        heads: list[str] = []  # with several heads, in the order the runs logged them
        for run, _ in runs:
            for name in run.series:
                parsed = parse_metric(name)
                if parsed is not None:
                    names.add(name)
                    if parsed[1] and parsed[1] not in heads:
                        heads.append(parsed[1])
        scores, errors = [], []
        for name in sorted(names):
            split, head, kind = parse_metric(name)
            if head or (heads and name == "step/accuracy"):
                entry = self._head_entry(name, split, head or heads[0], kind, heads)
            else:
                metric = name.split("/", 1)[1]
                entry = (name, _label(metric), METRIC_COLOURS.get(metric, "#7f7f7f"),
                         1.0 if name.startswith("step/") else 2.0)
            (scores if kind in SCORE_METRICS else errors).append(entry)
        return scores, errors

    @staticmethod
    def _head_entry(name: str, split: str, head: str, kind: str, heads: list[str]) -> tuple[str, str, str, float]:
        """One colour per head: validation full, train and steps lighter and thinner."""
        base = colour(heads.index(head))
        words = {"val": "validation", "train": "train", "step": "train (steps)"}[split]
        pen = base if split == "val" else lighter(base)
        return name, f"{head} {PRETTY.get(kind, kind)} {words}", pen, 2.0 if split == "val" else 1.0


def parse_metric(name: str) -> tuple[str, str, str] | None:
    """("val" | "train" | "step", head or "", metric kind) of a metric series, None for anything else.

    Loss terms (`val_loss_<term>`) and best-so-far values (`best_val_accuracy`) are not metrics to plot here,
    even when a term happens to be called "accuracy".
    """
    kind_of, _, metric = name.partition("/")
    if kind_of == "step":
        return ("step", "", "accuracy") if metric == "accuracy" else None
    if kind_of != "epoch":
        return None
    split, _, rest = metric.partition("_")
    if split not in ("train", "val") or rest == "loss" or rest.startswith("loss_"):
        return None
    head, _, kind = rest.rpartition("_")
    if kind not in SCORE_METRICS + ERROR_METRICS:
        return None
    return split, head, kind


class LearningRateView(CurvePlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Learning rate", "lr", legend=False, parent=parent)
        self._constant: float | None = None  # the rate whose fixed y range is set, while it stays constant

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        name = "step/lr" if any(run.has("step/lr") for run, _ in runs) else "epoch/lr"
        draw_runs(self, runs, [(name, "learning rate", "#2ca02c", 1.8)])
        self._fit_constant([run.get(name).y for run, _ in runs if run.has(name)])

    def _fit_constant(self, values: list) -> None:
        """A constant rate gets the range [0, 2·lr]: pyqtgraph would put a flat line at 0.003 in [-0.5, 0.5],
        where every tick but one reads about zero."""
        finite = [v[np.isfinite(v)] for v in values]
        finite = [v for v in finite if len(v)]
        lo = min((float(v.min()) for v in finite), default=None)
        hi = max((float(v.max()) for v in finite), default=None)
        constant = lo is not None and hi > 0 and hi - lo <= 1e-9 * hi
        if constant and self._constant != hi:
            self.item.setYRange(0.0, 2.0 * hi, padding=0.05)
        elif not constant and self._constant is not None:
            self.item.enableAutoRange(y=True)
        self._constant = hi if constant else None
