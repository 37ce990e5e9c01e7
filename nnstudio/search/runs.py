"""Each trial is a normal run: a `run-NNNN` folder where the app's Runs tab finds it.

The layout is the one nnstudio/ui/runs.py documents and reads (run.json, project.nnstudio, history.json,
checkpoints/last and best); the core cannot import the ui package, so the run.json keys are written here
in the same shape, plus a `search` object (study, trial number, params, storage) that the Runs tab keeps.
Two workers may create runs in one folder at the same moment: a number is taken by creating its folder
(atomic), never by counting first.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nnstudio
from nnstudio.io.project_file import dumps
from nnstudio.model.project import Project

RUN_FILE = "run.json"
PROJECT_FILE = "project.nnstudio"
HISTORY_FILE = "history.json"
PACKAGE_FOLDER = Path(nnstudio.__file__).resolve().parent


def runs_root(project_file: str | None, stem: str) -> Path:
    """`<folder>/<stem>.runs` beside a project file the user owns (what the Runs tab lists for it); for a
    shipped example or an unwritable folder, `runs/<stem>.runs` in the working folder."""
    if project_file and not project_file.startswith("example:"):
        path = Path(project_file).resolve()
        if not path.is_relative_to(PACKAGE_FOLDER) and os.access(path.parent, os.W_OK):
            return path.parent / f"{path.stem}.runs"
    return Path("runs").resolve() / f"{stem}.runs"


@dataclass
class TrialRun:
    """One trial's run folder and its run.json fields."""

    path: Path
    number: int
    record: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        staging = self.path / f"{RUN_FILE}.tmp"
        staging.write_text(json.dumps(_clean(self.record), indent=2, allow_nan=False), encoding="utf-8")
        staging.replace(self.path / RUN_FILE)

    def finish(self, result: Any, history: Any, how: str | None = None) -> None:
        """Record how the run ended, as the app records its own runs; `how` replaces the engine's own words
        (a pruned trial's run stopped because the pruner asked, not a user)."""
        search = self.record.get("search", {})
        message = f"trial {search.get('trial')} of study {search.get('study')!r}: {how or result.message}"
        self.record.update(status=result.status.value, message=message, node_id=result.node_id,
                           metrics={k: v for k, v in result.metrics.items() if isinstance(v, (int, float))},
                           best=result.best, epochs=result.epochs, step=result.step)
        history.save(self.path / HISTORY_FILE)
        self.save()


def create_run(root: Path, project: Project, search: dict[str, Any]) -> TrialRun:
    """A new run folder under `root` holding the trial's project, marked running."""
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[4:]) for p in root.glob("run-*") if p.name[4:].isdigit()]
    number = max(numbers, default=0) + 1
    while True:
        folder = root / f"run-{number:04d}"
        try:
            folder.mkdir()
            break
        except FileExistsError:
            number += 1
    (folder / PROJECT_FILE).write_text(dumps(project), encoding="utf-8")
    run = TrialRun(folder, number, {
        "number": number, "created": time.strftime("%Y-%m-%d %H:%M:%S"), "status": "running",
        "message": f"trial {search['trial']} of study {search['study']!r}", "node_id": None, "metrics": {},
        "best": None, "training": project.training, "dataset": project.dataset,
        "project_name": project.metadata.name, "epochs": 0, "step": 0, "resumes": 0, "search": search})
    run.save()
    return run


def _clean(value: Any) -> Any:
    """JSON without NaN or infinities (a diverged run's metrics), which run.json must not hold."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
