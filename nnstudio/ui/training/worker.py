"""One training run on a QThread: the Qt-free engine wrapped in a QObject that speaks in queued signals.

The worker lives in its own QThread. Everything the engine reports happens on that thread; handlers only
put things into a Coalescer and emit at most ~30 `update`s a second (queued to the GUI thread). Stop is
the engine's cooperative request_stop(), honoured at the next step boundary: the thread is never
terminated. Any exception, in preparing the data, compiling or training, comes back as a `finished`
outcome with a readable message and the traceback as details; the GUI thread never sees it raised.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.layers.registry import Registry
from nnstudio.ui.training.throttle import Coalescer, Progress, RateMeter

PROJECT_FILE = "project.nnstudio"
HISTORY_FILE = "history.json"


@dataclass
class RunRequest:
    """Everything a run needs, fixed at Train time: the project is a JSON snapshot, not the live one."""

    project_text: str
    registry: Registry
    base_dir: Path | None
    out_dir: Path
    resume_from: Path | None = None  # a checkpoint folder to continue (optimizer state included)
    initial_weights: Path | None = None  # start from these weights instead of a fresh initialisation
    boundary: bool = True


@dataclass
class RunStarted:
    """Sent once the data is loaded and the model compiled, just before the first step."""

    task: str
    kind: str
    num_classes: int | None
    class_names: list[str] | None
    epochs: int
    steps_per_epoch: int
    batch_size: int
    names: dict[str, str]
    points: Any = None  # (x [N, 2], labels [N]) training samples, for the decision boundary
    warnings: list[Diagnostic] = field(default_factory=list)
    weights_note: str = ""


@dataclass
class RunOutcome:
    status: str  # "finished", "stopped" or "failed"
    message: str
    node_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    best: dict[str, Any] | None = None
    checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    problems: list[Diagnostic] = field(default_factory=list)  # the project cannot be trained as it is
    details: str = ""  # a traceback, for the "details" part of an error dialog
    epochs: int = 0
    step: int = 0


class TrainingWorker(QObject):
    """Run `request` when `run()` is called on the worker's thread. Control methods work from any thread."""

    started = Signal(object)  # RunStarted
    update = Signal(object)  # throttle.Update
    state_changed = Signal(str)  # "paused" or "running"
    finished = Signal(object)  # RunOutcome; always the last signal

    def __init__(self, request: RunRequest) -> None:
        super().__init__()
        self.request = request
        self.trainer = None
        self.coalescer = Coalescer()
        self.rate = RateMeter()
        self._lock = threading.Lock()
        self._stop = False
        self._pause = False
        self._epochs = 1
        self._steps_per_epoch = 1
        self._batch_size = 1
        self._loss: float | None = None
        self.boundary_wanted = True  # set from the GUI thread: False while the boundary is not on screen
        self.canvas_wanted = False  # set from the GUI thread: the canvas is on screen (for the unit thumbnails)
        self._probe = None  # the run's BoundaryProbe, when it has a boundary to draw

    # --- control (any thread) --------------------------------------------------------------
    def request_stop(self) -> None:
        with self._lock:
            self._stop = True
            trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()

    def pause(self) -> None:
        with self._lock:
            self._pause = True
            trainer = self.trainer
        if trainer is not None:
            trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause = False
            trainer = self.trainer
        if trainer is not None:
            trainer.resume()

    # --- live changes (any thread; training/interventions.py checks and queues them) -----------
    def _interventions(self):
        with self._lock:
            return self.trainer.interventions if self.trainer is not None else None

    def post_lr(self, lr: float) -> str | None:
        """A new learning rate from the next step; the reason it cannot be, or None."""
        from nnstudio.training.interventions import NOT_STARTED

        live = self._interventions()
        return NOT_STARTED if live is None else live.post_lr(lr)

    def post_frozen(self, node_id: str, frozen: bool) -> str | None:
        from nnstudio.training.interventions import NOT_STARTED

        live = self._interventions()
        return NOT_STARTED if live is None else live.post_frozen(node_id, frozen)

    def frozen_nodes(self) -> set[str]:
        live = self._interventions()
        return live.frozen_nodes() if live is not None else set()

    def step_once(self) -> bool:
        """While paused: one more batch, then paused again (its statistics are sampled and sent)."""
        live = self._interventions()
        return live is not None and live.step_once()

    # --- the run (worker thread) -----------------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            outcome = self._run()
        except Exception as exc:  # a bug anywhere below must still end the run in an orderly way
            outcome = RunOutcome("failed", f"{type(exc).__name__}: {exc}", details=traceback.format_exc())
        self._flush()
        self.finished.emit(outcome)
        QThread.currentThread().quit()  # end the thread's event loop even if the GUI thread is blocked waiting

    def _run(self) -> RunOutcome:
        from nnstudio.training.threads import configure_torch

        configure_torch()  # threads chosen to leave the GUI a core; preloads torch._dynamo off the GUI thread
        from nnstudio.io import ProjectFileError, loads, save
        from nnstudio.training import CheckpointError, TrainingInputError, load_checkpoint, prepare
        from nnstudio.training.recipes import create_trainer

        request = self.request
        try:
            project = loads(request.project_text, request.registry)
            job = prepare(project, request.base_dir)
        except TrainingInputError as exc:
            return RunOutcome("failed", str(exc), problems=list(exc.problems),
                              node_id=next((p.node_id for p in exc.problems if p.node_id), None))
        except ProjectFileError as exc:
            return RunOutcome("failed", f"the project snapshot could not be read: {exc}")
        note = self._initial_weights(job)
        trainer = create_trainer(job, request.out_dir, writer=lambda folder: save(project, folder / PROJECT_FILE))
        if request.resume_from is not None:
            try:
                trainer.restore(load_checkpoint(request.resume_from))
            except CheckpointError as exc:
                return RunOutcome("failed", f"cannot resume: {exc}")
        self._attach(trainer, job)
        self.started.emit(self._describe(trainer, job, note))
        result = trainer.run()
        if self._probe is not None:  # the trained model's regions, even if no one watched the boundary tab
            with contextlib.suppress(RuntimeError, ValueError):  # a diverged model draws no regions
                self.coalescer.set_boundary(self._probe.compute(trainer.state.step))
        with contextlib.suppress(OSError, ValueError):  # the checkpoints hold a copy of the history too
            trainer.history.save(request.out_dir / HISTORY_FILE)
        return RunOutcome(result.status.value, result.message, result.node_id, dict(result.metrics), result.best,
                          result.checkpoint, result.best_checkpoint, epochs=result.epochs, step=result.step)

    def _initial_weights(self, job) -> str:
        """Load the requested starting weights leniently; returns a note on what matched."""
        if self.request.initial_weights is None or self.request.resume_from is not None:
            return ""
        from nnstudio.io.importing.weights import apply_weights

        report = apply_weights(job.compiled, self.request.initial_weights, strict=False)
        return "started from the loaded weights" + ("" if report.ok else f" ({report.describe(4)})")

    def _attach(self, trainer, job) -> None:
        from nnstudio.training import Event
        from nnstudio.training.factories import decision_threshold
        from nnstudio.ui.training.boundary import BoundaryProbe, supports_boundary

        trainer.setup()
        self._epochs, self._steps_per_epoch = trainer.settings.epochs, trainer.steps_per_epoch
        self._batch_size = trainer.settings.batch_size
        for record in trainer.history.records():  # a resumed run's earlier curves
            self.coalescer.add_record(record)
        trainer.history.subscribe(self._on_record)
        trainer.on(Event.STEP, self._on_step)
        trainer.on(Event.EPOCH_ENDED, self._on_step)  # epoch records go out with the next due update
        trainer.on(Event.PAUSED, self._on_paused)
        trainer.on(Event.RESUMED, self._on_resumed)
        if self.request.boundary and supports_boundary(job):
            probe = BoundaryProbe(job, trainer.device, decision_threshold(trainer.settings.loss, job.task))
            every = max(1, min(10, trainer.steps_per_epoch // 4))
            trainer.on(Event.STEP, lambda info: self._on_boundary(probe, info.step), every=every)
            self.coalescer.set_boundary(probe.compute(trainer.state.step))
            self._probe = probe
        with self._lock:
            self.trainer = trainer
            stop, pause = self._stop, self._pause
        if pause:
            trainer.pause()
        if stop:
            trainer.request_stop()

    def _describe(self, trainer, job, note: str) -> RunStarted:
        from nnstudio.ui.training.boundary import supports_boundary

        data = job.data
        points = None
        if supports_boundary(job):
            points = (data.train.x.numpy(), data.train.y.numpy().reshape(-1).round().astype(int))
        return RunStarted(job.task, data.kind, data.num_classes, data.class_names, trainer.settings.epochs,
                          trainer.steps_per_epoch, trainer.settings.batch_size, dict(job.names), points,
                          list(job.warnings), note)

    # --- engine handlers (worker thread) ---------------------------------------------------
    def _on_record(self, record: dict[str, Any]) -> None:
        if record.get("kind") == "step" and isinstance(record.get("loss"), (int, float)):
            self._loss = float(record["loss"])
        self.coalescer.add_record(record)
        if record.get("kind") == "intervention":  # a live change shows at once, also while paused
            self._flush()

    def _on_step(self, info) -> None:
        if not self.coalescer.due():
            return
        self._flush(info.epoch, info.step)

    def _on_boundary(self, probe, step: int) -> None:
        # the canvas alone asks for grids only when it has unit thumbnails to show (small hidden layers)
        if (self.boundary_wanted or (self.canvas_wanted and probe.units)) and probe.due():
            self.coalescer.set_boundary(probe.compute(step))

    def _on_paused(self, info) -> None:
        self._flush(info.epoch, info.step)
        self.rate.reset()
        self.state_changed.emit("paused")

    def _on_resumed(self, info) -> None:
        self.state_changed.emit("running")

    def _flush(self, epoch: int | None = None, step: int | None = None) -> None:
        if step is not None:
            self.rate.mark(step)
            self.coalescer.set_progress(self._progress(epoch or 0, step))
        update = self.coalescer.take()
        if update is not None:
            self.update.emit(update)

    def _progress(self, epoch: int, step: int) -> Progress:
        total = self._epochs * self._steps_per_epoch
        rate = self.rate.steps_per_second()
        samples = rate * self._batch_size if rate else None
        eta = (total - step) / rate if rate else None
        return Progress(epoch, self._epochs, step, total, samples, eta, self._loss)
