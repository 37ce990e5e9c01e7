"""Starting, resuming and joining a study: everything a worker needs, read the same way by every worker.

The study itself carries what a joining worker on another machine needs: the project document (search
section included), the folder its relative paths are read from, the command-line overrides and the runs
folder, as Optuna study user attributes. So `nnstudio search --join NAME --storage URL` needs no project file.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnstudio.io.project_file import loads, to_document
from nnstudio.model.project import Project
from nnstudio.search.space import SearchSpace
from nnstudio.search.storage import STALE_AFTER_S, SearchError, load_study, open_storage, optuna_module, top_up
from nnstudio.search.study import grid_space, parse_search
from nnstudio.search.tables import PRUNERS, SAMPLERS

STUDY_ATTR = "nnstudio"  # the study's user attribute holding the project and how it is searched
COMPARED = ("graph", "dataset", "training", "init")  # what must match when a study is resumed


@dataclass
class StudyContext:
    study: Any  # optuna.Study, with this worker's sampler and pruner
    url: str
    space: SearchSpace
    project: Project
    base_dir: Path | None
    runs: Path
    stale_after: float = STALE_AFTER_S

    @property
    def name(self) -> str:
        return self.study.study_name


def problems_error(problems: list[tuple[str, str]], source: str) -> SearchError:
    """All of a search section's problems as one error, a line each (the CLI prints them one per line)."""
    return SearchError("\n".join(f"{source}: {place}: {message}" for place, message in problems))


def start_study(project: Project, source: str, url: str, name: str, base_dir: Path | None, runs: Path,
                overrides: dict[str, Any], stale_after: float = STALE_AFTER_S) -> StudyContext:
    """Create the study, or resume it when it exists with the same project; top its budget up to `trials`."""
    space, problems = parse_search(project, {**overrides, "name": name})
    if problems:
        raise problems_error(problems, source)
    storage = open_storage(url)
    optuna = optuna_module()
    document = to_document(project)
    study = optuna.create_study(storage=storage, study_name=name, directions=space.study.directions,
                                load_if_exists=True, sampler=make_sampler(space, joined=False),
                                pruner=make_pruner(space))
    stored = study.user_attrs.get(STUDY_ATTR)
    if stored is not None:
        _check_same(stored, document, study, space, name, source)
    # Written on every start, so workers that join later use this command's sampler, pruner and trials.
    study.set_user_attr(STUDY_ATTR, {"document": document, "source": source, "runs": str(runs),
                                     "base_dir": str(base_dir) if base_dir else None,
                                     "overrides": {k: v for k, v in overrides.items() if v is not None}})
    top_up(study, _budget(space))
    return StudyContext(study, url, space, project, base_dir, runs, stale_after)


def join_study(url: str, name: str, runs: Path | None = None, stale_after: float = STALE_AFTER_S) -> StudyContext:
    """Open an existing study as its starting command left it; SearchError if there is none of that name."""
    storage = open_storage(url)
    stored = _stored(load_study(storage, name, url))
    if not isinstance(stored, dict) or "document" not in stored:
        raise SearchError(f"study {name!r} in {url} was not started by nnstudio search (it holds no project)")
    project = loads(json.dumps(stored["document"]))
    space, problems = parse_search(project, {**stored.get("overrides", {}), "name": name})
    if problems:
        raise problems_error(problems, f"study {name!r}")
    study = load_study(storage, name, url, sampler=make_sampler(space, joined=True), pruner=make_pruner(space))
    base_dir = Path(stored["base_dir"]) if stored.get("base_dir") else None
    if runs is None:
        runs = Path(stored.get("runs") or Path("runs") / f"{name}.runs")
        runs = runs if _writable(runs) else Path("runs").resolve() / f"{name}.runs"
    return StudyContext(study, url, space, project, base_dir, runs, stale_after)


def _stored(study: Any, wait_s: float = 10.0) -> Any:
    """The study's nnstudio attribute. A worker that joins the moment a study is created may look between
    Optuna creating it and the starting command recording the project, so a study without trials is given a
    few seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        stored = study.user_attrs.get(STUDY_ATTR)
        if stored is not None or study.get_trials(deepcopy=False) or time.monotonic() > deadline:
            return stored
        time.sleep(0.2)


def _check_same(stored: dict, document: dict, study: Any, space: SearchSpace, name: str, source: str) -> None:
    """Resuming is only safe when the trials so far searched the same thing."""
    old = stored.get("document", {})
    changed = [key for key in (*COMPARED, "search") if _without_trials(old, key) != _without_trials(document, key)]
    if changed:
        raise SearchError(f"study {name!r} was started from a different {source} (its {', '.join(changed)} "
                          "changed); pass --study with a new name to start another study")
    if list(study.directions) != [_direction(d) for d in space.study.directions]:
        raise SearchError(f"study {name!r} optimises other objectives; pass --study with a new name")


def _without_trials(document: dict, key: str) -> Any:
    """A section as compared on resume: the search section without its trial count (raising it extends a
    study, which is what resuming with more --trials means)."""
    value = document.get(key)
    if key != "search" or not isinstance(value, dict):
        return value
    study = {k: v for k, v in (value.get("study") or {}).items() if k != "trials"}
    return {**value, "study": study}


def _direction(name: str) -> Any:
    from optuna.study import StudyDirection

    return StudyDirection.MAXIMIZE if name == "maximize" else StudyDirection.MINIMIZE


def _budget(space: SearchSpace) -> int:
    if SAMPLERS[space.study.sampler].grid:
        size = 1
        for values in grid_space(space.dimensions).values():
            size *= len(values)
        return min(space.study.trials, size)
    return space.study.trials


def _writable(folder: Path) -> bool:
    probe = folder if folder.is_dir() else folder.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


def make_sampler(space: SearchSpace, joined: bool) -> Any:
    """The study's sampler for this worker. A joining worker offsets a fixed seed by its host and process, so
    two workers never draw the same sequence."""
    optuna = optuna_module()
    study = space.study
    spec = SAMPLERS[study.sampler]
    seed = study.seed
    if seed is not None and joined:
        seed = (seed + hash((socket.gethostname(), os.getpid()))) % 2**31
    if spec.needs:
        try:
            __import__(spec.needs)
        except ImportError:
            raise SearchError(f"search.study.sampler: {study.sampler} needs the {spec.needs} package: "
                              f"pip install {spec.needs}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if spec.grid:
            return _Grid(grid_space(space.dimensions), seed=seed)
        if study.sampler == "tpe":  # the liar keeps parallel workers from all trying the same promising point
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
        module, attribute = spec.factory.split(":")
        return getattr(__import__(module, fromlist=[attribute]), attribute)(seed=seed)


def make_pruner(space: SearchSpace) -> Any:
    factory = PRUNERS[space.study.pruner].factory
    if factory is None:
        return optuna_module().pruners.NopPruner()
    module, attribute = factory.split(":")
    return getattr(__import__(module, fromlist=[attribute]), attribute)()


def _grid_class() -> type:
    optuna = optuna_module()

    class QuietGrid(optuna.samplers.GridSampler):
        """Optuna's grid sampler, which ends `optimize` itself when the grid is done; here the budget (capped
        at the grid's size) ends the study, and there is no optimize loop to end."""

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            return None

    return QuietGrid


def _Grid(search_space: dict[str, list[Any]], seed: int | None) -> Any:
    return _grid_class()(search_space, seed=seed)
