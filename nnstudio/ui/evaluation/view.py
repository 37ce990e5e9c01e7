"""The evaluation view: test metrics, confusion matrix, predicted vs true, mistakes, reconstructions, samples.

It draws an EvaluationResult; which pages appear depends on the task (for a graph with loss nodes: on its
heads). Images are shown as images (the misclassified browser, the reconstructions and a VAE's samples from
its prior), other samples as table rows.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.evaluation.adversarial import AdversarialTab
from nnstudio.ui.evaluation.compute import EvaluationResult
from nnstudio.ui.evaluation.explain_page import ExplainPage
from nnstudio.ui.evaluation.fewshot import FewShotPage
from nnstudio.ui.evaluation.gan import GanPage
from nnstudio.ui.evaluation.images import ICON, sample_image, side_by_side, to_pixmap
from nnstudio.ui.evaluation.inference_page import InferencePage
from nnstudio.ui.evaluation.metrics_page import MetricsPage
from nnstudio.ui.evaluation.objective import PriorSampler
from nnstudio.ui.evaluation.projector import ProjectorPage
from nnstudio.ui.evaluation.samples import ReconstructionGrids, SamplesPage, as_images
from nnstudio.ui.evaluation.som import SomPage
from nnstudio.ui.plots.base import configure_plot
from nnstudio.ui.plots.heatmap import Heatmap
from nnstudio.ui.plots.layout import ScrollTabs, make_readable

__all__ = ["EvaluationView", "sample_image", "side_by_side", "to_pixmap"]

PRETTY = {"accuracy": "accuracy", "rmse": "RMSE", "mae": "MAE", "r2": "R²"}


def metric_label(key: str, result: EvaluationResult) -> str:
    """How a metric reads: 'loss (rec + 0.01·kl)', a term by its loss node's name, 'digit accuracy'."""
    if result.objective is not None:
        if key == "loss":
            return f"loss ({result.objective})"
        if key.startswith("loss_") and key[5:] in result.term_names:
            return key[5:]
        if len(result.head_names) == 1 and key in PRETTY:
            return f"{result.head_names[0]} {PRETTY[key]}"  # one head: plain keys, but say whose metric it is
        for head in result.head_names if len(result.head_names) > 1 else ():
            if key.startswith(f"{head}_"):
                rest = key[len(head) + 1:]
                return f"{head} {PRETTY.get(rest, rest)}"
    return PRETTY.get(key, key)


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("Train a model, or pick a run in Runs and press Evaluate, to see how it does on "
                             "data it never trained on.")
        self.header.setWordWrap(True)
        self.metrics = QLabel()
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        self.metrics.setWordWrap(True)  # many heads' metrics wrap instead of widening the window
        self.tabs = ScrollTabs()  # a page taller than the room scrolls: a 10-class matrix keeps legible cells
        self.tabs.setDocumentMode(True)
        self.confusion = Heatmap("Confusion matrix (rows: true class, columns: predicted)", "predicted", "true",
                                 colour_map="CET-L12", bar_label="samples")
        self.scatter = pg.PlotWidget()
        configure_plot(self.scatter.getPlotItem(), "Predicted vs true", "true value", "predicted value")
        make_readable(self.scatter)
        self.mistakes = QListWidget()
        self.mistakes_table = QTableWidget()
        self.reconstructions = QListWidget()
        for widget in (self.mistakes, self.reconstructions):
            widget.setViewMode(QListView.ViewMode.IconMode)
            widget.setIconSize(QSize(ICON, ICON))
            widget.setResizeMode(QListView.ResizeMode.Adjust)
            widget.setMovement(QListView.Movement.Static)
            widget.setSpacing(6)
        self.mistakes_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.adversarial_tab = AdversarialTab()  # robust accuracy against ε above the attacked examples
        self.adversarial = self.adversarial_tab.examples
        self.gan = GanPage()
        self.som = SomPage()
        self.fewshot = FewShotPage()
        self.metrics_page = MetricsPage()  # a classifier's per-class table, ROC/PR curves, reliability, top-k
        self.projector = ProjectorPage()  # any node's output over the split, by PCA or t-SNE
        self.explain_page = ExplainPage()  # one sample: the answer and an attribution map (Captum)
        self.inference_page = InferencePage()  # one sample, picked, drawn or typed: every layer's output
        self.samples = SamplesPage()
        self.samples.seed_requested.connect(self._on_seed_requested)
        self.recon_grids = ReconstructionGrids()
        self.vae_page = QSplitter(Qt.Orientation.Horizontal)  # a VAE on images: reconstructions beside samples
        self.vae_page.addWidget(self.recon_grids)
        self.vae_page.setChildrenCollapsible(False)
        # Decodes new samples: (sampler, seed) -> None, answering through show_samples. The app runs it on the
        # evaluation thread; without one the samples are decoded here, at once.
        self.sample_runner: Callable[[PriorSampler, int], None] | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.metrics)
        layout.addWidget(self.tabs, 1)
        self._count_labels: list[pg.TextItem] = []
        self.result: EvaluationResult | None = None

    def show_busy(self, text: str) -> None:
        self.header.setText(text)

    def show_error(self, text: str) -> None:
        self.header.setText(f"<span style='color:#c62828'>Evaluation failed: {html.escape(text)}</span>")
        self.samples.new_button.setEnabled(True)

    def show_result(self, result: EvaluationResult, title: str) -> None:
        self.result = result
        self.header.setText(f"{title}: {result.split} split, {result.count} samples "
                            f"(weights: {result.checkpoint.rsplit('/', 1)[-1]} checkpoint)")
        cells = " &nbsp;&nbsp; ".join(f"{html.escape(metric_label(k, result))} <b>{v:.4g}</b>"
                                      for k, v in result.metrics.items() if isinstance(v, (int, float)))
        notes = "".join(f"<br><span style='color:#666'>{html.escape(note)}</span>" for note in result.notes)
        self.metrics.setText(f"<span style='font-size:13pt'>{cells}</span>{notes}")
        while self.tabs.count():
            self.tabs.removeTab(0)
        if result.gan is not None:  # a GAN's data may have labels, but it classifies nothing
            self.gan.show_samples(result.gan)
            self.tabs.addTab(self.gan, "Generated samples")
            return
        if result.som is not None:  # a map's labels colour its hit map; it classifies nothing
            self.som.show_map(result.som)
            self.tabs.addTab(self.som, "U-matrix and hit map")
            return
        if result.fewshot is not None:  # an embedding: no softmax, so no classifier pages
            self.fewshot.show_summary(result.fewshot)
            self.tabs.addTab(self.fewshot, "Few-shot accuracy")
            return
        if result.confusion is not None:
            self._show_confusion(result)
            self.tabs.addTab(self.confusion, "Confusion matrix")
        if result.is_classification:
            self._show_mistakes(result)
        if result.classification is not None:
            self.metrics_page.show_metrics(result.classification)
            self.tabs.addTab(self.metrics_page, "Metrics")
        if result.adversarial is not None:
            self.adversarial_tab.show_examples(result.adversarial, result.class_name)
            self.tabs.addTab(self.adversarial_tab, "Adversarial examples")
        if result.truth is not None:
            self._show_scatter(result)
            self.tabs.addTab(self.scatter, "Predicted vs true")
        sampled = result.sampler is not None and result.samples is not None
        if sampled:
            self.samples.show_sampler(result.sampler, result.sample_seed, result.samples, result.value_range)
        if sampled and result.reconstructions is not None and self._show_vae_page(result):
            return
        if result.reconstructions is not None:
            self._show_reconstructions(result)
            self.tabs.addTab(self.reconstructions, "Reconstructions")
        if sampled:
            self.tabs.addTab(self.samples, "Samples from the prior")
        if result.projector is not None:  # a plain model (an objective graph has none): after its other pages
            self.projector.set_source(result.projector)
            self.tabs.addTab(self.projector, "Projector")
            self.explain_page.set_source(result.projector)
            self.tabs.addTab(self.explain_page, "Explain")
            self.inference_page.set_source(result.projector, result.split)
            self.tabs.addTab(self.inference_page, "Try one sample")

    def _show_vae_page(self, result: EvaluationResult) -> bool:
        """Image reconstructions and prior samples on one page; False when the data are not images."""
        inputs, outputs = (as_images(values, result.value_range) for values in result.reconstructions)
        if inputs is None or outputs is None:
            return False
        self.recon_grids.show_pairs(inputs, outputs)
        self.vae_page.addWidget(self.samples)  # (back) into the splitter, from a tab of an earlier result
        self.vae_page.setSizes([1, 1])
        self.tabs.addTab(self.vae_page, "Reconstructions and samples")
        return True

    def show_samples(self, sampler: PriorSampler, seed: int, values: np.ndarray) -> None:
        """New samples decoded with `seed`; ignored when they belong to an evaluation no longer shown."""
        if self.result is None or sampler is not self.result.sampler:
            return
        self.result.samples, self.result.sample_seed = values, seed
        self.samples.show_values(seed, values)

    def _on_seed_requested(self, seed: int) -> None:
        sampler = self.result.sampler if self.result is not None else None
        if sampler is None:
            return
        if self.sample_runner is not None:
            self.sample_runner(sampler, seed)
        else:
            self.show_samples(sampler, seed, sampler.draw(seed))

    # --- pages -------------------------------------------------------------------------------
    def _show_confusion(self, result: EvaluationResult) -> None:
        matrix = np.asarray(result.confusion, dtype=np.float64)
        k = len(matrix)
        self.confusion.set_image(matrix.T, (0.0, float(k)), (0.0, float(k)))  # x: predicted, y: true
        names = [result.class_name(i)[:12] for i in range(k)]
        self.confusion.set_row_labels(names)
        self.confusion.item.getAxis("bottom").setTicks([[(i + 0.5, n) for i, n in enumerate(names)], []])
        self.confusion.item.invertY(True)
        for label in self._count_labels:
            self.confusion.item.removeItem(label)
        self._count_labels = []
        peak = matrix.max() if matrix.size else 1.0
        for t in range(k):
            for p in range(k):
                count = int(matrix[t, p])
                if count == 0:
                    continue  # empty cells stay blank, so the mistakes stand out
                colour = "w" if count > peak * 0.6 else "k"  # light text on dark cells only
                label = pg.TextItem(str(count), color=colour, anchor=(0.5, 0.5))
                label.setPos(p + 0.5, t + 0.5)
                self.confusion.item.addItem(label)
                self._count_labels.append(label)

    def _show_mistakes(self, result: EvaluationResult) -> None:
        images = [sample_image(m.x) for m in result.misclassified]
        title = f"Misclassified ({result.wrong_count})"
        if result.misclassified and all(image is not None for image in images):
            self.mistakes.clear()
            for mistake, image in zip(result.misclassified, images):
                item = QListWidgetItem(QIcon(to_pixmap(image)), f"{result.class_name(mistake.truth)} → "
                                       f"{result.class_name(mistake.predicted)}\n{mistake.confidence:.0%}")
                item.setToolTip(f"sample {mistake.index}: true {result.class_name(mistake.truth)}, predicted "
                                f"{result.class_name(mistake.predicted)} with probability {mistake.confidence:.2f}")
                self.mistakes.addItem(item)
            self.tabs.addTab(self.mistakes, title)
            return
        self._fill_mistakes_table(result)
        self.tabs.addTab(self.mistakes_table, title)

    def _fill_mistakes_table(self, result: EvaluationResult) -> None:
        rows = result.misclassified
        width = min(12, rows[0].x.size) if rows else 0
        names = list(result.feature_names or [])
        if rows and len(names) != rows[0].x.size:
            names = [f"x{i + 1}" for i in range(rows[0].x.size)]
        table = self.mistakes_table
        table.clear()
        table.setRowCount(len(rows))
        table.setColumnCount(3 + width)
        table.setHorizontalHeaderLabels(["true", "predicted", "probability", *names[:width]])
        for row, mistake in enumerate(rows):
            values = [result.class_name(mistake.truth), result.class_name(mistake.predicted),
                      f"{mistake.confidence:.2f}", *(f"{v:.4g}" for v in mistake.x.reshape(-1)[:width])]
            for column, text in enumerate(values):
                table.setItem(row, column, QTableWidgetItem(text))

    def _show_scatter(self, result: EvaluationResult) -> None:
        item = self.scatter.getPlotItem()
        item.clear()
        truth, predicted = result.truth, result.predicted
        item.addItem(pg.ScatterPlotItem(truth, predicted, size=4, pen=None, brush=pg.mkBrush(31, 119, 180, 140)))
        lo = float(min(truth.min(), predicted.min()))
        hi = float(max(truth.max(), predicted.max()))
        item.plot([lo, hi], [lo, hi], pen=pg.mkPen("#d62728", width=1.5, style=Qt.PenStyle.DashLine))

    def _show_reconstructions(self, result: EvaluationResult) -> None:
        inputs, outputs = result.reconstructions
        self.reconstructions.clear()
        for index, (x, out) in enumerate(zip(inputs, outputs)):
            left, right = sample_image(x, result.value_range), sample_image(out, result.value_range)
            if left is None or right is None:
                text = f"sample {index}: error {float(np.sqrt(np.mean((x - out) ** 2))):.3g} RMS"
                self.reconstructions.addItem(QListWidgetItem(text))
                continue
            pixmap = to_pixmap(side_by_side(left, right), ICON * 2)
            item = QListWidgetItem(QIcon(pixmap), f"sample {index}: input | output")
            self.reconstructions.addItem(item)
        self.reconstructions.setIconSize(QSize(ICON * 2, ICON))
