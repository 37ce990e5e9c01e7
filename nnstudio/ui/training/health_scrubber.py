"""The training workbench's Health row: the feed that turns a run's records into canvas badges, a time scrubber
that replays them, and the run's findings.

The feed reads the records the workbench shows (`Workbench.shown_records`: the live run's, growing, or a
finished run's from its history.json, as the Runs tab loads them) and keeps a HealthTracker over them. It is
one small subscriber to the session's `updated` signal: it takes only the new records, and redraws the
overlay at most OVERLAY_INTERVAL_MS apart, touching only the nodes whose health changed. With the scrubber at
its right end the overlay follows the run; dragged back, it shows the snapshot of that step.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from nnstudio.training.health_badges import HealthTracker, Level
from nnstudio.ui.editor.health_overlay import HealthOverlay

OVERLAY_INTERVAL_MS = 250  # at most 4 redraws a second: badges are read, not watched frame by frame
FINDINGS_SHOWN = 3


class HealthPanel(QWidget):
    """One row: "Health", the scrubber, where it is; the findings below it, when the run has any."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_health")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("training_health_scrubber")
        self.slider.setToolTip("Replay the run's health on the canvas (Design perspective, Ctrl+1; hover a badge "
                               "for what it means): drag back to see where it went wrong; at the right end the "
                               "badges follow the run")
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.where = QLabel("Health: no samples yet")
        self.where.setObjectName("training_health_where")
        self.where.setMinimumWidth(260)
        self.findings = QLabel("")
        self.findings.setObjectName("training_findings")
        self.findings.setWordWrap(True)
        self.findings.setStyleSheet("color: #b35c00;")
        self.findings.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Health"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.where)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.findings)

    def show_findings(self, findings: list[dict[str, Any]]) -> None:
        """The `finding:` lines of training.health, as `nnstudio train` prints them."""
        lines = [f"finding ({f.get('rule', '?')}, epoch {f.get('epoch', '?')}): {f.get('message', '')}"
                 for f in findings]
        self.findings.setVisible(bool(lines))
        shown = lines[:FINDINGS_SHOWN] + ([f"… and {len(lines) - FINDINGS_SHOWN} more"]
                                          if len(lines) > FINDINGS_SHOWN else [])
        self.findings.setText("\n".join(shown))
        self.findings.setToolTip("\n\n".join(lines))


class HealthFeed(QObject):
    """Records in, badges out; owned by the workbench."""

    def __init__(self, bench) -> None:
        super().__init__(bench)
        self.bench = bench
        self.overlay = HealthOverlay.of(bench.window.view)
        self.panel = HealthPanel()
        self.tracker = self._new_tracker()
        self._source: list[dict[str, Any]] | None = None
        self._consumed = 0
        self._changed: set[str] = set()
        self._shown_index = -1  # the timeline index on the canvas
        self._drawn_last = -1  # the timeline's last index at the previous redraw
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(OVERLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw)
        self.panel.slider.valueChanged.connect(self._on_scrub)
        bench.run_started.connect(self._on_run_started)
        bench.records_shown.connect(self.follow)

    def _new_tracker(self) -> HealthTracker:
        graph = self.bench.document.graph
        return HealthTracker({n.id: n.type for n in graph.nodes.values()},
                             {n.id: n.name for n in graph.nodes.values()})

    # --- records in --------------------------------------------------------------------------
    def follow(self, records: list[dict[str, Any]]) -> None:
        """Show these records (the workbench shows another run): a fresh tracker, the slider at the end."""
        if records is self._source:
            self.take_new()
            return
        self._source, self._consumed = records, 0
        self.tracker = self._new_tracker()
        self._shown_index = self._drawn_last = -1
        self._changed = set()
        self.overlay.clear()
        self.panel.slider.setRange(0, 0)
        self.take_new()
        self._redraw()

    def _on_run_started(self, session) -> None:
        session.updated.connect(lambda _update: self.take_new())
        session.finished.connect(lambda _outcome: self._redraw())  # the last samples, without waiting

    def take_new(self) -> None:
        """Ingest the records added to the shown list since the last call; redraw soon."""
        source = self._source
        if source is None or len(source) <= self._consumed:
            return
        new, self._consumed = source[self._consumed:], len(source)
        if not any(r.get("kind") in ("grads", "activations", "weights", "finding") for r in new):
            self.tracker.ingest(new)  # lr of step records: cheap, nothing to draw
            return
        self._changed |= self.tracker.ingest(new)
        if not self._timer.isActive():
            self._timer.start()

    # --- badges out --------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._timer.stop()
        timeline = self.tracker.timeline
        slider = self.panel.slider
        at_end = slider.value() >= slider.maximum()
        slider.blockSignals(True)
        slider.setRange(0, max(0, len(timeline) - 1))
        slider.setEnabled(len(timeline) > 1)
        if at_end:
            slider.setValue(slider.maximum())
        slider.blockSignals(False)
        self.panel.show_findings(self.tracker.findings)
        if at_end:  # only the nodes that changed since the canvas showed the previous end
            partial = self._shown_index == self._drawn_last and self._shown_index >= 0
            self._show(len(timeline) - 1, self._changed if partial else None)
        self._drawn_last = len(timeline) - 1
        self._changed = set()

    def _on_scrub(self, index: int) -> None:
        self._show(index, None)

    def _show(self, index: int, changed: set[str] | None) -> None:
        timeline = self.tracker.timeline
        if not timeline:
            self.panel.where.setText("Health: no samples yet")
            self.overlay.show(None)
            return
        index = max(0, min(index, len(timeline) - 1))
        snapshot = timeline[index]
        self.overlay.show(snapshot, changed)
        self._shown_index = index
        self.panel.where.setText(f"Health at step {snapshot.step} (epoch {snapshot.epoch}): "
                                 f"{self._state(snapshot)}")

    def _state(self, snapshot) -> str:
        """"2 bad (relu1, relu2), 1 to watch": the nodes to look at, by name, for the Train perspective, where
        the canvas is not on screen."""
        names = {level: [self.tracker.name(k) for k, h in snapshot.nodes.items() if h.level is level]
                 for level in (Level.BAD, Level.WATCH)}
        parts = [f"{len(found)} {word} ({', '.join(found[:3])}{', …' if len(found) > 3 else ''})"
                 for found, word in ((names[Level.BAD], "bad"), (names[Level.WATCH], "to watch")) if found]
        return ", ".join(parts) if parts else "all ok"
