"""RunSession: one run's QThread and worker, seen from the GUI thread.

The session owns the thread for the whole run and re-emits the worker's queued signals on the GUI
thread. It also keeps the GUI-side copy of the run's curves (RunSeries) and records. The thread is
only ever ended by the worker returning (after a cooperative stop, a failure or the last epoch), never
by QThread.terminate().
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from nnstudio.ui.plots.series import RunSeries
from nnstudio.ui.runs import RunRecord, RunStore
from nnstudio.ui.training.throttle import Update
from nnstudio.ui.training.worker import RunOutcome, RunRequest, TrainingWorker


class RunSession(QObject):
    started = Signal(object)  # RunStarted
    updated = Signal(object)  # Update, after the series took its records
    state_changed = Signal(str)  # "paused", "running"
    finished = Signal(object)  # RunOutcome
    closed = Signal()  # the thread has ended

    def __init__(self, request: RunRequest, record: RunRecord, store: RunStore, title: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.record = record
        self.store = store
        self.title = title  # what the run trains, e.g. "Run 4 of “Spirals MLP”"
        self.series = RunSeries()
        self.records: list[dict[str, Any]] = []
        self.state = "preparing"
        self.outcome: RunOutcome | None = None
        self.info = None  # RunStarted, once sent
        self.thread = QThread()
        self.thread.setObjectName(f"nnstudio-train-{record.number}")
        self.worker = TrainingWorker(request)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.started.connect(self._on_started)
        self.worker.update.connect(self._on_update)
        self.worker.state_changed.connect(self._on_state)
        self.worker.finished.connect(self._on_finished)
        self.thread.finished.connect(self._on_thread_finished)

    # --- control ---------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def pause(self) -> None:
        if self.state in ("preparing", "running"):
            self.state = "pausing"
            self.worker.pause()

    def resume(self) -> None:
        if self.state in ("paused", "pausing"):
            self.state = "running"
            self.worker.resume()

    def stop(self) -> None:
        if self.outcome is None:
            self.state = "stopping"
            self.worker.request_stop()
            self.worker.resume()  # a paused run must wake up to notice the stop

    @property
    def active(self) -> bool:
        return self.outcome is None

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the thread has ended (used when the window closes)."""
        return self.thread.wait(milliseconds)

    # --- from the worker (queued to the GUI thread) ----------------------------------------
    def _on_started(self, info) -> None:
        self.info = info
        if self.state == "preparing":
            self.state = "running"
        self.started.emit(info)

    def _on_update(self, update: Update) -> None:
        if update.records:
            self.records.extend(update.records)
            self.series.ingest(update.records)
        self.updated.emit(update)

    def _on_state(self, state: str) -> None:
        if self.outcome is not None or (self.state == "stopping" and state != "stopped"):
            return
        self.state = state
        self.state_changed.emit(state)

    def _on_finished(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self.state = outcome.status
        self.thread.quit()
        self.finished.emit(outcome)

    def _on_thread_finished(self) -> None:
        self.worker.deleteLater()
        self.closed.emit()
