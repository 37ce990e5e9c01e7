"""What the Runs tab can do with a run: show or compare its curves, evaluate it, load its weights into the
editor's model, resume it, delete it.

"Loading weights into the editor" compiles the graph as it is now and copies in every tensor whose layer
name and shape still match; what no longer fits keeps its fresh initial values, and the message says so.
The loaded weights are then where the next Train starts from (when that box is ticked).

The actions work on the runs the Runs tab lists (RunPlaces.shown_store): the project's, or an earlier session's
runs of unsaved work, which are read-only here (they cannot be resumed into this project).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QMessageBox

from nnstudio.ui.plots.series import RunSeries
from nnstudio.ui.runs import RunRecord, RunStore
from nnstudio.ui.training.live_changes import LiveChanges
from nnstudio.ui.training.run_places import RunPlaces
from nnstudio.ui.training.worker import RunRequest

if TYPE_CHECKING:
    from nnstudio.ui.training.workbench import Workbench


def final_weights(record: RunRecord) -> Path | None:
    """The checkpoint holding the weights the run ended with: `best` when early stopping restored the best
    epoch, else `last`; so the evaluation matches the run's own final metrics."""
    stopping = record.training.get("early_stopping", {}) if isinstance(record.training, dict) else {}
    restored = isinstance(stopping, dict) and stopping.get("enabled") and stopping.get("restore_best", True)
    order = ("best", "last") if restored else ("last", "best")
    return record.checkpoint(order[0]) or record.checkpoint(order[1])


