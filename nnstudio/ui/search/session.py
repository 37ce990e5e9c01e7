"""One study worked on from the app: a StudyRunner on its own thread, and what the GUI thread reads from it.

Following ui/background.py, the worker thread never touches Qt: after each trial it puts a fresh summary of the
study (and the parameter importances, which take a moment to compute) in a queue, and the panel's timer drains
it on the GUI thread. The project is copied when the search starts, so the canvas stays editable and an edit
made meanwhile never changes the running study.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnstudio.io.project_file import dumps, loads
from nnstudio.model.project import Project
from nnstudio.ui.background import start_thread


@dataclass
class Update:
    """What the panel shows after a trial (or at the start): the study summary and importances."""

    summary: dict[str, Any]
    importances: dict[str, float] = field(default_factory=dict)
    why_not: str = ""
    line: str = ""  # the finished trial's one-line report, for the status


@dataclass
class SearchRequest:
    project: Project
    project_file: Path
    trials: int | None
    sampler: str | None
    pruner: str | None
    storage: str  # "" for the default SQLite file beside the project
    study: str  # "" for the project file's name


class SearchSession:
    def __init__(self, request: SearchRequest) -> None:
        self.request = request
        self.updates: queue.Queue[Update] = queue.Queue()
        self.runner: Any = None
        self.context: Any = None
        self.future: Future = start_thread(self._work, "nnstudio-search")

    def stop(self, now: bool = False) -> None:
        """After the running trial; with `now`, that trial goes back to the study."""
        if self.runner is not None:
            self.runner.request_stop(now)
        else:
            self._stop_before_start = True

    _stop_before_start = False

    def drain(self) -> list[Update]:
        found = []
        while True:
            try:
                found.append(self.updates.get_nowait())
            except queue.Empty:
                return found

    # --- on the worker thread ----------------------------------------------------------------------
    def _work(self) -> dict[str, Any]:
        from nnstudio.search.context import start_study
        from nnstudio.search.runner import StudyRunner
        from nnstudio.search.runs import runs_root
        from nnstudio.search.storage import default_url, optuna_module

        optuna_module()
        request = self.request
        file = str(request.project_file)
        stem = request.project_file.stem
        overrides = {"sampler": request.sampler, "pruner": request.pruner, "trials": request.trials}
        self.context = start_study(request.project, file, request.storage or default_url(file, stem),
                                   request.study or stem, request.project_file.parent, runs_root(file, stem),
                                   overrides)
        self._publish("")
        self.runner = StudyRunner(self.context, on_trial=lambda report: self._publish(report.line()))
        if self._stop_before_start:
            self.runner.request_stop()
        self.runner.run()
        return self._summary()

    def _summary(self) -> dict[str, Any]:
        from nnstudio.search.report import summarize_study

        return summarize_study(self.context)

    def _publish(self, line: str) -> None:
        from nnstudio.search.figures import importances

        found, why_not = importances(self.context.study)
        self.updates.put(Update(self._summary(), found, why_not, line))


def snapshot(project: Project) -> Project:
    """A copy of the project as it is now, through the file format (what a worker on another machine reads)."""
    return loads(dumps(project))
