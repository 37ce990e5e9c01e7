"""Curves two recipes add: robust accuracy beside clean accuracy (adversarial), few-shot accuracy with its CI.

Adversarial training reports, per epoch, the validation accuracy under FGSM and under PGD at the training ε
(val_robust_fgsm_accuracy, val_robust_pgd_accuracy) beside the clean val_accuracy; the gap between them is
what the recipe exists to close. Few-shot training reports the accuracy on episodes of the validation classes
(val_fewshot_accuracy) with the half-width of its 95 % confidence interval (val_fewshot_ci95), drawn as a band
around the curve, with chance (1 / ways) as a dotted line.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from nnstudio.ui.plots.base import CurvePlot, set_title
from nnstudio.ui.plots.curves import draw_runs
from nnstudio.ui.plots.series import RunSeries

ROBUST_CURVES = [("epoch/train_accuracy", "clean train", "#9ecae1", 1.5),
                 ("epoch/val_accuracy", "clean validation", "#1f77b4", 2.0),
                 ("epoch/val_robust_fgsm_accuracy", "FGSM validation", "#ff7f0e", 2.0),
                 ("epoch/val_robust_pgd_accuracy", "PGD validation", "#d62728", 2.0)]
FEWSHOT = "epoch/val_fewshot_accuracy"
FEWSHOT_CI = "epoch/val_fewshot_ci95"
FEWSHOT_COLOUR = "#1f77b4"


class RobustnessView(CurvePlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Clean and robust accuracy", "accuracy", x_label="step",
                         parent=parent)

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        draw_runs(self, runs, ROBUST_CURVES)

    def plots(self) -> list[tuple[str, object]]:
        return [("Robust accuracy", self)]


class FewShotView(CurvePlot):
    """val_fewshot_accuracy with a ±ci95 band (one FillBetweenItem, made once) and the chance level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Few-shot accuracy on episodes of held-out classes", "accuracy", x_label="step", parent=parent)
        self.upper = pg.PlotDataItem(pen=None)
        self.lower = pg.PlotDataItem(pen=None)
        self.band = pg.FillBetweenItem(self.upper, self.lower, brush=pg.mkBrush(31, 119, 180, 50))
        for item in (self.upper, self.lower, self.band):
            self.item.addItem(item)
        self.chance = pg.InfiniteLine(angle=0, pen=pg.mkPen("#7f7f7f", width=1, style=Qt.PenStyle.DotLine),
                                      label="chance", labelOpts={"position": 0.05, "color": "#7f7f7f"})
        self.chance.setVisible(False)
        self.item.addItem(self.chance)

    def show_runs(self, runs: list[tuple[RunSeries, str]]) -> None:
        draw_runs(self, runs, [(FEWSHOT, "validation episodes (±95 % CI)", FEWSHOT_COLOUR, 2.0)])
        primary = runs[0][0] if runs else None
        if primary is None or not primary.has(FEWSHOT):
            self.upper.setData([], [])
            self.lower.setData([], [])
            self.chance.setVisible(False)
            return
        accuracy, ci = primary.get(FEWSHOT), primary.get(FEWSHOT_CI)
        half = ci.y if len(ci) == len(accuracy) else np.zeros(len(accuracy))
        self.upper.setData(accuracy.x, accuracy.y + half)
        self.lower.setData(accuracy.x, accuracy.y - half)
        record = primary.latest.get("fewshot") or {}
        if isinstance(record.get("chance"), (int, float)):
            self.chance.setPos(float(record["chance"]))
            self.chance.setVisible(True)
        last, width = accuracy.last(), ci.last()
        if last is not None:
            shape = f"{record.get('ways')}-way {record.get('shots')}-shot: " if record.get("ways") else ""
            set_title(self.item, f"Few-shot accuracy on held-out classes · {shape}{last:.3f} ± {width or 0:.3f}")

    def plots(self) -> list[tuple[str, object]]:
        return [("Few-shot accuracy", self)]
