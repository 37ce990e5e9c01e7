"""Runs evaluations on a worker thread; a poller on the GUI thread hands the results on as signals."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from nnstudio.layers.registry import Registry
from nnstudio.ui.background import FuturePoller
from nnstudio.ui.evaluation.compute import EvaluationError, evaluate_run
from nnstudio.ui.evaluation.objective import PriorSampler


class EvaluationRunner(QObject):
    """`evaluate(...)` returns at once; `done(result, title)` or `failed(message)` follows. `sample(sampler,
    seed)` decodes new prior samples on the same thread; `sampled(sampler, seed, values)` follows."""

    done = Signal(object, str)
    failed = Signal(str)
    sampled = Signal(object, int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnstudio-evaluate")
        self._generation = 0
        self._poller = FuturePoller(self)
        self.busy = False

    def evaluate(self, project_text: str, registry: Registry, base_dir: Path | None, checkpoint: Path,
                 title: str) -> None:
        self._generation += 1
        generation = self._generation
        self.busy = True
        future = self._executor.submit(evaluate_run, project_text, registry, base_dir, checkpoint)
        self._poller.watch(future, partial(self._on_finished, generation, title))

    def _on_finished(self, generation: int, title: str, future: Future) -> None:
        if generation != self._generation:
            return  # a newer evaluation was asked for
        self.busy = False
        try:
            result = future.result()
        except EvaluationError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # shown to the user; the app carries on
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(result, title)

    def sample(self, sampler: PriorSampler, seed: int) -> None:
        future = self._executor.submit(sampler.draw, seed)
        self._poller.watch(future, partial(self._on_sampled, sampler, seed))

    def _on_sampled(self, sampler: PriorSampler, seed: int, future: Future) -> None:
        try:
            values = future.result()
        except Exception as exc:  # shown to the user; the app carries on
            self.failed.emit(f"could not draw samples: {type(exc).__name__}: {exc}")
            return
        self.sampled.emit(sampler, seed, values)

    def shutdown(self) -> None:
        self._poller.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)
