"""The worker loop: take a WAITING trial, sample it, train it as a normal run, tell Optuna how it ended.

Qt-free and driven like the Trainer: build a StudyRunner on any thread, call `run()` on the thread that
should do the work, and call `request_stop()` from any other (the app's Search panel does this from the GUI
thread). `on_trial` is called on the worker's thread after each trial with a TrialReport.

Pruning uses the engine's own events: an EPOCH_ENDED handler reports the epoch's metric to the Optuna trial
and, when the pruner says so, asks the Trainer to stop through its Control (the way Ctrl-C does); once the
run has stopped the trial is told PRUNED. The engine is not changed for the search.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnstudio.search.context import StudyContext
from nnstudio.search.runs import create_run
from nnstudio.search.sample import Sampled, apply_sample, describe_params, suggest
from nnstudio.search.storage import BEAT_S, LOST_ATTR, beat, reap, take
from nnstudio.search.tables import SECOND_OBJECTIVES

# How a pruned or failed trial ended, written once as it ends (every storage write is a commit): {"reason": why,
# "seconds", "run": its run folder}.
RESULT_ATTR = "nnstudio.result"
REAP_EVERY_S = 30.0  # looking for dead workers' trials reads every RUNNING trial: not before each trial


@dataclass
class TrialReport:
    number: int
    params: dict[str, Any]
    state: str  # complete, pruned, failed, given back
    values: list[float] | None = None
    seconds: float = 0.0
    reason: str = ""
    run: Path | None = None
    names: list[str] = field(default_factory=list)  # what each value is: the metric, then params or flops

    def line(self) -> str:
        """`trial 3: training.optimizer.lr=0.0123 → val_loss 0.1234, complete, 2.1 s` (one line per trial)."""
        shown = "  ".join(f"{n} {v:.6g}" for n, v in zip(self.names, self.values or [])) or "-"
        reason = f" ({self.reason})" if self.reason else ""
        return f"trial {self.number}: {describe_params(self.params)} → {shown}, {self.state}{reason}, " \
               f"{self.seconds:.1f} s"


class _Stopped(Exception):
    """The user stopped the worker in the middle of a trial: the trial goes back to the queue."""


class StudyRunner:
    def __init__(self, context: StudyContext, on_trial: Callable[[TrialReport], None] | None = None) -> None:
        self.context = context
        self.on_trial = on_trial
        self.reports: list[TrialReport] = []
        self._stop = threading.Event()
        self._now = False
        self._trainer = None
        self._data: dict[tuple, Any] = {}  # loaded splits by (seed, task): a trial varying neither reuses them
        self._heart: _Heartbeat | None = None
        self._reaped = -math.inf  # when dead workers' trials were last looked for (time.monotonic)

    # --- control, from any thread ------------------------------------------------------------
    def request_stop(self, now: bool = False) -> None:
        """Stop after the running trial; with `now`, stop that trial too and give it back to the study."""
        self._now = self._now or now
        self._stop.set()
        trainer = self._trainer
        if now and trainer is not None:
            trainer.request_stop()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # --- the loop ----------------------------------------------------------------------------
    def run(self, timeout: float | None = None, max_trials: int | None = None) -> list[TrialReport]:
        """Run trials until the study's budget is spent, a stop is requested, `timeout` seconds have passed
        (the running trial finishes) or this worker has run `max_trials`."""
        started = time.monotonic()
        study = self.context.study
        with _Heartbeat(study) as self._heart:
            while not self.stop_requested:
                if timeout is not None and time.monotonic() - started >= timeout:
                    break
                if max_trials is not None and len(self.reports) >= max_trials:
                    break
                trial = self._next_trial(study)
                if trial is None:
                    break
                report = self._run_trial(trial)
                self.reports.append(report)
                if self.on_trial is not None:
                    self.on_trial(report)
        return self.reports

    def _next_trial(self, study: Any) -> Any | None:
        """A WAITING trial. Dead workers' trials are given back every REAP_EVERY_S seconds, and once more before
        this worker concludes the budget is spent (a given-back trial adds a WAITING one)."""
        now = time.monotonic()
        if now - self._reaped >= REAP_EVERY_S:
            reap(study, self.context.stale_after)
            self._reaped = now
        trial = take(study)
        if trial is None and now != self._reaped:
            reap(study, self.context.stale_after)
            self._reaped = time.monotonic()
            trial = take(study)
        return trial

    def _run_trial(self, trial: Any) -> TrialReport:
        started = time.perf_counter()
        report = TrialReport(trial.number, {}, "failed", names=self._names())
        try:
            state = self._attempt(trial, report)
        finally:
            self._heart.follow(None)
        report.seconds = time.perf_counter() - started
        if state is None:
            self._give_back(trial)
            return report
        if report.state != "complete":  # a completed trial's run is in its heartbeat, its time in its timestamps
            trial.set_user_attr(RESULT_ATTR, {"reason": report.reason, "seconds": report.seconds,
                                              "run": str(report.run) if report.run else None})
        self.context.study.tell(trial, report.values if report.state == "complete" else None, state=state)
        return report

    def _attempt(self, trial: Any, report: TrialReport) -> Any:
        """Sample and train; fills `report` and returns the Optuna state to tell (None: give the trial back)."""
        from optuna.trial import TrialState

        try:
            report.params = suggest(trial, self.context.space.dimensions)
            sampled = apply_sample(self.context.project, self.context.space, report.params)
            report.values, report.run = self._train(trial, sampled)
            report.state = "complete"
            return TrialState.COMPLETE
        except _Pruned as exc:
            report.state, report.reason, report.run = "pruned", str(exc), exc.run
            return TrialState.PRUNED
        except _Stopped:
            report.state, report.reason = "given back", "stopped by request; it will run again"
            return None
        except _Failed as exc:
            report.reason, report.run = str(exc), exc.run
        except Exception as exc:  # a bug or a storage error in this trial: it fails, the study goes on
            report.reason = f"{type(exc).__name__}: {exc}"
        return TrialState.FAIL

    def _names(self) -> list[str]:
        study = self.context.space.study
        return [study.metric, *([study.second] if study.second else [])]

    def _give_back(self, trial: Any) -> None:
        from optuna.trial import TrialState, create_trial

        trial.set_user_attr(LOST_ATTR, "stopped by request before it finished")
        self.context.study.tell(trial, state=TrialState.FAIL)
        self.context.study.add_trial(create_trial(state=TrialState.WAITING))

    # --- one trial ---------------------------------------------------------------------------
    def _train(self, trial: Any, sampled: Sampled) -> tuple[list[float], Path]:
        from nnstudio.io.project_file import save
        from nnstudio.training import TrainingInputError, prepare
        from nnstudio.training.recipes import create_trainer

        if sampled.invalid:
            raise _Pruned(f"invalid structure: {sampled.invalid}")
        ctx = self.context
        project = sampled.project
        key = (project.training.get("seed"), project.training.get("task"))
        try:
            job = prepare(project, ctx.base_dir, data=self._data.get(key))
        except TrainingInputError as exc:
            raise _Pruned(f"the sampled project cannot train: {exc}") from None
        self._data.setdefault(key, job.data)
        second = self._second(job) if ctx.space.study.second else None
        run = create_run(ctx.runs, project, {"study": ctx.name, "trial": trial.number, "params": sampled.params,
                                             "storage": ctx.url})
        self._heart.follow(trial._trial_id, str(run.path))
        trainer = create_trainer(job, run.path, writer=lambda folder: save(project, folder / "project.nnstudio"))
        watch = _EpochWatch(trial, trainer, ctx.space.study, prune=ctx.space.study.pruner != "none")
        self._trainer = trainer
        try:
            if self._now:
                trainer.request_stop()
            result = trainer.run()
        finally:
            self._trainer = None
        run.finish(result, trainer.history, f"pruned after epoch {watch.pruned_at}" if watch.pruned_at else None)
        return self._outcome(result, watch, run.path, second), run.path

    def _outcome(self, result: Any, watch: _EpochWatch, run: Path, second: float | None) -> list[float]:
        from nnstudio.training import Status

        if watch.pruned_at is not None:
            raise _Pruned(f"pruned after epoch {watch.pruned_at}", run)
        if result.status is Status.STOPPED:
            raise _Stopped()
        if result.status is Status.FAILED:
            raise _Failed(f"training failed: {result.message}", run)
        if watch.best is None:
            study = self.context.space.study
            raise _Failed(f"search.study.metric: the runs do not measure {study.metric} (their epochs report "
                          f"{', '.join(watch.seen) or 'nothing'})", run)
        return [watch.best] + ([second] if second is not None else [])

    def _second(self, job: Any) -> float:
        from nnstudio.compile.summary import summarize

        summary = summarize(job.compiled, job.project.graph)
        return float(getattr(summary, SECOND_OBJECTIVES[self.context.space.study.second].summary_field))


class _EpochWatch:
    """Follows the study's metric epoch by epoch: keeps the best value, and feeds the pruner."""

    def __init__(self, trial: Any, trainer: Any, study: Any, prune: bool) -> None:
        from nnstudio.training import Event

        self.trial, self.trainer, self.prune = trial, trainer, prune
        self.metric, self.maximize = study.metric, study.direction == "maximize"
        self.best: float | None = None
        self.seen: list[str] = []
        self.pruned_at: int | None = None
        trainer.on(Event.EPOCH_ENDED, self._epoch)

    def _epoch(self, info: Any) -> None:
        self.seen = [k for k in info.metrics if k != "lr"]
        value = info.metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        if self.best is None or (value > self.best if self.maximize else value < self.best):
            self.best = float(value)
        if self.prune:
            self.trial.report(float(value), info.epoch)
            if self.trial.should_prune():
                self.pruned_at = info.epoch
                self.trainer.request_stop()


class _Ended(Exception):
    """A trial that ends without values; the message says why, `run` is its run folder when it has one."""

    def __init__(self, reason: str, run: Path | None = None) -> None:
        super().__init__(reason)
        self.run = run


class _Pruned(_Ended):
    pass


class _Failed(_Ended):
    pass


class _Heartbeat:
    """Tells the storage every few seconds that this worker still runs its trial, so another worker can tell a
    dead worker's trial (no beat for stale_after seconds) from a slow one. One thread for the worker's whole
    life: starting a thread per trial cost more than the beats."""

    def __init__(self, study: Any) -> None:
        self.study = study
        self.trial: tuple[int, str | None] | None = None  # (trial id, run folder) while a trial runs
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nnstudio-search-heartbeat", daemon=True)

    def follow(self, trial_id: int | None, run: str | None = None) -> None:
        """Beat for this trial from now on (at once, so a death is noticed from here); None stops beating."""
        self.trial = None if trial_id is None else (trial_id, run)
        if trial_id is not None:
            beat(self.study, trial_id, run)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.wait(BEAT_S):
            current = self.trial
            if current is None:
                continue
            try:
                beat(self.study, *current)
            except Exception:  # the trial finished meanwhile, or the database blinked: the next beat retries
                continue