class RunActions:
    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.loaded: tuple[Path, str] | None = None  # checkpoint folder, description
        self.start_from_loaded = QCheckBox("Start the next run from the loaded weights")
        self.start_from_loaded.setObjectName("training_start_from_loaded")
        self.start_from_loaded.setVisible(False)
        bench.controls.layout().addWidget(self.start_from_loaded)
        runs = bench.runs
        runs.show_requested.connect(self.show)
        runs.compare_requested.connect(self.compare)
        runs.evaluate_requested.connect(lambda record: self.evaluate(record))
        runs.load_requested.connect(self.load_weights)
        runs.resume_requested.connect(self.resume)
        runs.compress_requested.connect(self.compress)
        runs.delete_requested.connect(self.delete)
        self.confirm = self._ask  # replaced in tests: (title, text) -> bool
        self.places = RunPlaces(bench)
        self.compress_dialog = None  # the Compress… dialog last opened, kept alive while it shows
        self.live = LiveChanges(bench)  # LR, freeze and Step while a run trains; change markers on the plots

    def clear_view(self) -> None:
        """Another project was opened: nothing of the previous one's runs stays on screen (progress, plots,
        messages, evaluation, loaded weights). A run still training keeps its view."""
        bench = self.bench
        if bench.is_training:
            return
        controls = bench.controls
        controls.show_error("")
        controls.status.setText("Ready.")
        controls.detail.setText("")
        controls.detail.setToolTip("")
        controls.progress.setValue(0)
        controls.progress.setFormat("not started")
        bench.error_details = ""
        bench.shown_records = []
        bench.plots.show_run(None)
        self.live.markers.clear()
        bench.plots.set_step_range(None)
        bench.plots.set_boundary_available(False)
        evaluation = bench.evaluation
        evaluation.result = None
        evaluation.metrics.clear()
        while evaluation.tabs.count():
            evaluation.tabs.removeTab(0)
        evaluation.show_busy("Train a model, or pick a run in Runs and press Evaluate, to see how it does on data "
                             "it never trained on.")
        self.loaded = None
        self.start_from_loaded.setVisible(False)
        self.start_from_loaded.setChecked(False)
        self.places.shown_id = ""

    # --- curves ------------------------------------------------------------------------------
    def _series(self, record: RunRecord, store: RunStore) -> tuple[RunSeries, list[dict]]:
        session = self.bench.session
        if session is not None and session.record.path == record.path:
            return session.series, session.records
        history = store.history(record)
        return RunSeries.from_history(history), history.records()

    def show(self, record: RunRecord) -> None:
        series, records = self._series(record, self.places.shown_store())
        self.bench.shown_records = records
        self.bench.plots.show_run(series, record.name)
        self.live.show_records(records)
        self.bench.plots.set_step_range(None)
        self.bench.plots.set_boundary_available(False)
        self.bench.tabs.setCurrentWidget(self.bench.plots)

    def compare(self, chosen: list[RunRecord]) -> None:
        """Several runs on the same plots (RunsPanel sends 2 to MAX_COMPARED, the newest first)."""
        store = self.places.shown_store()
        series = [self._series(record, store) for record in chosen]
        self.bench.shown_records = series[0][1]
        self.bench.plots.compare_runs([(runs, record.name) for (runs, _), record in zip(series, chosen, strict=True)])
        self.live.show_records(series[0][1])  # the change markers of the first (solid) run
        self.bench.plots.set_step_range(None)
        self.bench.plots.set_boundary_available(False)
        self.bench.tabs.setCurrentWidget(self.bench.plots)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, record: RunRecord, store: RunStore | None = None, automatic: bool = False) -> None:
        store = store or self.places.shown_store()
        checkpoint = final_weights(record)
        if checkpoint is None:
            self.bench.evaluation.show_error(f"{record.name} saved no checkpoint")
            return
        try:
            text = store.project_text(record)
        except OSError as exc:
            self.bench.evaluation.show_error(f"{record.name}: its project snapshot cannot be read ({exc})")
            return
        self.bench.evaluation.show_busy(f"Evaluating {record.name}…")
        self.bench.evaluator.evaluate(text, self.bench.document.registry, self.bench.base_dir(), checkpoint,
                                      record.name)
        if not automatic:
            self.bench.tabs.setCurrentWidget(self.bench.evaluation)

    # --- weights -----------------------------------------------------------------------------
    def load_weights(self, record: RunRecord) -> None:
        from nnstudio.compile import CompileError
        from nnstudio.compile.weights import WeightsError
        from nnstudio.io.importing.weights import load_graph_weights

        checkpoint = final_weights(record)
        if checkpoint is None:
            return
        bench = self.bench
        try:
            _, report = load_graph_weights(bench.document.project, checkpoint, strict=False)
        except CompileError as exc:
            bench.controls.show_error(f"Cannot load {record.name}'s weights: the graph does not compile now "
                                      f"({exc.diagnostics[0].message if exc.diagnostics else exc})")
            return
        except WeightsError as exc:
            bench.controls.show_error(f"Cannot load {record.name}'s weights: {exc}")
            return
        which = checkpoint.name
        if report.ok:
            text = f"Model weights: {record.name} ({which} checkpoint), every layer matched."
        else:
            text = (f"Model weights: {record.name} ({which} checkpoint). The graph changed since that run, so "
                    f"only layers whose name and shape still match were loaded; the rest keep fresh initial "
                    f"weights ({report.describe(4)}).")
        self.loaded = (checkpoint, text)
        bench.controls.detail.setText(text if len(text) < 90 else text[:87] + "…")
        bench.controls.detail.setToolTip(text)
        bench.controls.status.setText(text)
        self.start_from_loaded.setVisible(True)
        self.start_from_loaded.setChecked(True)

    def initial_weights(self) -> Path | None:
        if self.loaded is not None and self.start_from_loaded.isChecked():
            return self.loaded[0]
        return None

    def compress(self, record: RunRecord) -> None:
        """Open the compression dialog on the run's final weights and its own project snapshot."""
        from nnstudio.ui.compress_dialog import CompressDialog

        checkpoint, bench = final_weights(record), self.bench
        try:
            text = self.places.shown_store().project_text(record)
        except OSError as exc:
            bench.controls.show_error(f"Cannot compress {record.name}: {exc}")
            return
        if checkpoint is not None:
            self.compress_dialog = CompressDialog(text, bench.document.registry, bench.base_dir(), checkpoint,
                                                  record.name, record.path / "compressed", bench.window)
            self.compress_dialog.show()

    # --- resume and delete -------------------------------------------------------------------
    def resume(self, record: RunRecord) -> None:
        bench = self.bench
        checkpoint = record.checkpoint("last")
        if bench.is_training or checkpoint is None or self.places.shown_id:
            return
        store = bench.store()
        try:
            text = store.project_text(record)
        except OSError as exc:
            bench.controls.show_error(f"Cannot resume {record.name}: {exc}")
            return
        record.resumes += 1
        request = RunRequest(text, bench.document.registry, bench.base_dir(), record.path, resume_from=checkpoint,
                             boundary=True)
        from nnstudio.ui.training.session import RunSession

        session = RunSession(request, record, store, f"{record.name} (resumed)", bench)
        bench._start(session, fresh=False)

    def delete(self, records: list[RunRecord]) -> None:
        bench = self.bench
        records = [r for r in records if not (bench.is_training and bench.session.record.path == r.path)]
        if not records:
            return
        names = ", ".join(r.name for r in records)
        if not self.confirm("Delete runs", f"Delete {names}? Their settings, curves and checkpoints are removed "
                            "from disk."):
            return
        store = self.places.shown_store()
        for record in records:
            store.delete(record)
        if self.loaded is not None and any(self.loaded[0].is_relative_to(r.path) for r in records):
            self.loaded = None
            self.start_from_loaded.setVisible(False)
            self.start_from_loaded.setChecked(False)
        bench.refresh_runs()

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.bench.window, title, text)
        return answer == QMessageBox.StandardButton.Yes
