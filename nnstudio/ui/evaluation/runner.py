"""Runs evaluations on a worker thread and hands the results to the GUI thread as signals."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from nnstudio.layers.registry import Registry
from nnstudio.ui.evaluation.compute import EvaluationError, evaluate_run


class EvaluationRunner(QObject):
    """`evaluate(...)` returns at once; `done(result, title)` or `failed(message)` follows."""

    done = Signal(object, str)
    failed = Signal(str)
    _finished = Signal(int, object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnstudio-evaluate")
        self._generation = 0
        self._finished.connect(self._on_finished)
        self.busy = False

    def evaluate(self, project_text: str, registry: Registry, base_dir: Path | None, checkpoint: Path,
                 title: str) -> None:
        self._generation += 1
        generation = self._generation
        self.busy = True
        future = self._executor.submit(evaluate_run, project_text, registry, base_dir, checkpoint)
        future.add_done_callback(lambda f: self._finished.emit(generation, f, title))

    def _on_finished(self, generation: int, future: Future, title: str) -> None:
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

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
