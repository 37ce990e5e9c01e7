"""Changing a run while it trains, in the app: the learning-rate field, the Step button, the Inspector's live
Frozen box, and a marker on every plot at each change's step.

A live change is a run event (training/interventions.py), not a document edit: the document stays locked while
the run trains and its undo history is untouched. A change is checked on the GUI thread at once (a refusal is
shown as the run's message, or under the Frozen box), the training thread applies it at the next step boundary
(at once while paused), and it comes back as an "intervention" record that draws the markers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from nnstudio.ui.inspector.training_box import LIVE_RUNS, TrainingBox
from nnstudio.ui.training.marker import ChangeMarkers

if TYPE_CHECKING:
    from nnstudio.ui.training.session import RunSession
    from nnstudio.ui.training.workbench import Workbench

FREEZE_HINT = "Freeze a layer: select it on the canvas and tick Frozen in the Inspector."


def parse_lr(text: str) -> float:
    """The learning rate typed in the field; ValueError with the line to show when it is not one."""
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"Learning rate: expected a positive number such as 0.001, got {text.strip()!r}")
    return value


def _settings_lr(session: RunSession) -> float | None:
    """The learning rate the run's settings start from (its hint before the first sampled step)."""
    from nnstudio.training.settings import parse_settings

    try:
        return parse_settings(session.record.training)[0].optimizer.lr
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def change_events(records: list[dict]) -> list:
    """The live changes among a run's records (a damaged record is skipped)."""
    from nnstudio.training.interventions import RECORD_KIND, ChangeEvent

    events = []
    for record in records:
        if record.get("kind") == RECORD_KIND:
            try:
                events.append(ChangeEvent.from_record(record))
            except (ValueError, TypeError):
                continue
    return events


class LiveChangeBar(QWidget):
    """"Learning rate [field] Set", the last change, and how to freeze a layer; shown while a run trains."""

    lr_requested = Signal(float)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Learning rate")
        self.lr = QLineEdit()
        self.lr.setObjectName("training_live_lr")
        self.lr.setMaximumWidth(110)
        self.lr.setToolTip("A new learning rate for the running run, from its next step. A schedule keeps its "
                           "shape, scaled to the new rate. It is recorded with its step and replayed on resume.")
        self.apply = QPushButton("Set")
        self.apply.setObjectName("training_live_lr_set")
        self.last = QLabel()
        self.last.setObjectName("training_live_last")
        self.last.setTextFormat(Qt.TextFormat.PlainText)
        self.hint = QLabel(FREEZE_HINT)
        self.hint.setStyleSheet("color: #666;")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.lr, self.apply):
            row.addWidget(widget)
        row.addWidget(self.last, 1)
        row.addWidget(self.hint)
        self.apply.clicked.connect(self._submit)
        self.lr.returnPressed.connect(self._submit)
        self.set_active(False)

    def set_active(self, active: bool, current_lr: float | None = None) -> None:
        self.setVisible(active)
        for widget in (self.lr, self.apply):
            widget.setEnabled(active)
        if current_lr is not None:
            self.lr.setPlaceholderText(f"{current_lr:g}")

    def _submit(self) -> None:
        try:
            value = parse_lr(self.lr.text())
        except ValueError as exc:
            self.refused.emit(str(exc))
            return
        self.lr_requested.emit(value)


class LiveChanges(QObject):
    """The workbench's live-change tools; RunActions creates one."""

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.bench = bench
        self.bar = LiveChangeBar()
        bench.controls.layout().addWidget(self.bar)
        self.markers = ChangeMarkers(bench.plots)
        self._seen = 0  # records of the live session already looked at
        self._document = None  # whose Frozen boxes act on the run
        bench.controls.step_clicked.connect(self.step_once)
        bench.run_started.connect(self._on_run_started)
        self.bar.lr_requested.connect(self.set_lr)
        self.bar.refused.connect(lambda text: bench.controls.show_error(text))

    # --- the run's life ----------------------------------------------------------------------
    def _on_run_started(self, session: RunSession) -> None:
        self.markers.clear()
        self._seen = 0
        self.bar.last.setText("")
        session.started.connect(lambda _info, s=session: self._on_started(s))
        session.updated.connect(lambda _update, s=session: self._on_update(s))
        session.finished.connect(lambda _outcome, s=session: self._on_finished(s))

    def _on_started(self, session: RunSession) -> None:
        if session is not self.bench.session:
            return
        self._document = self.bench.document
        LIVE_RUNS[self._document] = session.worker  # frozen_nodes and post_frozen, for the Inspector
        self.bar.set_active(True, _settings_lr(session))
        self._refresh_boxes()

    def _on_finished(self, session: RunSession) -> None:
        if self._document is not None:
            LIVE_RUNS.pop(self._document, None)
            self._refresh_boxes()
            self._document = None
        self.bar.set_active(False)

    def _refresh_boxes(self) -> None:
        """The Inspector's Frozen box says whether a live run takes changes (and shows the live state)."""
        for box in self.bench.window.findChildren(TrainingBox):
            box.set_locked(box.locked)

    def _on_update(self, session: RunSession) -> None:
        records = session.records
        fresh, self._seen = records[self._seen:], len(records)
        if self.bench.plots.primary is not session.series:
            return  # the Runs tab shows another run; show_records redraws when this one is shown again
        for event in change_events(fresh):
            self.markers.add(event)
            self.bar.last.setText(f"Changed: {event.text()}")
        if session.series.has("step/lr"):  # the field's hint: the rate the run uses now
            hint = f"{session.series.get('step/lr').last():g}"
            if hint != self.bar.lr.placeholderText():
                self.bar.lr.setPlaceholderText(hint)

    def show_records(self, records: list[dict]) -> None:
        """The plots show a run (the Runs tab): mark its changes."""
        self.markers.show(change_events(records))
        session = self.bench.session
        if session is not None and records is session.records:
            self._seen = len(records)

    # --- what the user does ------------------------------------------------------------------
    def set_lr(self, lr: float) -> str | None:
        """Post a new learning rate to the running run; the refusal shown, or None."""
        bench = self.bench
        if not bench.is_training:
            return "no run is training"
        problem = bench.session.worker.post_lr(lr)
        if problem:
            bench.controls.show_error(f"Learning rate not changed: {problem}")
        else:
            bench.controls.show_error("")
            self.bar.last.setText(f"Learning rate {lr:g} from the next step…")
        return problem

    def set_frozen(self, node_id: str, frozen: bool) -> str | None:
        """Freeze or unfreeze a node of the running run (what the Inspector's Frozen box does while it trains)."""
        if not self.bench.is_training:
            return "no run is training"
        return self.bench.session.worker.post_frozen(node_id, frozen)

    def step_once(self) -> bool:
        """While paused: one more batch, whose numbers then show; False when the run is not paused."""
        session = self.bench.session
        if session is None or session.state != "paused":
            return False
        if session.worker.step_once():
            self.bench.controls.detail.setText("one step…")
            return True
        return False
