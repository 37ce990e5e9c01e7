"""Work off the GUI thread without letting that work touch Qt.

A worker thread that emits a signal races the window that owns the signal: the window may be closed and
its C++ object deleted while the thread is still importing scikit-learn or torch, and a late emit then
crashes the process. So the threads here only fill a `concurrent.futures.Future`, and a `FuturePoller`
on the GUI thread notices it finished and calls back there. Nothing but the GUI thread ever calls Qt.

Python's cyclic garbage collector runs on whichever thread happens to allocate. When it frees a dead
window's wrappers on a dataset or compile thread, Qt destructors run there and deadlock against the GUI
thread (seen: ~QObject waiting on a Qt mutex while the GUI thread held the GIL). `GuiThreadCollector`
turns automatic collection off and collects from a GUI-thread timer instead, as pyqtgraph advises.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QTimer

POLL_MS = 30  # how often a pending future is checked; well under what a person notices
COLLECT_MS = 40  # how often the GUI thread checks whether the garbage collector is due


def start_thread(work: Callable[[], Any], name: str) -> Future:
    """Run `work` on a new (non-daemon) thread; the future holds its result or exception.

    Non-daemon, so that interpreter shutdown waits for an import to finish instead of tearing it down
    half-way, which can crash inside extension modules.
    """
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the GUI thread, which decides what to show
            future.set_exception(exc)

    threading.Thread(target=run, name=name).start()
    return future


class FuturePoller(QObject):
    """Calls `on_done(future)` on the GUI thread once each watched future has finished."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watched: list[tuple[Future, Callable[[Future], None]]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def watch(self, future: Future, on_done: Callable[[Future], None]) -> None:
        self._watched.append((future, on_done))
        if not self._timer.isActive():
            self._timer.start()

    @property
    def pending(self) -> int:
        return len(self._watched)

    def stop(self) -> None:
        """Forget every watched future: their callbacks will not run."""
        self._timer.stop()
        self._watched.clear()

    def _poll(self) -> None:
        finished, waiting = [], []
        for entry in self._watched:
            (finished if entry[0].done() else waiting).append(entry)
        if not finished:
            return
        self._watched = waiting
        if not waiting:
            self._timer.stop()
        for future, on_done in finished:
            on_done(future)


class GuiThreadCollector(QObject):
    """Runs Python's cyclic garbage collection on the GUI thread only, at the thresholds it would use.

    Install one per process (`install()`); `uninstall()` gives collection back to the interpreter.
    """

    _installed: GuiThreadCollector | None = None
    _settled = False
    # While a run trains, a full collection (it walks everything created since settle(): 60-90 ms once the run's
    # data libraries are in) waits for the run's end; the young generations are still collected on time.
    defer_full = False

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(COLLECT_MS)
        self._timer.timeout.connect(self.collect_if_due)

    @classmethod
    def install(cls, parent: QObject) -> GuiThreadCollector:
        if cls._installed is None:
            cls._installed = cls(parent)
            gc.disable()
            cls._installed._timer.start()
        return cls._installed

    @classmethod
    def uninstall(cls) -> None:
        if cls._installed is not None:
            cls._installed._timer.stop()
            cls._installed = None
            gc.enable()

    @staticmethod
    def settle() -> None:
        """Hide everything alive now (modules, torch's registries, widgets) from later collections.

        With torch, pyqtgraph and scikit-learn loaded, one full collection walks ~400,000 objects and
        takes about 0.3 s on the GUI thread. Call this once the heavy imports are done: later full
        collections only walk what was created since, and take well under a millisecond. Only the first
        call freezes, so that windows closed later are still collected.
        """
        if not GuiThreadCollector._settled:
            GuiThreadCollector._settled = True
            gc.freeze()

    def collect_if_due(self) -> None:
        """Collect the youngest generation past its threshold, and the older ones when they are due too."""
        counts = gc.get_count()
        generation = -1
        for index, (count, threshold) in enumerate(zip(counts, self.thresholds, strict=True)):
            if threshold <= 0 or count <= threshold:
                break
            generation = index
        if generation == 2 and GuiThreadCollector.defer_full:
            generation = 1
        if generation >= 0:
            gc.collect(generation)
