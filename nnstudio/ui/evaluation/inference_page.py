"""The Evaluation view's Inference page: try one sample and see the answer and every layer's output for it.

The sample is one of a split (any of train, val, test, by index) or the user's own: drawn on a canvas for an
image Input, typed per column for a table, typed as token ids for a sequence. Building the sample is quick and
stays on the GUI thread, so a bad value is named at once in the status line; the forward pass with every
layer recorded (training/layer_outputs.py) runs on a worker thread (ui/background.py), and a newer request
supersedes an older one still running. It reads the same job as the Projector and Explain pages.
"""

from __future__ import annotations

import html
from functools import partial

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio.training.inference import InferenceError, field_names, split_sample
from nnstudio.training.layer_outputs import SampleOutputs, sample_outputs
from nnstudio.training.sample_input import (
    drawn_sample,
    editor_for,
    split_row,
    token_sample,
    typed_sample,
    value_range,
    vocabulary,
)
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.evaluation.images import sample_image, to_pixmap
from nnstudio.ui.evaluation.inference_canvas import DrawingPanel
from nnstudio.ui.evaluation.inference_layers import AnswerView, LayerOutputsView

EDITOR_TITLES = {"split": "A sample from a split", "draw": "Draw it", "values": "Type the values",
                 "tokens": "Type token ids"}
PAGES = ("split", "draw", "values", "tokens")  # the editor stack's pages, in order
PREVIEW = 96
LEFT_WIDTH = 360
ERROR = "<span style='color:#c62828'>{}</span>"


