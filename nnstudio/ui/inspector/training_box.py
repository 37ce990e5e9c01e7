"""The node page's Training section: freeze a layer, let its batch-norm statistics update, scale its learning rate.

It is a ParamForm over three ParamSpecs, so values are checked and refused like any param; each accepted
change is one SetNodeTrainingCommand (learning-rate steps of one spin-box drag merge into one undo step).
Editors that cannot apply are disabled with the reason in their tooltip: statistics only matter for a frozen
layer with batch norm, and a frozen layer gets no updates, so its learning-rate scale has no effect.

While a run trains the document is locked, but the Frozen box stays live when the run can take changes
(LIVE_RUNS has an entry for the document): ticking it freezes the layer in the running run from its next step,
as a run event (training/interventions.py), never a document edit, so Undo and the project are untouched.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import Any, Protocol

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nnstudio.layers.params import ParamKind, ParamSpec
from nnstudio.layers.spec import LayerSpec
from nnstudio.model.graph import NodeTraining
from nnstudio.ui.commands import SetNodeTrainingCommand
from nnstudio.ui.document import Document
from nnstudio.ui.inspector.form import ParamForm

LR_SCALE_MAX = 1e6
TRAINING_SPECS = (
    ParamSpec("frozen", ParamKind.BOOL, False, "Keep this layer's weights as they are: the trainer gives them no "
              "updates (e.g. a pretrained backbone, or a distillation teacher)."),
    ParamSpec("update_stats", ParamKind.BOOL, False, "Let a frozen layer's batch-norm running mean and variance "
              "follow the new data while training; off keeps them as loaded.", label="Update batch-norm statistics"),
    ParamSpec("lr_scale", ParamKind.FLOAT, 1.0, "Multiplies the optimizer's learning rate for this layer's "
              "weights: 0.1 fine-tunes it gently, 1 trains it like the rest.", 0.0, LR_SCALE_MAX,
              label="Learning-rate scale"),
)
NEEDS_FROZEN = "Only a frozen layer keeps its statistics fixed; freeze it first."
NO_BATCH_NORM = "This layer has no batch norm, so it has no running statistics."
FROZEN_LR = "A frozen layer gets no updates, so its learning-rate scale has no effect."
LOCKED_TEXT = "training is running; stop it to change how this layer trains"
LIVE_TIP = ("While the run trains, this freezes or unfreezes the layer in the run only, from its next step (a "
            "marker on the plots shows where); the project keeps its own setting.")


class LiveFreeze(Protocol):
    """A run that can freeze and unfreeze nodes while it trains (ui/training/live_changes.py)."""

    def frozen_nodes(self) -> set[str]: ...

    def post_frozen(self, node_id: str, frozen: bool) -> str | None: ...


LIVE_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Document -> LiveFreeze while its run trains


def has_batch_norm(spec: LayerSpec | None) -> bool:
    """Whether a layer keeps batch-norm running statistics (BatchNorm1d, BatchNorm2d, a plugin's BatchNorm3d)."""
    return spec is not None and "BatchNorm" in spec.type


def shows_training(spec: LayerSpec | None) -> bool:
    """Layers with weights (norm layers included) are the ones a trainer can freeze or slow down."""
    return spec is not None and spec.has_weights


class TrainingBox(QWidget):
    """Frozen, update-statistics and learning-rate scale for one node; follows `refresh` on graph signals."""

    def __init__(self, document: Document, node_id: str, spec: LayerSpec | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id = node_id
        self.batch_norm = has_batch_norm(spec)
        self.locked = False
        self.form = ParamForm(TRAINING_SPECS, _values(document.graph.nodes[node_id].training), self._change)
        self.form.setObjectName("node_training")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: gray;")
        layout.addWidget(self.note)
        self._update_enabled()

    @property
    def training(self) -> NodeTraining:
        return self.document.graph.nodes[self.node_id].training

    @property
    def live(self) -> LiveFreeze | None:
        return LIVE_RUNS.get(self.document) if self.locked else None

    def _change(self, name: str, value: Any) -> str | None:
        if self.locked and name == "frozen" and self.live is not None:
            problem = self.live.post_frozen(self.node_id, bool(value))
            if problem is None:
                self._update_enabled(live_frozen=bool(value))
            return problem
        if self.locked:
            return LOCKED_TEXT
        if self.node_id not in self.document.graph.nodes:
            return "this node is no longer in the graph"
        new = replace(self.training, **{name: value})
        if new != self.training:
            self.document.push(SetNodeTrainingCommand(self.document, self.node_id, new))
        return None

    def refresh(self, training: NodeTraining) -> None:
        """Show settings changed elsewhere (undo, redo, a file load, a live change); never pushes a command."""
        values = _values(training)
        live = self.live
        live_frozen = live is not None and self.node_id in live.frozen_nodes()
        values["frozen"] = training.frozen or live_frozen
        self.form.set_values(values)
        self._update_enabled(live_frozen)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.refresh(self.training)

    def _update_enabled(self, live_frozen: bool = False) -> None:
        training = self.training
        stats, lr = self.form.editor("update_stats"), self.form.editor("lr_scale")
        self.form.editor("frozen").setEnabled(not self.locked or self.live is not None)
        self.form.editor("frozen").setToolTip(LIVE_TIP if self.live is not None else TRAINING_SPECS[0].doc)
        stats.setEnabled(not self.locked and training.frozen and self.batch_norm)
        stats.setToolTip(TRAINING_SPECS[1].doc if self.batch_norm and training.frozen
                         else NEEDS_FROZEN if self.batch_norm else NO_BATCH_NORM)
        lr.setEnabled(not self.locked and not training.frozen)
        lr.setToolTip(FROZEN_LR if training.frozen else TRAINING_SPECS[2].doc)
        self.note.setText("❄ Frozen in this run from its next step (a live change; the project is unchanged)."
                          if live_frozen and not training.frozen else _note(training))
        self.note.setVisible(bool(self.note.text()))


def _values(training: NodeTraining) -> dict[str, Any]:
    return {"frozen": training.frozen, "update_stats": training.update_stats, "lr_scale": training.lr_scale}


def _note(training: NodeTraining) -> str:
    if training.frozen:
        return "❄ Frozen: training leaves these weights as they are."
    if training.lr_scale != 1.0:
        return f"Learns at {training.lr_scale:g} × the optimizer's learning rate."
    return ""
