"""Where the workbench's runs live, and which runs the Runs tab shows.

A saved project keeps its runs beside its file; unsaved work keeps them in the per-user folder under the
document's session id (ui/runs.py; the window's FileController owns that folder and moves the runs when the
project is saved). The Runs tab shows the project's runs, or, read-only, the runs an earlier session left
for unsaved work, which can be attached to this project or reopened with their project.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nnstudio.ui.runs import RunStore, UnsavedSession, keeps_runs_beside, runs_folder_for, write_owner

if TYPE_CHECKING:
    from nnstudio.ui.training.workbench import Workbench


class RunPlaces:
    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.stores: dict[Path, RunStore] = {}
        self.shown_id = ""  # an earlier session's id while the Runs tab shows its runs, else ""
        panel = bench.runs
        panel.source_changed.connect(self.show_source)
        panel.attach_requested.connect(self.attach)
        panel.open_requested.connect(self.open_session)
        bench.evaluator.done.connect(lambda *_: self.settle())  # a run that trained while the project was saved
        bench.evaluator.failed.connect(lambda *_: self.settle())

    @property
    def unsaved_runs(self):
        return self.bench.window.files.unsaved_runs

    # --- the document's store ----------------------------------------------------------------
    def place(self, document) -> tuple[Path, bool]:
        """The folder of a document's runs, and whether it is the per-user folder of unsaved work."""
        if self.bench.runs_root is not None:
            return self.bench.runs_root, False
        if keeps_runs_beside(document.path):
            return runs_folder_for(Path(document.path).resolve()), False
        return self.unsaved_runs.folder(document.session_id), True

    def store(self, document=None) -> RunStore:
        bench = self.bench
        root, unsaved = self.place(document or bench.document)
        store = self.stores.get(root)
        if store is None:
            store = RunStore(root, unsaved)
            training = bench.is_training and bench.session.store.root == root
            store.mark_interrupted(bench.session.record.number if training else None)
            self.stores[root] = store
        return store

    def settle(self) -> None:
        """Runs left in the per-user folder by a document that has been saved since move beside it, once
        nothing trains or evaluates there (a run training while the project was saved follows it here)."""
        bench = self.bench
        document = bench.document
        if bench.runs_root is not None or not keeps_runs_beside(document.path):
            return
        left = self.unsaved_runs.store(document.session_id)
        if bench.is_training or bench.evaluator.busy or not left.runs():
            return
        left.mark_interrupted(None)  # nothing trains now: a run still marked as running was cut off
        left.move_to(self.store().root)
        self.refresh()

    def path_changed(self, _path) -> None:
        self.settle()
        self.refresh()

    # --- the Runs tab ------------------------------------------------------------------------
    def sessions(self) -> list[UnsavedSession]:
        if self.bench.runs_root is not None:
            return []
        return self.unsaved_runs.sessions(exclude=(self.bench.document.session_id,))

    def shown(self) -> UnsavedSession | None:
        return self.unsaved_runs.session(self.shown_id) if self.shown_id else None

    def shown_store(self) -> RunStore:
        """The store whose runs the Runs tab lists: the project's, or an earlier session's."""
        session = self.shown()
        return session.store() if session is not None else self.store()

    def refresh(self) -> None:
        bench = self.bench
        sessions = self.sessions()
        if self.shown_id and all(s.id != self.shown_id for s in sessions):
            self.shown_id = ""
        bench.runs.show_sources(sessions, self.shown_id)
        session = self.shown()
        if session is not None:
            where = (
                f"Runs an earlier session kept for unsaved work, in {session.root}. Attach them to this "
                "project, or open them with their project."
            )
            bench.runs.show_runs(session.store().runs(), None, where, read_only=True)
            return
        store = self.store()
        active = bench.session.record.number if bench.is_training and bench.session.store is store else None
        if store.unsaved:
            where = (
                f"This project is not saved, so its runs are kept in your app-data folder ({store.root}). "
                "Saving the project moves them beside it; closing without saving asks first."
            )
        else:
            where = f"Runs are kept in {store.root}."
        bench.runs.show_runs(store.runs(), active, where)

    def show_source(self, session_id: str) -> None:
        self.shown_id = session_id
        self.refresh()

    def attach(self, session_id: str) -> None:
        """Move an earlier session's runs into this project's runs (they are renumbered after its own)."""
        session = self.unsaved_runs.session(session_id)
        if session is None:
            return
        store = self.store()
        session.store().move_to(store.root)
        if store.unsaved:
            write_owner(store.root, self.bench.document.project.metadata.name)
        self.shown_id = ""
        self.refresh()

    def open_session(self, session_id: str) -> None:
        """Open an earlier session's unsaved project (its newest run's snapshot) with all its runs."""
        self.shown_id = ""
        self.bench.window.files.open_unsaved_session(session_id)
