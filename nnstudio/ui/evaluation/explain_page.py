"""The Evaluation view's Explain page: one sample of the split, the model's answer, and an attribution map.

It reads the same job and split as the projector (ProjectorSource) and the core's tables: the prediction comes
from training/inference.py, the methods from training/explain (METHODS), so the page, `nnstudio predict` and
`nnstudio explain` agree. Attributions run on a worker thread (ui/background.py); a newer request supersedes an
older one still running. Images show the heatmap PNG the CLI writes; tabular inputs show bars over the features.
Without Captum the page says how to install it instead of offering methods.
"""

from __future__ import annotations

import html
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from nnstudio.training.explain.methods import CAPTUM_HINT, METHODS, captum_available
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.plots.base import configure_plot
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT, make_readable

TOP_K = 5
PREDICTED = "predicted class"


def run_explanation(source, index: int, method: str, target: str | None, layer: str | None):
    """(prediction, attribution) for sample `index` of the source's split; off the GUI thread."""
    from nnstudio.training.explain import explain
    from nnstudio.training.inference import predict

    sample = source.x[index : index + 1].clone()
    return predict(source.job, sample), explain(source.job, sample, method, target, layer=layer)


class ExplainPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample = QSpinBox()
        self.sample.setToolTip("the sample of the split to explain")
        self.method = QComboBox()
        for method in METHODS.values():
            self.method.addItem(method.title, method.name)
            self.method.setItemData(self.method.count() - 1, method.summary, Qt.ItemDataRole.ToolTipRole)
        self.method.currentIndexChanged.connect(self._method_changed)
        self.target = QComboBox()
        self.layer = QComboBox()
        self.layer.setToolTip("Grad-CAM: the convolution node whose feature maps are read")
        self.button = QPushButton("Explain")
        self.button.clicked.connect(self.request)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.answer = QLabel()
        self.picture = QLabel()
        self.bars = pg.PlotWidget()
        configure_plot(self.bars.getPlotItem(), "Attribution by feature", "feature", "attribution")
        make_readable(self.bars, MIN_PLOT_HEIGHT)
        controls = QHBoxLayout()
        for label, widget in (
            ("Sample", self.sample),
            ("Method", self.method),
            ("Target", self.target),
            ("Layer", self.layer),
        ):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.answer)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.bars, 1)
        self._poller = FuturePoller(self)
        self._generation = 0
        self.source = None
        self.attribution = None

    def set_source(self, source) -> None:
        """A new evaluation (a ProjectorSource): its samples, classes and convolution nodes."""
        from nnstudio.training.explain import conv_nodes

        self.source, self.attribution = source, None
        self._generation += 1
        self.sample.setRange(0, max(0, len(source.x) - 1))
        self.target.clear()
        self.target.addItem(PREDICTED, None)
        for index, name in enumerate(source.job.data.class_names or []):
            self.target.addItem(str(name), str(index))
        self.layer.clear()
        for name in conv_nodes(source.job):
            self.layer.addItem(name, name)
        self.layer.setCurrentIndex(self.layer.count() - 1)
        self.answer.clear()
        self.picture.clear()
        self.bars.getPlotItem().clear()
        self.bars.setVisible(False)
        ready = captum_available()
        self.button.setEnabled(ready and len(source.x) > 0)
        self.status.setText("Pick a sample and a method, and press Explain." if ready else CAPTUM_HINT)
        self._method_changed()

    def _method_changed(self) -> None:
        method = METHODS[self.method.currentData()]
        self.layer.setEnabled(method.needs_conv and self.layer.count() > 0)

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def request(self) -> None:
        """Explain the chosen sample off the GUI thread; `attribution` and the picture or bars follow."""
        if self.source is None:
            return
        method = self.method.currentData()
        layer = self.layer.currentData() if METHODS[method].needs_conv else None
        self._generation += 1
        self.button.setEnabled(False)
        self.status.setText(f"Computing {METHODS[method].title} for sample {self.sample.value()}…")
        work = partial(run_explanation, self.source, self.sample.value(), method, self.target.currentData(), layer)
        self._poller.watch(start_thread(work, "nnstudio-explain"), partial(self._on_done, self._generation))

    def _on_done(self, generation: int, future) -> None:
        if generation != self._generation:
            return
        self.button.setEnabled(True)
        try:
            prediction, attribution = future.result()
        except Exception as exc:  # a method that does not apply (ExplainError) or any failure: one line, shown
            self.status.setText(f"<span style='color:#c62828'>{html.escape(str(exc), quote=False)}</span>")
            return
        self.show_attribution(prediction, attribution)

    def show_attribution(self, prediction, attribution) -> None:
        self.attribution = attribution
        title = METHODS[attribution.method].title
        target = attribution.target_name or attribution.target
        where = f" at {attribution.layer}" if attribution.layer else ""
        self.status.setText(f"{title} for output {target}{where}, sample {self.sample.value()}.")
        if prediction.classes:
            shown = ", ".join(f"{name} {p:.1%}" for name, p in prediction.classes[:TOP_K])
            self.answer.setText(f"The model says: {html.escape(shown)}")
        else:
            self.answer.setText("The model says: " + ", ".join(f"{v:.4g}" for v in prediction.output[:8]))
        if attribution.values.ndim >= 2:
            from nnstudio.training.explain.render import heatmap_png

            pixmap = QPixmap()
            pixmap.loadFromData(heatmap_png(attribution), "PNG")
            self.picture.setPixmap(pixmap)
            self.picture.setVisible(True)
            self.bars.setVisible(False)
        else:
            self.picture.clear()
            self.picture.setVisible(False)  # its stretch would push the bars to the bottom of the page
            self._draw_bars(attribution.features())

    def _draw_bars(self, rows: list[tuple[str, float]]) -> None:
        item = self.bars.getPlotItem()
        item.clear()
        values = np.array([value for _, value in rows], dtype=float)
        brushes = [pg.mkBrush("#c62828" if value >= 0 else "#1565c0") for value in values]
        item.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.7, brushes=brushes))
        item.getAxis("bottom").setTicks([[(i, name) for i, (name, _) in enumerate(rows)]])
        self.bars.setVisible(True)
