"""Where a study lives, and the two rules that let many workers share it: a fixed budget of trials, and
giving back the trial of a worker that died.

Storage URLs (see docs/search.md):
    sqlite:///PATH.db                   the default, `NAME.search.db` beside the project (one machine)
    postgresql://..., mysql+pymysql://  any SQLAlchemy URL Optuna's RDBStorage opens (many machines)
    journal:PATH                        Optuna's journal file storage (JournalFileBackend): a file on a disk
                                        every worker mounts
    PATH                                a bare path is an SQLite file

The budget: the command that starts (or resumes) a study adds WAITING trials until the study holds `trials`
of them, counting every trial except those lost with a dead worker. A worker only ever takes a WAITING trial
(Optuna marks it RUNNING atomically, so two workers never take the same one) and stops when none is left, so
the trials add up to the number asked for however many workers join. A lost trial (its worker's process is
gone on this machine, or its heartbeat is older than `stale_after` seconds) is marked failed and `lost`, and
whoever marks it adds one WAITING trial in its place: a killed worker costs only the trial it was running.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = 'pip install "nnstudio[search]"'
SUFFIX = ".search.db"
WORKER_ATTR = "nnstudio.worker"  # {"host", "pid", "beat"} on a RUNNING trial
LOST_ATTR = "nnstudio.lost"  # why a trial was given up (its worker died)
STALE_AFTER_S = 120.0  # a heartbeat older than this marks another machine's trial as lost
BEAT_S = 10.0


class SearchError(Exception):
    """Bad input for a search (a storage that cannot be opened, a study that does not exist): one line."""


def optuna_module() -> Any:
    """Optuna, or the one line that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise SearchError(f"the search needs Optuna, which is not installed: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_url(project_file: str | None, project_name: str) -> str:
    """`sqlite:///…/NAME.search.db` beside the project file; in the working folder for a shipped example."""
    import nnstudio

    stem = Path(project_file).stem if project_file else project_name
    folder = Path.cwd()
    if project_file and not project_file.startswith("example:"):
        path = Path(project_file).resolve()
        inside_package = path.is_relative_to(Path(nnstudio.__file__).resolve().parent)
        folder = folder if inside_package or not os.access(path.parent, os.W_OK) else path.parent
    return f"sqlite:///{(folder / (stem.removeprefix('example:') + SUFFIX)).as_posix()}"


def open_storage(url: str) -> Any:
    """An Optuna storage for `url`, or a SearchError naming the URL and why it cannot be opened."""
    optuna = optuna_module()
    try:
        if url.startswith("journal:"):
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            path = Path(url.removeprefix("journal:")).expanduser()
            if not path.parent.is_dir():
                raise OSError(f"no folder {path.parent}")
            return JournalStorage(JournalFileBackend(str(path)))
        if "://" not in url:
            url = f"sqlite:///{Path(url).expanduser().resolve().as_posix()}"
        if url.startswith("sqlite:///"):
            folder = Path(url.removeprefix("sqlite:///")).parent
            if not folder.is_dir():
                raise OSError(f"no folder {folder}")
            storage = _rdb_storage(optuna, url)
            _write_ahead(storage.engine)
            return storage
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # SQLAlchemy's and the drivers' errors: one line naming the URL
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SearchError(f"--storage {url}: cannot open it ({detail})") from None


def _rdb_storage(optuna: Any, url: str, attempts: int = 5) -> Any:
    """RDBStorage, retried: two workers opening a new SQLite file at once both create its schema, and the
    second's insert of the schema version fails (UNIQUE constraint failed: alembic_version.version_num) or finds
    the file locked; a moment later the schema is there and the open succeeds."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url)
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _write_ahead(engine: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints rather than at every commit.

    A trial writes a handful of rows (its state, each sampled value, a heartbeat, its result). In SQLite's
    default mode every commit waits for two fsyncs and locks readers out, which cost ~30 ms a commit on a
    busy disk and made two workers queue behind each other's writes. In WAL mode readers never wait for the
    writer, and `synchronous=NORMAL` keeps the database consistent after a crash of any process (only a power
    cut can lose the last commits). WAL needs the file on a local disk, which an SQLite study is meant for
    anyway; several machines use a database server or the journal file storage."""
    from sqlalchemy import event

    def configure(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", configure)
    engine.dispose()  # connections opened while Optuna created its tables get the pragmas when reopened


def study_names(storage: Any) -> list[str]:
    optuna = optuna_module()
    return [s.study_name for s in optuna.study.get_all_study_summaries(storage, include_best_trial=False)]


def load_study(storage: Any, name: str, url: str, **kwargs: Any) -> Any:
    """An existing study, or a SearchError listing the studies the storage holds."""
    optuna = optuna_module()
    try:
        return optuna.load_study(study_name=name, storage=storage, **kwargs)
    except KeyError:
        names = study_names(storage)
        known = f"; it holds {', '.join(repr(n) for n in names)}" if names else "; it holds no studies"
        raise SearchError(f"no study named {name!r} in {url}{known}") from None


# --- the budget ---------------------------------------------------------------------------------
def is_lost(trial: Any) -> bool:
    return LOST_ATTR in trial.user_attrs


def counted(study: Any) -> list[Any]:
    """The trials that count towards the budget: every one but those lost with their worker."""
    return [t for t in study.get_trials(deepcopy=False) if not is_lost(t)]


def top_up(study: Any, trials: int) -> int:
    """Add WAITING trials until the study counts `trials`; returns how many were added."""
    from optuna.trial import TrialState, create_trial

    missing = max(0, trials - len(counted(study)))
    for _ in range(missing):
        study.add_trial(create_trial(state=TrialState.WAITING))
    return missing


def take(study: Any) -> Any | None:
    """Claim one WAITING trial for this worker (an optuna.Trial), or None when the budget is spent."""
    import optuna
    from optuna.trial import TrialState

    storage = study._storage
    study_id = study._study_id
    for frozen in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if not storage.set_trial_state_values(frozen._trial_id, state=TrialState.RUNNING):
                continue  # another worker took it first
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        return optuna.trial.Trial(study, frozen._trial_id)
    return None


def beat(study: Any, trial_id: int, run: str | None = None) -> None:
    """Record that this worker still runs the trial (and, once it has one, the trial's run folder)."""
    study._storage.set_trial_user_attr(trial_id, WORKER_ATTR, {"host": socket.gethostname(), "pid": os.getpid(),
                                                               "beat": time.time(), "run": run})


def reap(study: Any, stale_after: float = STALE_AFTER_S) -> list[int]:
    """Give back the RUNNING trials whose worker is gone; returns their numbers. Each one is marked failed and
    lost, and replaced by a WAITING trial (by whichever worker marks it: one replacement per lost trial)."""
    import optuna
    from optuna.trial import TrialState, create_trial

    storage = study._storage
    given_back = []
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        why = _gone(frozen, stale_after)
        if why is None:
            continue
        try:
            storage.set_trial_user_attr(frozen._trial_id, LOST_ATTR, why)
            if not storage.set_trial_state_values(frozen._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # it finished after all, or another worker gave it back first
        study.add_trial(create_trial(state=TrialState.WAITING))
        given_back.append(frozen.number)
    return given_back


def _gone(frozen: Any, stale_after: float) -> str | None:
    """Why a RUNNING trial's worker is gone, or None while it may still be working."""
    from nnstudio.util.leftovers import pid_alive

    worker = frozen.user_attrs.get(WORKER_ATTR)
    if not isinstance(worker, dict):
        started = frozen.datetime_start.timestamp() if frozen.datetime_start else time.time()
        return f"no worker claimed it for {stale_after:g} s" if time.time() - started > stale_after else None
    host, pid, last = worker.get("host"), worker.get("pid"), float(worker.get("beat", 0))
    if host == socket.gethostname() and isinstance(pid, int) and pid != os.getpid() and not pid_alive(pid):
        return f"its worker (process {pid} on {host}) is no longer running"
    if time.time() - last > stale_after:
        return f"its worker (process {pid} on {host}) has not reported for {time.time() - last:.0f} s"
    return None
