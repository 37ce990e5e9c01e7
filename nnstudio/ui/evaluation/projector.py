"""The Evaluation view's Projector page: any node's output over the split, by PCA or t-SNE, coloured by class.

The numbers come from training/embedding.py, on a worker thread (ui/background.py: the thread only fills a
future, and a poller hands it back on the GUI thread), so a t-SNE of 2,000 samples never freezes the window.
A newer request supersedes an older one still running: its answer is dropped. Hovering a point names its
sample (its index in the split, true and predicted class) and, for image inputs, shows it as a thumbnail.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from nnstudio.training.embedding import METHODS, Embedding, node_embedding
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.evaluation.images import sample_image, to_pixmap
from nnstudio.ui.plots.base import add_legend_row, colour, configure_plot
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT, make_readable

THUMBNAIL = 64
UNLABELLED = "#1f77b4"


@dataclass
class ProjectorSource:
    """What a projection needs: the run's prepared job (its weights loaded) and the split it was scored on."""

    job: object
    x: torch.Tensor
    y: torch.Tensor | None
    nodes: list[tuple[str, str]]  # (node id, node name), in the graph's order
    class_names: list[str] | None = None
    seed: int = 0
    cache: dict[tuple[str, str], Embedding] = field(default_factory=dict)

    def embed(self, node: str, method: str) -> Embedding:
        key = (node, method)
        if key not in self.cache:
            self.cache[key] = node_embedding(self.job, node, self.x, self.y, method, seed=self.seed)
        return self.cache[key]

    def class_name(self, index: int) -> str:
        if self.class_names and 0 <= index < len(self.class_names):
            return str(self.class_names[index])
        return str(index)


def thumbnail_html(x: np.ndarray) -> str:
    """An <img> of an image sample for a rich-text tooltip; '' for a sample that is no image."""
    image = sample_image(x)
    if image is None:
        return ""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    to_pixmap(image, THUMBNAIL).save(buffer, "PNG")
    return f"<br><img src='data:image/png;base64,{base64.b64encode(bytes(data)).decode()}'>"


class ProjectorPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node = QComboBox()
        self.node.setToolTip("the node whose output is projected, one point per sample")
        self.method = QComboBox()
        for key, name in METHODS.items():
            self.method.addItem(name, key)
        self.project_button = QPushButton("Project")
        self.project_button.clicked.connect(self.request)
        self.status = QLabel("Pick a node and press Project.")
        self.status.setWordWrap(True)
        self.hovered = QLabel()
        self.plot = pg.PlotWidget()
        configure_plot(self.plot.getPlotItem(), "Embedding", "component 1", "component 2")
        self.legend = add_legend_row(self.plot.getPlotItem())
        make_readable(self.plot, MIN_PLOT_HEIGHT + 150)
        controls = QHBoxLayout()
        for label, widget in (("Node", self.node), ("Projection", self.method)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.project_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hovered)
        self._poller = FuturePoller(self)
        self._generation = 0
        self.source: ProjectorSource | None = None
        self.embedding: Embedding | None = None
        self.scatters: list[pg.ScatterPlotItem] = []

    def set_source(self, source: ProjectorSource) -> None:
        """A new evaluation: offer its nodes (the last hidden layer first, the usual choice) and clear the plot."""
        self.source, self.embedding = source, None
        self._generation += 1  # an answer for the previous run is not this run's
        self.node.clear()
        for node_id, name in source.nodes:
            self.node.addItem(name, node_id)
        self.node.setCurrentIndex(max(0, len(source.nodes) - 2))
        self._clear_plot()
        self.project_button.setEnabled(bool(source.nodes))
        self.status.setText(
            "Pick a node and a projection, and press Project."
            if source.nodes
            else "This model has no layer whose output can be projected."
        )

    def request(self) -> None:
        """Project the chosen node off the GUI thread; `embedding` and the plot follow."""
        if self.source is None or self.node.currentData() is None:
            return
        node, method = self.node.currentData(), self.method.currentData()
        self._generation += 1
        self.project_button.setEnabled(False)
        self.status.setText(f"Computing {METHODS[method]} of '{self.node.currentText()}'…")
        future = start_thread(partial(self.source.embed, node, method), "nnstudio-projector")
        self._poller.watch(future, partial(self._on_done, self._generation))

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def _on_done(self, generation: int, future) -> None:
        if generation != self._generation:
            return
        self.project_button.setEnabled(True)
        try:
            embedding = future.result()
        except (ValueError, ImportError) as exc:  # a node without a per-sample output; no scikit-learn
            self.status.setText(f"<span style='color:#c62828'>{html.escape(str(exc), quote=False)}</span>")
            return
        except Exception as exc:  # shown to the user; the app carries on
            self.status.setText(
                f"<span style='color:#c62828'>{html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc), quote=False)}</span>"
            )
            return
        self.show_embedding(embedding)

    def _clear_plot(self) -> None:
        item = self.plot.getPlotItem()
        for scatter in self.scatters:
            item.removeItem(scatter)
        self.legend.clear()
        self.scatters = []
        self.hovered.clear()

    def show_embedding(self, embedding: Embedding) -> None:
        self.embedding = embedding
        self._clear_plot()
        self.status.setText(embedding.describe() + ". Hover a point to see its sample.")
        item = self.plot.getPlotItem()
        groups = np.unique(embedding.truth) if embedding.truth is not None else [None]
        for group in groups:
            rows = np.flatnonzero(embedding.truth == group) if group is not None else np.arange(len(embedding.points))
            name = self.source.class_name(int(group)) if group is not None and self.source else "samples"
            pen_colour = colour(int(group)) if group is not None else UNLABELLED
            scatter = pg.ScatterPlotItem(
                embedding.points[rows, 0],
                embedding.points[rows, 1],
                data=rows,
                size=6,
                pen=None,
                brush=pg.mkBrush(pen_colour),
                name=name,
                hoverable=True,
                hoverSize=10,
                tip=self._tip,
            )
            scatter.sigHovered.connect(self._on_hovered)
            item.addItem(scatter)
            self.scatters.append(scatter)
        item.autoRange()

    def describe(self, row: int) -> str:
        """'sample 12: true 3, predicted 8' for the embedding's row `row`."""
        e = self.embedding
        text = f"sample {int(e.indices[row])}"
        if e.truth is not None and self.source is not None:
            text += f": true {self.source.class_name(int(e.truth[row]))}"
            if e.predicted is not None:
                text += f", predicted {self.source.class_name(int(e.predicted[row]))}"
        return text

    def _tip(self, x: float, y: float, data: object) -> str:
        row = int(data)
        picture = thumbnail_html(self.source.x[int(self.embedding.indices[row])].numpy()) if self.source else ""
        return f"<qt>{html.escape(self.describe(row))}{picture}</qt>"

    def _on_hovered(self, _scatter, points, _event) -> None:
        if len(points):
            self.hovered.setText(self.describe(int(points[0].data())))
