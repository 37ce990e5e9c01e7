"""The training engine: a Qt-free loop that reports through events and obeys stop/pause between steps.

Fast path: the training set lives on the device once; each epoch draws one permutation from a seeded
torch.Generator (drawing exactly what `DataLoader(shuffle=True, generator=...)` draws, so a hand-written
loop with the same seed sees the same batches) and batches are index slices. A step that samples nothing
runs zero_grad, forward, loss, backward and step, plus one on-device add for the epoch's mean loss: no
`.item()`, no hooks. Sampled steps fetch the loss, gradient norms or activation statistics.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from nnstudio.metrics.history import MetricHistory
from nnstudio.metrics.layers import ActivationProbe, GradientNorms, node_modules, node_parameters, weight_summaries
from nnstudio.metrics.scores import TaskScores
from nnstudio.training.checkpoint import Checkpoint, CheckpointError, Writer, load_checkpoint_weights
from nnstudio.training.data.streaming_source import batch_source, on_device
from nnstudio.training.data.text import with_vocabulary
from nnstudio.training.data_init import init_from_data
from nnstudio.training.device import grad_scaler, resolve_device
from nnstudio.training.early import Monitor, monitored_metric
from nnstudio.training.evaluation import score
from nnstudio.training.events import Control, Event, EventBus, EventInfo, Handler, Status
from nnstudio.training.factories import WeightPenalty, decision_threshold, make_loss, make_optimizer
from nnstudio.training.health import Health
from nnstudio.training.interventions import Interventions
from nnstudio.training.job import TrainingJob
from nnstudio.training.loop_state import Diverged, LoopState, RunResult, save_run_checkpoint
from nnstudio.training.node_training import apply_node_training
from nnstudio.training.nonfinite import Locator
from nnstudio.training.objective import ObjectiveScores, ObjectiveStepRunner, epoch_term_metrics, score_objective
from nnstudio.training.schedules import make_schedule
from nnstudio.training.step import StepRunner
from nnstudio.training.tensorboard_log import open_tensorboard


class Trainer:
    """Trains one TrainingJob. Build it on any thread; call run() on the thread that should do the work.

    Subclasses (the distributed trainer) replace `runner_class`, `forward_module`, `batch_size` and the
    `_epoch_order`/`_train_loss` hooks; this class itself trains on one process.
    """

    runner_class = StepRunner
    objective_runner_class = ObjectiveStepRunner

    def __init__(self, job: TrainingJob, out_dir: str | Path | None = None, writer: Writer | None = None,
                 history: MetricHistory | None = None) -> None:
        self.job = job
        self.settings = job.settings
        self.events = EventBus()
        self.control = Control()
        self.history = history if history is not None else MetricHistory()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.writer = with_vocabulary(writer, getattr(job.data, "vocabulary", None))  # text inputs: vocabulary.json
        self.status = Status.IDLE
        self.device = resolve_device(self.settings.device)
        self.module = job.compiled.network  # every trained submodule: what checkpoints hold
        # What training steps call: the model, or the objective graph when the graph has loss nodes (a DDP
        # wrapper around either when distributed).
        self.forward_module: torch.nn.Module = self.module
        self.objective = job.compiled.plan
        self._ready = False
        self._restored: Checkpoint | None = None
        self.health = Health(self.settings.health)  # divergence and the stall findings (training/health.py)
        self.interventions = Interventions(self)  # live LR and freeze changes, single steps (interventions.py)

    # --- control, callable from any thread -------------------------------------------------
    def on(self, event: Event, handler: Handler, every: int | None = None):
        """Attach a handler (runs on the training thread); returns a function that detaches it."""
        return self.events.on(event, handler, every)

    def request_stop(self) -> None:
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    # --- setup -----------------------------------------------------------------------------
    def setup(self) -> None:
        """Move model and data to the device and build optimizer, loss and schedule (once)."""
        if self._ready:
            return
        s, job = self.settings, self.job
        torch.manual_seed(s.seed)
        self.generator = torch.Generator().manual_seed(s.seed)
        self.module.to(self.device).train()
        self.batches = batch_source(job.data.train, self.device, bool(self.objective))  # slices, or streamed
        self.x, self.y = self.batches.x, self.batches.y  # streamed: the first training samples (init, checks)
        self.val = self._validation_data()
        # Data-dependent initialisation (k-means RBF centres); a no-op for graphs that ask for none.
        self.data_init = init_from_data(job.compiled, self.x, self.y, s.seed, job.init_report)
        self.node_training = apply_node_training(job.compiled, job.project.graph, s.optimizer.lr)
        self.params = [p for p in self.module.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(self.node_training.params, s.optimizer)
        self.criterion = None if self.objective or job.ends is None else make_loss(
            s.loss, job.task, len(job.ends.output_type.shape), self.device)  # no ends: a recipe's own loss
        self.batch_size = s.batch_size  # samples per step on this process
        self.steps_per_epoch = self._steps_per_epoch()
        monitor = monitored_metric(s.early_stopping, self.val is not None)
        plateau = "train_loss" if s.schedule.monitor.startswith("val_") and self.val is None else None
        self.schedule = make_schedule(self.optimizer, s.schedule, s.epochs, self.steps_per_epoch, plateau)
        self.monitor = Monitor(monitor, s.early_stopping)
        groups = node_parameters(job.compiled)
        self.weight_groups = groups
        runner_class = self.objective_runner_class if self.objective else self.runner_class
        self.runner = runner_class(
            self, GradientNorms(groups), ActivationProbe(node_modules(job.compiled), s.instrumentation.histogram_bins),
            WeightPenalty(self.params, s.regularization), grad_scaler(s.precision, self.device))
        self.state = LoopState.fresh(self.generator, self.device, len(self.objective.terms) if self.objective else 0)
        self._ready = True

    # Hooks a recipe that does not step through the training split in batches replaces (few-shot episodes).
    def _validation_data(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """What `evaluate` scores after each epoch (on the device); None without a validation split."""
        val = self.job.data.val
        return on_device(val, self.device) if val is not None else None

    def _steps_per_epoch(self) -> int:
        return math.ceil(len(self.job.data.train) / self.settings.batch_size)

    def _samples_per_epoch(self) -> int:
        """Samples one epoch feeds forward, for the epoch record's samples_per_s."""
        return len(self.job.data.train)

    def _test_metrics(self) -> dict[str, float]:
        """The test_* metrics measured once at the end of a finished run (after best weights are restored)."""
        test = self.job.data.test
        if test is None:
            return {}
        return {f"test_{k}": v for k, v in self.evaluate(*on_device(test, self.device)).items()}

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from a checkpoint: weights, optimizer, schedule, RNGs, loop position and history.

        Raises CheckpointError when the checkpoint does not fit this job.
        """
        self.setup()
        load_checkpoint_weights(self.module, checkpoint.path)
        state = checkpoint.state
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.schedule.load_state_dict(state["scheduler"])
            if self.runner.scaler is not None and state.get("scaler"):
                self.runner.scaler.load_state_dict(state["scaler"])
            self.monitor.load_state_dict(state.get("monitor", {}))
            self.load_recipe_state(state.get("recipe", {}))
            self.state = LoopState.restored(state, self.device)
            self.generator.set_state(state["shuffle"])
            self.interventions.restore(checkpoint)  # the changes in effect, and the later ones to replay
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{checkpoint.path}: its trainer state does not fit these settings "
                                  f"({type(exc).__name__}: {exc})") from None
        best = checkpoint.path.parent / "best"
        if self.settings.early_stopping.restore_best and (best / "checkpoint.json").exists():
            self.state.best_weights = _weights_from(best, self.module)
        if len(self.history) == 0:  # replay the earlier records, so listeners (plots) see the whole run
            for record in checkpoint.history.records():
                self.history.add(record)
        # Divergence compares with the run's early losses, not those of the (maybe already troubled) resume.
        self.health.divergence.seed([r["loss"] for r in checkpoint.history.records("step")
                                     if isinstance(r.get("loss"), (int, float))])
        self._restored = checkpoint

    def recipe_state(self) -> dict:
        """What a recipe's trainer keeps beyond the usual parts (a second optimizer, a map's radius ...), saved in
        the checkpoint's trainer state; tensors and plain values only, so it loads with weights_only=True."""
        return {}

    def load_recipe_state(self, state: dict) -> None:
        """Put back what `recipe_state` saved; raise KeyError/ValueError/TypeError when it does not fit."""

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Train to the end, to a stop request, or to a failure. Never raises for training errors."""
        self.status = Status.RUNNING
        board = None
        try:
            self.setup()
            board = open_tensorboard(self)  # training.instrumentation.tensorboard; None when it is empty
            self._start()
            outcome = self._epochs()
            return self._finish(outcome)
        except Diverged as exc:
            return self._fail(exc.message, exc.node_id)
        except Exception as exc:  # a handler, a layer or the device failed: report, never crash the caller
            return self._fail(f"{type(exc).__name__}: {exc}", None)
        finally:
            if board is not None:
                board.close()
            if self._ready:
                self.runner.probe.detach()
                self.node_training.remove_hooks()
                self.interventions.close()
                if hasattr(self, "batches"):  # a recipe with a setup of its own may hold its data itself
                    self.batches.close()  # a streamed run's decoding workers

    def _fire(self, event: Event, **fields) -> None:
        if self.events.has(event):
            epoch, step = (self.state.epoch_in_progress, self.state.step) if self._ready else (0, 0)
            self.events.fire(EventInfo(event, epoch, step, **fields))

    def _start(self) -> None:
        job, s = self.job, self.settings
        self.locator = Locator(job.compiled, job.names, job.types)
        self.state.clock_start()
        self.history.add({
            "kind": "start", "epoch": self.state.epoch, "step": self.state.step,
            "layers": {node_id: job.names[node_id] for node_id in node_modules(job.compiled)},
            "epochs": s.epochs, "steps_per_epoch": self.steps_per_epoch, "batch_size": s.batch_size,
            "train_samples": len(job.data.train), "val_samples": len(job.data.val) if job.data.val else 0,
            "device": str(self.device), "precision": s.precision, "task": job.task, "loss": job.loss,
            "optimizer": s.optimizer.name, "monitor": self.monitor.metric,
            "resumed_from": str(self._restored.path) if self._restored else None,
            "terms": self.objective.term_names if self.objective else [],
            **({"storage": job.data.storage} if job.data.storage else {}),  # in memory or streamed, and why
        })
        self.interventions.begin(resumed=self._restored is not None)
        self._fire(Event.STARTED)

    def _epochs(self) -> Status:
        for epoch in range(self.state.epoch + 1, self.settings.epochs + 1):
            if self.control.pending and self._honour_requests():
                return Status.STOPPED
            self.state.begin_epoch(epoch, self.generator, len(self.job.data.train), self.device,
                                   self._epoch_order(epoch))
            self._fire(Event.EPOCH_STARTED)
            if self.runner.run_batches(epoch):
                return Status.STOPPED
            if self._end_epoch(epoch):
                break
        return Status.FINISHED

    def _epoch_order(self, epoch: int) -> torch.Tensor | None:
        """The sample order of an epoch; None draws it the way a shuffling DataLoader does."""
        return None

    def _honour_requests(self) -> bool:
        """Called at step boundaries when a request is pending: live changes, pause, single steps
        (training/interventions.py); True means stop now."""
        return self.interventions.at_boundary()

    def _on_pause(self) -> None:
        self.state.clock_pause()
        self._fire(Event.PAUSED)

    def _on_resume(self) -> None:
        self.state.clock_resume()
        self.status = Status.RUNNING
        if not self.control.stop_requested:  # a stop while paused ends the run without resuming it
            self._fire(Event.RESUMED)

    # --- epoch end -------------------------------------------------------------------------
    def _end_epoch(self, epoch: int) -> bool:
        """Validate, log, checkpoint; returns True when early stopping ends the run."""
        state, s = self.state, self.settings
        train_loss = self._train_loss()
        if not math.isfinite(train_loss):
            raise self.runner.diverged(f"the mean training loss of epoch {epoch} is {train_loss}")
        exploded = self.health.divergence.epoch_loss(epoch, train_loss)
        if exploded is not None:  # before any checkpoint: `last` keeps the previous epoch's weights
            raise self.runner.exploded(exploded)
        metrics = {"train_loss": train_loss}
        if self.objective:
            metrics.update(epoch_term_metrics(self.objective, self._train_sums(), self.state.batch))
        if self.val is not None:
            metrics.update({f"val_{k}": v for k, v in self.evaluate(*self.val).items()})
            self._fire(Event.VALIDATED, metrics=dict(metrics))
        metrics["lr"] = self.optimizer.param_groups[0]["lr"]
        self.schedule.after_epoch(metrics)
        improved = self.monitor.update(epoch, metrics)
        if not self.runner.weights_finite():
            raise self.runner.diverged(f"weights became non-finite in epoch {epoch}")
        self._log_epoch(epoch, metrics)
        for finding in self.health.end_epoch(epoch, state.step, metrics):
            self.history.add(finding.to_json())
        state.end_epoch(epoch, self.generator)
        state.last_metrics = metrics
        if improved and s.early_stopping.enabled and s.early_stopping.restore_best:
            state.best_weights = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        if improved:
            self._checkpoint("best", metrics)
        self._checkpoint("last", metrics)
        self._fire(Event.EPOCH_ENDED, metrics=metrics)
        return self.monitor.should_stop or self.health.should_stop

    def _train_loss(self) -> float:
        """The epoch's mean batch loss."""
        return self.state.epoch_loss()

    def _train_sums(self) -> torch.Tensor:
        """The epoch's summed [total, term …] vector (all processes' together when distributed)."""
        return self.state.loss_sum

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        if self.objective:
            objective = ObjectiveScores(self.job.compiled, confusion)
            return score_objective(self.job.compiled.objective, objective, x, y,
                                   precision=self.settings.precision).compute()
        scores = TaskScores(self.job.task, self.job.data.num_classes,
                            decision_threshold(self.settings.loss, self.job.task), confusion)
        return score(self.module, self.criterion, x, y, scores, precision=self.settings.precision).compute()

    def _log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        elapsed = self.state.epoch_seconds()
        record = {"kind": "epoch", "epoch": epoch, "step": self.state.step, **metrics, "time_s": elapsed,
                  "samples_per_s": self._samples_per_epoch() / elapsed if elapsed > 0 else None,
                  "best_" + self.monitor.metric: self.monitor.best}
        self.history.add(record)
        inst = self.settings.instrumentation
        if inst.enabled and inst.weight_histograms and self.weight_groups:
            layers = weight_summaries(self.weight_groups, inst.histogram_bins, finite=True)
            self.history.add({"kind": "weights", "epoch": epoch, "step": self.state.step,
                              "layers": {k: v.to_json() for k, v in layers.items()}})

    def _checkpoint(self, kind: str, metrics: dict[str, float]) -> None:
        if self.out_dir is None:
            return
        path = save_run_checkpoint(self, self.out_dir / "checkpoints" / kind, kind, metrics)
        self._fire(Event.CHECKPOINT_SAVED, path=str(path), message=kind)

    # --- endings ---------------------------------------------------------------------------
    def _finish(self, outcome: Status) -> RunResult:
        s, state = self.settings, self.state
        message = "stopped on request" if outcome is Status.STOPPED else "finished"
        if outcome is Status.STOPPED:
            self._checkpoint("last", state.last_metrics)
        elif self.monitor.should_stop:
            message = (f"early stopping: {self.monitor.metric} did not improve for {s.early_stopping.patience} "
                       f"epoch(s); best {self.monitor.best:.6g} at epoch {self.monitor.best_epoch}")
        elif self.health.should_stop:
            message = f"stopped by a finding ({self.health.findings[0].rule}; training.health.stop_on_findings)"
        if outcome is Status.FINISHED and s.early_stopping.enabled and state.best_weights is not None:
            self.module.load_state_dict(state.best_weights)
        metrics = dict(state.last_metrics)
        if outcome is Status.FINISHED:
            metrics.update(self._test_metrics())
        self.status = outcome
        self.history.add({"kind": "end", "epoch": state.epoch, "step": state.step, "status": outcome.value,
                          "message": message, **{k: v for k, v in metrics.items() if k.startswith("test_")}})
        self._fire(Event.STOPPED if outcome is Status.STOPPED else Event.FINISHED, metrics=metrics,
                   message=message)
        return self._result(outcome, metrics, message)

    def _fail(self, message: str, node_id: str | None) -> RunResult:
        self.status = Status.FAILED
        kept = self.out_dir / "checkpoints" / "last" if self.out_dir else None
        if self._ready and kept is not None and kept.exists():
            message += f"; the last good checkpoint is kept at {kept}"
        epoch, step = (self.state.epoch, self.state.step) if self._ready else (0, 0)
        self.history.add({"kind": "end", "epoch": epoch, "step": step, "status": "failed", "message": message,
                          "node_id": node_id})
        self._fire(Event.FAILED, message=message, node_id=node_id)
        return self._result(Status.FAILED, dict(self.state.last_metrics) if self._ready else {}, message, node_id)

    def _result(self, status: Status, metrics: dict[str, float], message: str,
                node_id: str | None = None) -> RunResult:
        checkpoints = self.out_dir / "checkpoints" if self.out_dir else None
        state = self.state if self._ready else None
        return RunResult(
            status=status, epochs=state.epoch if state else 0, step=state.step if state else 0, metrics=metrics,
            message=message, node_id=node_id,
            best={"metric": self.monitor.metric, "value": self.monitor.best, "epoch": self.monitor.best_epoch}
            if state and self.monitor.best is not None else None,
            checkpoint=checkpoints / "last" if checkpoints and (checkpoints / "last").exists() else None,
            best_checkpoint=checkpoints / "best" if checkpoints and (checkpoints / "best").exists() else None,
            findings=[finding.text() for finding in self.health.findings],
        )


def _weights_from(directory: Path, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state dict read from a checkpoint folder, placed like the module's own tensors."""
    from nnstudio.compile.weights import read_state_dict

    own = module.state_dict()
    return {k: v.to(own[k].device) for k, v in read_state_dict(directory).items() if k in own}
