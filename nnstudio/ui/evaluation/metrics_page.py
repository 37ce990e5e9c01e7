"""The Evaluation view's Metrics page: a classifier's per-class table, ROC and PR curves, reliability and top-k.

It draws a ClassificationMetrics (metrics/classification_report.py), computed by scikit-learn on the
evaluation thread. Up to MAX_CLASS_CURVES classes get a curve each beside the macro average; more would be a
tangle of colours, so then only the macro curve is drawn and a note says so. Legends sit in their own row
under each plot (LegendRow), never over the curves; each plot keeps MIN_PLOT_HEIGHT or more, and the page
scrolls inside the view's tabs when the window is smaller.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.metrics.classification_report import ClassificationMetrics, Curve
from nnstudio.ui.plots.base import CurvePlot, colour
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT, Maximiser

MAX_CLASS_CURVES = 10
PLOT_HEIGHT = MIN_PLOT_HEIGHT + 50  # the legend row of 11 entries takes about 60 px of it
COLUMNS = ("class", "precision", "recall", "F1", "support", "ROC AUC", "AP")
AP_TIP = "average precision: the area under the precision-recall curve, as scikit-learn computes it"
# Legend columns: a legend wider than its plot widens the plot's scene past the widget, which clips the
# right of the plot; three columns of "9 (AUC 0.97)" fit a plot half as wide as a 1024 px window.
LEGEND_COLUMNS = 3
MACRO_PEN = "#000000"
CHANCE_PEN = "#9e9e9e"


def _number(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


class MetricsPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        # no word wrap: a wrapping label gives the page a height-for-width, and the scroll area then sizes the
        # page to its preferred height (plots at 480 px) instead of fitting it to the window
        self.summary.setWordWrap(False)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeaderItem(len(COLUMNS) - 1).setToolTip(AP_TIP)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.roc = CurvePlot("ROC (one-vs-rest)", "true positive rate", "false positive rate")
        self.pr = CurvePlot("Precision-recall", "precision", "recall")
        self.reliability = CurvePlot("Reliability (top-label confidence)", "accuracy", "confidence")
        for plot in (self.roc, self.pr, self.reliability):
            plot.setMinimumHeight(PLOT_HEIGHT)
            plot.item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            plot.item.setMouseEnabled(x=False, y=False)
            plot.legend.setColumnCount(LEGEND_COLUMNS)
        self._bars: pg.BarGraphItem | None = None
        rows = self.table.fontMetrics().height() + 4  # compact rows: eleven classes and two averages fit beside
        self.table.verticalHeader().setDefaultSectionSize(rows)
        grid = QGridLayout()  # the table beside the reliability diagram, the two curve plots under them
        grid.addWidget(self.table, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.reliability, 0, 1)
        grid.addWidget(self.roc, 1, 0)
        grid.addWidget(self.pr, 1, 1)
        for index in (0, 1):
            grid.setColumnStretch(index, 1)
            grid.setRowStretch(index, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(grid, 1)
        self.maximiser = Maximiser(self)
        self.metrics: ClassificationMetrics | None = None

    def show_metrics(self, metrics: ClassificationMetrics) -> None:
        self.metrics = metrics
        self._fill_table(metrics)
        top = " &nbsp; ".join(f"top-{k} <b>{v:.3f}</b>" for k, v in metrics.top_k.items())
        curves = (
            ""
            if len(metrics.classes) <= MAX_CLASS_CURVES
            else (
                f"<br><span style='color:#666'>{len(metrics.classes)} classes: only the macro-average curves are "
                "drawn; each class's areas are in the table</span>"
            )
        )
        self.summary.setText(
            f"Top-k accuracy: {top} &nbsp;&nbsp; Expected calibration error "
            f"<b>{metrics.calibration.ece:.3f}</b> ({metrics.calibration.bins} bins) &nbsp;&nbsp; "
            f"macro ROC AUC <b>{_number(metrics.macro['roc_auc'])}</b>{curves}"
        )
        self._draw_curves(self.roc, metrics.roc, "AUC")
        self._draw_curves(self.pr, metrics.pr, "AP")
        self._chance(self.roc)
        self._draw_reliability(metrics)

    def _fill_table(self, metrics: ClassificationMetrics) -> None:
        rows = [
            (r.name, r.precision, r.recall, r.f1, r.support, r.roc_auc, r.average_precision) for r in metrics.classes
        ]
        for label, values in (("macro avg", metrics.macro), ("weighted avg", metrics.weighted)):
            rows.append(
                (
                    label,
                    values["precision"],
                    values["recall"],
                    values["f1"],
                    metrics.samples,
                    values["roc_auc"],
                    values["average_precision"],
                )
            )
        self.table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                text = value if isinstance(value, str) else str(value) if isinstance(value, int) else _number(value)
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row >= len(metrics.classes):
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        shown = min(len(rows), 13)  # taller tables scroll inside themselves
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + shown * self.table.verticalHeader().defaultSectionSize() + 4)

    def _draw_curves(self, plot: CurvePlot, curves: list[Curve], area: str) -> None:
        plot.clear_curves()
        per_class = [c for c in curves if c.label != "macro"]
        macro = [c for c in curves if c.label == "macro"]
        shown = per_class if len(per_class) <= MAX_CLASS_CURVES else []
        for index, curve in enumerate(shown):
            if curve.x:
                plot.curve(f"class|{index}", f"{curve.label} ({area} {curve.area:.2f})", colour(index))
                plot.set_data(f"class|{index}", np.asarray(curve.x), np.asarray(curve.y))
        for curve in macro:
            if curve.x:
                plot.curve("macro", f"macro ({area} {curve.area:.2f})", MACRO_PEN, Qt.PenStyle.DashLine, 2.0)
                plot.set_data("macro", np.asarray(curve.x), np.asarray(curve.y))

    def _chance(self, plot: CurvePlot, label: str | None = None) -> None:
        """The diagonal (chance for ROC, perfect calibration for reliability), with a midpoint so that
        CurvePlot does not dot it as a lone pair of samples."""
        diagonal = np.array([0.0, 0.5, 1.0])
        plot.curve("chance", label, CHANCE_PEN, Qt.PenStyle.DotLine)
        plot.set_data("chance", diagonal, diagonal)

    def _draw_reliability(self, metrics: ClassificationMetrics) -> None:
        plot, calibration = self.reliability, metrics.calibration
        plot.clear_curves()
        if self._bars is not None:
            plot.item.removeItem(self._bars)
        width = 1.0 / calibration.bins
        centres = (np.floor(np.asarray(calibration.confidence) / width).clip(0, calibration.bins - 1) + 0.5) * width
        self._bars = pg.BarGraphItem(
            x=centres,
            height=np.asarray(calibration.accuracy),
            width=width * 0.9,
            brush=pg.mkBrush(31, 119, 180, 150),
            pen=pg.mkPen("#1f77b4"),
            name=f"accuracy (ECE {calibration.ece:.3f})",
        )
        plot.item.addItem(self._bars)
        self._chance(plot, "calibrated")
        plot.curve("confidence", "mean confidence", "#d62728")
        plot.set_data("confidence", np.asarray(calibration.confidence), np.asarray(calibration.accuracy))
        plot.curves["confidence"].setSymbol("o")
        plot.curves["confidence"].setSymbolSize(5)
        plot.curves["confidence"].setSymbolBrush(pg.mkBrush("#d62728"))
