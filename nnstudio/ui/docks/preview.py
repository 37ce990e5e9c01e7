"""Compiles the document in the background for the Summary and Code docks.

Compiling needs torch, which takes seconds to import, and building plus FLOP-counting a large graph
is not instant either. So nothing here runs on the GUI thread's critical path: analysis changes are
debounced, the project is snapshotted (plain dataclass copies, cheap), and one worker thread
compiles the snapshot. Results carry a generation number; a stale one is dropped, and edits made
while a compile runs coalesce into a single follow-up compile.
"""

from __future__ import annotations

import copy
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from nnstudio.analysis import Analysis
from nnstudio.layers.registry import Registry
from nnstudio.model import Node, Project
from nnstudio.ui.background import FuturePoller
from nnstudio.ui.document import Document

DEBOUNCE_MS = 300


@dataclass
class PreviewResult:
    """What the docks show. Exactly one of (summary and code), problems > 0, or error applies."""

    generation: int
    summary: Any = None  # nnstudio.compile.Summary
    code: str | None = None
    problems: int = 0  # error count when the graph is not valid
    error: str | None = None  # compiling a valid graph failed (e.g. a plugin's builder)

    @property
    def ok(self) -> bool:
        return self.code is not None


def snapshot(project: Project) -> Project:
    """A private copy for the worker thread; the GUI keeps editing the original."""
    copied = Project()
    for node in project.graph.nodes.values():
        copied.graph.add_node(Node(node.id, node.type, node.name, copy.deepcopy(node.params), node.position,
                                   node.init, node.training))  # NodeTraining is frozen: sharing it is safe
    for edge in project.graph.edges.values():
        copied.graph.add_edge(edge)
    copied.init = copy.deepcopy(project.init)
    copied.metadata = copy.deepcopy(project.metadata)
    return copied


def compile_preview(project: Project, registry: Registry) -> tuple[str, Any]:
    """Runs on the worker thread. The import is here so that torch loads off the GUI thread."""
    from nnstudio.compile import build_module, summarize
    from nnstudio.io.export.python_model import code_listing

    compiled = build_module(project, registry)
    return code_listing(project, compiled), summarize(compiled, project.graph)


def warm_up() -> None:
    """Import torch and the compiler ahead of the first compile."""
    import nnstudio.compile  # noqa: F401


class ModelPreview(QObject):
    """Debounced background compiles of the current document. Emits `ready(PreviewResult)`."""

    ready = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, delay_ms: int = DEBOUNCE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.latest: PreviewResult | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnstudio-compile")
        self._generation = 0
        self._running = False
        self._pending = False
        self._active = True
        self._stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._start)
        self._poller = FuturePoller(self)  # the worker never touches Qt; the result is picked up here

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.analysis_changed.disconnect(self._on_analysis)
        self.document = document
        self._generation += 1  # anything in flight belongs to the old document
        if document is not None:
            document.analysis_changed.connect(self._on_analysis)
            self._on_analysis(document.analysis)

    def set_active(self, active: bool) -> None:
        """Only compile while someone looks at the result (the Summary or Code dock is visible)."""
        self._active = active
        if active and self._stale:
            self._timer.start()

    def warm_up(self) -> None:
        self._executor.submit(warm_up)

    def refresh_now(self) -> None:
        """Skip the debounce (tests, or a user asking for it)."""
        self._timer.stop()
        self._start()

    @property
    def busy(self) -> bool:
        return self._running

    def shutdown(self) -> None:
        self._timer.stop()
        self._poller.stop()
        self._generation += 1
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- internals ---------------------------------------------------------------------------
    def _on_analysis(self, analysis: Analysis) -> None:
        self._stale = True
        if self._active:
            self._timer.start()

    def _start(self) -> None:
        if self.document is None:
            return
        if self._running:
            self._pending = True
            return
        self._stale = False
        self._generation += 1
        analysis = self.document.analysis
        if not analysis.ok:
            self._publish(PreviewResult(self._generation, problems=len(analysis.errors)))
            return
        generation = self._generation
        future = self._executor.submit(compile_preview, snapshot(self.document.project), self.document.registry)
        self._set_running(True)
        self._poller.watch(future, partial(self._on_finished, generation))

    def _on_finished(self, generation: int, future: Future) -> None:
        self._set_running(False)
        if generation == self._generation:
            self._publish(self._result(generation, future))
        if self._pending:
            self._pending = False
            self._start()

    def _result(self, generation: int, future: Future) -> PreviewResult:
        if future.cancelled():
            return PreviewResult(generation, error="the compile was cancelled")
        exc = future.exception()
        if exc is not None:
            return PreviewResult(generation, error=f"{type(exc).__name__}: {exc}")
        code, summary = future.result()
        return PreviewResult(generation, summary=summary, code=code)

    def _publish(self, result: PreviewResult) -> None:
        self.latest = result
        self.ready.emit(result)

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.busy_changed.emit(running)