class ValuesForm(QWidget):
    """One field per input column, named by the dataset's columns, and a line to paste a whole CSV row into."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paste = QLineEdit()
        self.paste.setPlaceholderText("paste a CSV row to fill the fields")
        self.paste.editingFinished.connect(self._pasted)
        self.form = QFormLayout()
        holder = QWidget()
        holder.setLayout(self.form)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setWidget(holder)
        self.area.setMinimumHeight(160)
        self.fields: list[QLineEdit] = []
        self.names: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.paste)
        layout.addWidget(self.area)
        self.pasted_count: int | None = None  # cells of the last paste, when it did not fit the fields

    def set_columns(self, names: list[str], ranges: list[tuple[float, float]]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields, self.names = [], list(names)
        for name, (lo, hi) in zip(names, ranges):
            edit = QLineEdit()
            edit.setPlaceholderText(f"{lo:.3g} … {hi:.3g}")
            edit.setToolTip(f"{name}: the training data run from {lo:.4g} to {hi:.4g} (as the model sees them)")
            self.fields.append(edit)
            self.form.addRow(name[:24], edit)

    def fill(self, values: np.ndarray) -> None:
        for edit, value in zip(self.fields, values.reshape(-1)):
            edit.setText(f"{float(value):.4g}")

    def cells(self) -> list[str]:
        return [edit.text() for edit in self.fields]

    def _pasted(self) -> None:
        cells = split_row(self.paste.text())
        self.pasted_count = None
        if len(cells) == len(self.fields):
            for edit, cell in zip(self.fields, cells):
                edit.setText(cell)
        elif cells:
            self.pasted_count = len(cells)


class InferencePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QComboBox()
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.split = QComboBox()
        self.split.currentIndexChanged.connect(self._split_changed)
        self.index = QSpinBox()
        self.index.setToolTip("the sample's position in the split")
        self.index.valueChanged.connect(self._index_changed)
        self.drawing = DrawingPanel()
        self.drawing.canvas.stroke_done.connect(self._stroke_done)
        self.values = ValuesForm()
        self.tokens = QLineEdit()
        self.tokens.returnPressed.connect(self.request)
        self.tokens_hint = QLabel()
        self.tokens_hint.setWordWrap(True)
        self.editors = QStackedWidget()
        tokens_page = QWidget()
        tokens_layout = QVBoxLayout(tokens_page)
        tokens_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.tokens, self.tokens_hint):
            tokens_layout.addWidget(widget)
        tokens_layout.addStretch(1)
        for widget in (QWidget(), self.drawing, self.values, tokens_page):
            self.editors.addWidget(widget)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("run the sample through the model")
        self.run_button.clicked.connect(self.request)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview_title = QLabel()
        self.preview_title.setWordWrap(True)
        self.status = QLabel("Evaluate a run to try its model on one sample.")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.answer = AnswerView()
        self.layers = LayerOutputsView()
        self.layers_area = QScrollArea()
        self.layers_area.setWidgetResizable(True)
        self.layers_area.setWidget(self.layers)
        self._lay_out()
        self._poller = FuturePoller(self)
        self._generation = 0
        self.source = None
        self.job = None
        self.outputs: SampleOutputs | None = None
        self.sample: torch.Tensor | None = None

    def _lay_out(self) -> None:
        choose = QGridLayout()
        choose.addWidget(QLabel("Input"), 0, 0)
        choose.addWidget(self.mode, 0, 1, 1, 3)
        choose.addWidget(QLabel("Split"), 1, 0)
        choose.addWidget(self.split, 1, 1)
        choose.addWidget(QLabel("Sample"), 1, 2)
        choose.addWidget(self.index, 1, 3)
        left = QVBoxLayout()
        left.addLayout(choose)
        left.addWidget(self.editors)
        fed = QVBoxLayout()
        fed.addWidget(self.preview_title)
        fed.addWidget(self.answer.text)
        fed.addWidget(self.run_button)
        fed.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.preview)
        row.addLayout(fed, 1)
        left.addLayout(row)
        left.addWidget(self.status)
        left.addWidget(self.answer.plot)
        left.addStretch(1)
        column = QWidget()
        column.setLayout(left)
        column_area = QScrollArea()  # a small window scrolls this column, and the layers apart from it
        column_area.setWidgetResizable(True)
        column_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column_area.setFrameShape(QScrollArea.Shape.NoFrame)
        column_area.setWidget(column)
        column_area.setFixedWidth(LEFT_WIDTH)
        layout = QHBoxLayout(self)
        layout.addWidget(column_area)
        layout.addWidget(self.layers_area, 1)

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def set_source(self, source, split: str | None = None) -> None:
        """A new evaluation (a ProjectorSource): offer its splits and the editor its Input suits; run sample 0."""
        self.source, self.job, self.outputs = source, source.job, None
        self._generation += 1
        job = source.job
        splits = job.data.splits()
        for combo in (self.mode, self.split):
            combo.blockSignals(True)
            combo.clear()
        self.mode.addItem(EDITOR_TITLES["split"], "split")
        editor = editor_for(job)
        self.mode.addItem(EDITOR_TITLES[editor], editor)
        for name, chosen in splits.items():
            self.split.addItem(f"{name} ({len(chosen)})", name)
        self.split.setCurrentIndex(max(0, self.split.findData(split if split in splits else list(splits)[-1])))
        for combo in (self.mode, self.split):
            combo.blockSignals(False)
        self._set_range()
        self._prepare_editor(editor)
        self.drawing.canvas.image.fill(0)
        self.drawing.canvas.update()
        self.layers.clear()
        self._mode_changed()

    def _prepare_editor(self, editor: str) -> None:
        job = self.job
        if editor == "values":
            x = job.data.train.x.reshape(len(job.data.train.x), -1)
            ranges = list(zip(x.min(0).values.tolist(), x.max(0).values.tolist())) if len(x) else []
            self.values.set_columns(field_names(job), ranges or [(0.0, 0.0)] * len(field_names(job)))
        elif editor == "tokens":
            size, owner = vocabulary(job)
            count = int(np.prod(job.data.input_shape))
            text = "the text itself (it is tokenised with the training vocabulary), or " \
                if getattr(job.data, "vocabulary", None) is not None else ""
            self.tokens_hint.setText(f"Type {text}{count} whole numbers separated by spaces or commas"
                                     + (f" from 0 to {size - 1}; {owner}" if size else ""))

    def _set_range(self) -> None:
        chosen = self.job.data.splits()[self.split.currentData()]
        self.index.blockSignals(True)
        self.index.setRange(0, max(0, len(chosen) - 1))
        self.index.blockSignals(False)

    @property
    def current_mode(self) -> str:
        return self.mode.currentData() or "split"

    def _mode_changed(self) -> None:
        if self.job is None:
            return
        mode = self.current_mode
        self.editors.setCurrentIndex(PAGES.index(mode))
        for index in range(self.editors.count()):  # the stack as tall as its current page, not its tallest
            policy = QSizePolicy.Policy.Preferred if index == PAGES.index(mode) else QSizePolicy.Policy.Ignored
            self.editors.widget(index).setSizePolicy(policy, policy)
        self.editors.adjustSize()
        if mode in ("values", "tokens"):
            self._fill_from_split()  # start from a real sample, to edit
        if mode == "draw" and self.drawing.canvas.is_blank():
            self._clear_outputs("Draw a sample on the canvas; each stroke is run through the model.")
            return
        self.request()

    def _split_changed(self) -> None:
        if self.job is not None:
            self._set_range()
            self._index_changed()

    def _index_changed(self) -> None:
        if self.current_mode == "split":
            self.request()
        elif self.current_mode in ("values", "tokens"):
            self._fill_from_split()

    def _fill_from_split(self) -> None:
        try:
            x = split_sample(self.job, self.index.value(), self.split.currentData())[0]
        except InferenceError as exc:  # an empty split: nothing to start from
            self.status.setText(ERROR.format(html.escape(str(exc), quote=False)))
            return
        if self.current_mode == "values":
            self.values.fill(x.numpy())
        else:
            self.tokens.setText(" ".join(str(int(v)) for v in x.reshape(-1).tolist()))

    def _stroke_done(self) -> None:
        if self.current_mode != "draw":
            return
        if self.drawing.canvas.is_blank():
            self._clear_outputs("The canvas is blank: draw a sample.")
            return
        self.request()

    def _clear_outputs(self, message: str) -> None:
        self._generation += 1
        self.outputs = None
        self.status.setText(html.escape(message, quote=False))
        self.layers.clear()
        self.answer.text.clear()
        self.answer.plot.setVisible(False)
        self.preview.clear()
        self.preview_title.clear()

    def make_sample(self) -> tuple[torch.Tensor, str]:
        """The sample the controls describe, and a note on it; InferenceError names what is wrong."""
        mode, job = self.current_mode, self.job
        if mode == "draw":
            return drawn_sample(job, self.drawing.canvas.ink())
        if mode == "values":
            if self.values.pasted_count is not None:
                raise InferenceError(f"pasted row: {self.values.pasted_count} value(s), but the Input takes "
                                     f"{len(self.values.fields)} ({', '.join(self.values.names[:12])})")
            return typed_sample(job, self.values.cells()), "typed values"
        if mode == "tokens":
            return token_sample(job, self.tokens.text()), "typed token ids"
        split = self.split.currentData()
        return split_sample(job, self.index.value(), split), f"sample {self.index.value()} of the {split} split"

    def request(self) -> None:
        """Build the sample here (errors at once), then run it off the GUI thread; `outputs` follows."""
        if self.job is None:
            return
        try:
            sample, note = self.make_sample()
        except InferenceError as exc:
            self._clear_outputs("")  # no stale answer beside the error; one still on its way is dropped
            self.status.setText(ERROR.format(html.escape(str(exc), quote=False)))
            return
        self.sample = sample
        self._show_input(sample)
        self._generation += 1
        self.status.setText(html.escape(f"Running {note}…", quote=False))
        work = partial(sample_outputs, self.job, sample)
        self._poller.watch(start_thread(work, "nnstudio-inference"), partial(self._on_done, self._generation, note))

    def _show_input(self, sample: torch.Tensor) -> None:
        x = sample[0].numpy()
        image = sample_image(x, value_range(self.job)) if editor_for(self.job) == "draw" else None
        shape = "×".join(str(s) for s in x.shape)
        self.preview_title.setText(f"Input as the model sees it ({shape})")
        if image is not None:
            self.preview.setPixmap(to_pixmap(image, PREVIEW))
            return
        names = field_names(self.job)
        flat = x.reshape(-1)
        if editor_for(self.job) == "tokens":
            text = " ".join(str(int(v)) for v in flat[:64])
        else:
            text = ", ".join(f"{n} {float(v):.3g}" for n, v in zip(names[:12], flat[:12]))
        self.preview.setText(text + (" …" if flat.size > (64 if editor_for(self.job) == "tokens" else 12) else ""))

    def _on_done(self, generation: int, note: str, future) -> None:
        if generation != self._generation:
            return
        try:
            outputs = future.result()
        except Exception as exc:  # a model that fails on this sample: one line, shown; the app carries on
            self.status.setText(ERROR.format(html.escape(f"{type(exc).__name__}: {exc}", quote=False)))
            return
        self.show_outputs(outputs, note)

    def show_outputs(self, outputs: SampleOutputs, note: str) -> None:
        self.outputs = outputs
        self.answer.show_prediction(outputs.prediction)
        self.layers.show_outputs(outputs.layers, outputs.attention)
        text = note[:1].upper() + note[1:] + "."
        if not outputs.prediction.classes:
            text += f" This model does not classify (task: {outputs.prediction.task}): its output values are shown."
        self.status.setText(html.escape(text, quote=False))
