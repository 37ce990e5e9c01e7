"""The training workbench: settings, checks, runs and plots for the window's current document.

It snapshots the project when Train is pressed, starts a RunSession, locks the canvas and the settings
while the run trains, and turns the run's signals into progress, plots, messages and run records.
Run-history actions (show, compare, evaluate, load weights, resume, delete) live in run_actions.py.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QVBoxLayout, QWidget

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.io import dumps
from nnstudio.training.settings import parse_settings
from nnstudio.ui.background import GuiThreadCollector
from nnstudio.ui.editor.unit_thumbnails import UnitThumbnails
from nnstudio.ui.evaluation.runner import EvaluationRunner
from nnstudio.ui.evaluation.view import EvaluationView
from nnstudio.ui.plots.dashboard import LivePlots
from nnstudio.ui.plots.layout import ScrollTabs
from nnstudio.ui.runs import RunStore
from nnstudio.ui.search.panel import SearchPanel
from nnstudio.ui.training.health_scrubber import HealthFeed
from nnstudio.ui.training.marker import NodeMarker
from nnstudio.ui.training.panel import RunControls, SettingsPanel
from nnstudio.ui.training.preview import DatasetLoader
from nnstudio.ui.training.problems import ProblemsBridge, divergence_diagnostic, training_diagnostics
from nnstudio.ui.training.recipe_form import recipe_section
from nnstudio.ui.training.run_actions import RunActions
from nnstudio.ui.training.runs_panel import RunsPanel
from nnstudio.ui.training.session import RunSession
from nnstudio.ui.training.worker import RunOutcome, RunRequest

CHECK_DELAY_MS = 250
PLOT_INTERVAL_MS = 100  # plots redraw at most 10 times a second: painting holds the GIL the training thread needs
# While a run trains, the GUI thread gives the GIL up on every Qt call (PySide releases it) and must win it back
# from the training thread each time; with Python's default 5 ms switch interval a repaint of a few hundred
# calls then takes ten times longer (the convoy effect). Measured against a Python-bound training thread (a
# small MLP such as spirals), one decision-boundary update and repaint took 36 ms at 5 ms, 23 ms at 0.5 ms and
# 10 ms at 0.1 ms (9 ms with no training at all), and the training thread lost nothing: it is only asked to
# let go when the GUI thread waits.
TRAINING_SWITCH_INTERVAL_S = 0.0001


class Workbench(QObject):
    run_started = Signal(object)  # RunSession
    run_finished = Signal(object)  # RunOutcome
    records_shown = Signal(object)  # the records list the plots (and the canvas's health badges) now show

    def __init__(self, window, runs_root: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.runs_root = Path(runs_root) if runs_root is not None else None
        self.document = window.document
        self.session: RunSession | None = None
        self.diagnostics: list[Diagnostic] = []
        self.marker = NodeMarker()
        self.error_details = ""
        self._switch_interval: float | None = None
        self.settings_panel = SettingsPanel(self.document)
        self.controls = RunControls()
        self.plots = LivePlots()
        self.evaluation = EvaluationView()
        self.runs = RunsPanel()
        self.tabs = ScrollTabs()  # a page wider or taller than the room scrolls instead of growing the window
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.plots, "Live")
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.tabs.addTab(self.runs, "Runs")
        self.search = SearchPanel(self.document)  # a study of the project's search space, in the background
        self.search.trial_finished.connect(self.refresh_runs)
        self.tabs.addTab(self.search, "Search")
        self.dock_body = QWidget()
        layout = QVBoxLayout(self.dock_body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        self.health = HealthFeed(self)  # badges on the canvas, the time scrubber and the findings
        layout.addWidget(self.health.panel)
        layout.addWidget(self.tabs, 1)
        self.loader = DatasetLoader(self)
        self.evaluator = EvaluationRunner(self)
        self.bridge = ProblemsBridge(getattr(window, "problems", None), self)
        self.actions = RunActions(self)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check)
        self._plot_timer = QTimer(self)
        self._plot_timer.setSingleShot(True)
        self._plot_timer.setInterval(PLOT_INTERVAL_MS)
        self._plot_timer.timeout.connect(self.plots.refresh)
        self._connect()
        self.set_document(self.document)

    # --- wiring ------------------------------------------------------------------------------
    def _connect(self) -> None:
        c = self.controls
        c.train_clicked.connect(self.train)
        c.pause_clicked.connect(self.pause)
        c.resume_clicked.connect(self.resume)
        c.stop_clicked.connect(self.stop)
        c.details_clicked.connect(self.show_details)
        c.clear_mark_clicked.connect(self.clear_mark)
        self.loader.loaded.connect(self._on_preview_loaded)
        self.loader.failed.connect(self._on_preview_failed)
        self.plots.node_clicked.connect(self._select_node)
        self.plots.export_failed.connect(lambda text: self.controls.show_error(text))
        self.plots.history_records = lambda: self.shown_records
        self.window.view.selection_changed.connect(self._on_canvas_selection)
        self.plots.tabs.currentChanged.connect(self._update_boundary_wanted)
        self.tabs.currentChanged.connect(self._update_boundary_wanted)
        self.evaluator.done.connect(self._on_evaluated)
        self.evaluator.failed.connect(self.evaluation.show_error)
        self.evaluator.sampled.connect(self.evaluation.show_samples)
        self.evaluation.sample_runner = self.evaluator.sample
        self.shown_records: list[dict] = []

    @property
    def shown_records(self) -> list[dict]:
        return self._shown_records

    @shown_records.setter
    def shown_records(self, records: list[dict]) -> None:
        self._shown_records = records
        self.records_shown.emit(records)

    def set_document(self, document) -> None:
        """Follow the window's document (a file was opened); a running run keeps its own snapshot."""
        old = self.document
        if old is not document:
            for signal, slot in self._document_slots(old):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect(slot)
        self.document = document
        for signal, slot in self._document_slots(document):
            signal.connect(slot)
        self.bridge.set_document(document)
        self.settings_panel.set_document(document)
        self.search.set_document(document)
        self.marker.clear()
        self.bridge.set_run([])
        self.request_preview(now=True)
        self.check()
        self.refresh_runs()

    def _document_slots(self, document):
        return [(document.project.settings_changed, self._on_settings_changed),
                (document.analysis_changed, self._schedule_check),
                (document.path_changed, self._on_path_changed)]

    # --- stores ------------------------------------------------------------------------------
    def store(self, document=None) -> RunStore:
        return self.actions.places.store(document)  # beside the file, or the per-user folder (run_places.py)

    def _on_path_changed(self, path) -> None:
        self.actions.places.path_changed(path)

    def base_dir(self) -> Path | None:
        return self.document.path.parent if self.document.path is not None else None

    # --- checks and preview ------------------------------------------------------------------
    def _on_settings_changed(self, section: str) -> None:
        if section in ("training", "search"):  # a setting's "Search" toggle shows the search section
            self.settings_panel.settings.refresh()
        if section == "dataset":
            self.settings_panel.dataset.refresh()
        if section in ("dataset", "training"):
            self.request_preview()
            self._schedule_check()

    def _schedule_check(self, *_args) -> None:
        self._check_timer.start()

    def request_preview(self, now: bool = False) -> None:
        project = self.document.project
        section = project.dataset if project.dataset else {"name": self.settings_panel.dataset.current_spec().name}
        seed = parse_settings(project.training)[0].seed
        self.loader.request(section, seed, self.base_dir(), now)

    def preview_data(self):
        """The preview's data when it belongs to the document's current dataset section and seed."""
        project = self.document.project
        key = (repr(project.dataset), parse_settings(project.training)[0].seed, self.base_dir())
        return self.loader.data if self.loader.key == key else None

    def _on_preview_loaded(self, data) -> None:
        self.settings_panel.preview.show_data(data)
        self._schedule_check()

    def _on_preview_failed(self, message: str) -> None:
        self.settings_panel.preview.show_message(message, is_error=True)
        self._schedule_check()

    def check(self) -> list[Diagnostic]:
        """Run the training checks now and publish them (settings fields, panel summary, Problems dock)."""
        self._check_timer.stop()
        self.diagnostics = training_diagnostics(self.document.project, self.base_dir(), self.preview_data())
        self.settings_panel.show_problems(self.diagnostics)
        self.bridge.set_training(self.diagnostics)
        return self.diagnostics

    # --- running -----------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self.session is not None and self.session.active

    def train(self) -> bool:
        """Snapshot the project and start a run; False (with the reasons shown) when it cannot start."""
        if self.is_training:
            return False
        document = self.document
        if not document.analysis_is_current():
            document.reanalyze_now()
        problems = [d for d in self.check() if d.is_error]
        if problems:
            self.controls.show_error(f"Cannot train: {problems[0].message}" +
                                     (f" (and {len(problems) - 1} more in the Problems panel)"
                                      if len(problems) > 1 else ""))
            return False
        text = dumps(document.project, document.registry)
        store = self.store()
        record = store.create(text, document.project.training, document.project.dataset,
                              document.project.metadata.name)
        request = RunRequest(text, document.registry, self.base_dir(), record.path,
                             initial_weights=self.actions.initial_weights())
        title = f"{record.name} of “{document.project.metadata.name}”"
        self._start(RunSession(request, record, store, title, self), fresh=True)
        return True

    def _start(self, session: RunSession, fresh: bool) -> None:
        self.session = session
        self.marker.clear()
        self.bridge.set_run([])
        self.error_details = ""
        self.controls.show_error("")
        self.window.view.set_read_only(True)
        self.settings_panel.set_locked(True)
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, TRAINING_SWITCH_INTERVAL_S))
            GuiThreadCollector.defer_full = True  # a full collection stalls the plots for 60-90 ms
        self.controls.set_state("preparing")
        self.controls.progress.setValue(0)
        self.controls.progress.setFormat("loading data and compiling…")
        stamp = time.strftime("%H:%M:%S")
        self.controls.status.setText(f"Training {session.title}, as it was at {stamp}. The canvas is locked "
                                     "until the run ends.")
        self.shown_records = session.records
        self.plots.show_run(session.series, session.record.name)
        self.plots.set_recipe(recipe_section(session.record.training)[0])
        self.plots.set_step_range(None)
        self.plots.boundary.clear()  # the tab stays where it is until the run says whether it has a boundary
        UnitThumbnails.of(self.window.view).clear()
        self.tabs.setCurrentWidget(self.plots)
        session.started.connect(lambda info, s=session: self._on_started(s, info))
        session.updated.connect(lambda update, s=session: self._on_update(s, update))
        session.state_changed.connect(self._on_state)
        session.finished.connect(lambda outcome, s=session: self._on_finished(s, outcome))
        session.closed.connect(lambda s=session: self._on_closed(s))
        session.record.status = "preparing"
        session.store.save(session.record)
        self._update_boundary_wanted()
        session.start()
        self.refresh_runs()
        self.run_started.emit(session)

    def pause(self) -> None:
        if self.session is not None and self.session.state in ("preparing", "running"):
            self.session.pause()
            self.controls.set_state("pausing")
            self.controls.progress.setFormat(self.controls.progress.format().split(" · paus")[0] + " · pausing…")

    def resume(self) -> None:
        if self.session is not None and self.session.state in ("paused", "pausing"):
            self.session.resume()
            self.controls.set_state("running")

    def stop(self) -> None:
        if self.is_training:
            self.session.stop()
            self.controls.set_state("stopping")
            self.controls.detail.setText("stopping after this step…")

    def _on_started(self, session: RunSession, info) -> None:
        session.record.status = "running"
        session.store.save(session.record)
        self.controls.set_state(session.state)
        points = info.points
        self.plots.set_boundary_available(points is not None)
        if self.plots.primary is session.series:
            self.plots.set_step_range(info.epochs * info.steps_per_epoch)
        self._update_boundary_wanted()
        if points is not None:
            self.plots.boundary.set_points(points[0], points[1], info.num_classes or 2)
        notes = ([info.weights_note] if info.weights_note else []) + [w.message for w in info.warnings]
        if notes:
            self.controls.status.setText(f"{self.controls.status.text()} Note: {'; '.join(notes)}.")
        self.refresh_runs()

    def _on_update(self, session: RunSession, update) -> None:
        if update.progress is not None:
            self.controls.show_progress(update.progress)
            if self.session is not None and self.session.state == "pausing":
                self.controls.progress.setFormat(self.controls.progress.format() + " · pausing…")
        if update.boundary is not None:
            self.plots.show_boundary(update.boundary)
            UnitThumbnails.of(self.window.view).show(update.boundary.units)  # hidden units, under their nodes
        if update.records and self.plots.primary is session.series and not self._plot_timer.isActive():
            self._plot_timer.start()  # coalesces this update's redraw with the next ones

    def _on_state(self, state: str) -> None:
        self.controls.set_state(state)
        if state == "paused":
            self.controls.progress.setFormat(self.controls.progress.format().split(" · paus")[0] + " · paused")
            self.controls.detail.setText("paused: Resume continues exactly where it stopped")

    def _on_finished(self, session: RunSession, outcome: RunOutcome) -> None:
        record = session.record
        record.status, record.message, record.node_id = outcome.status, outcome.message, outcome.node_id
        record.metrics = {k: v for k, v in outcome.metrics.items() if isinstance(v, (int, float))}
        record.best, record.epochs, record.step = outcome.best, outcome.epochs, outcome.step
        session.store.save(record)
        self.window.view.set_read_only(False)
        self.settings_panel.set_locked(False)
        self.controls.set_state("idle")
        self._plot_timer.stop()
        self.plots.refresh()
        self._report(session, outcome)
        self.refresh_runs()
        if outcome.status != "failed" and (record.checkpoint("best") or record.checkpoint("last")):
            self.actions.evaluate(record, session.store, automatic=True)
        self.run_finished.emit(outcome)

    def _report(self, session: RunSession, outcome: RunOutcome) -> None:
        record = session.record
        if outcome.status == "failed":
            self.controls.status.setText(f"{session.title} failed.")
            self.controls.progress.setFormat(self.controls.progress.format().split(" · ")[0] + " · failed")
            self.error_details = outcome.details
            marked = False
            if outcome.problems:
                self.bridge.set_run(outcome.problems)
                self.settings_panel.show_problems(outcome.problems)
            elif outcome.node_id is not None or "diverged" in outcome.message:
                self.bridge.set_run([divergence_diagnostic(outcome.message, outcome.node_id)])
            if outcome.node_id is not None and session.store is self.store():
                marked = self.marker.show(self.window.view, outcome.node_id, "⚠ training diverged here",
                                          outcome.message)
            self.controls.show_error(outcome.message, details=bool(outcome.details), mark=marked)
            return
        headline = record.headline()
        verb = "finished" if outcome.status == "finished" else "stopped (Resume it from the Runs tab)"
        best = outcome.best
        best_text = (f"; best {best['metric'].replace('_', ' ')} {best['value']:.4g} at epoch {best['epoch']}"
                     if best and isinstance(best.get("value"), (int, float)) else "")
        self.controls.status.setText(f"{session.title} {verb}: {headline}{best_text}." if headline else
                                     f"{session.title} {verb}.")
        if outcome.status == "finished":
            self.controls.progress.setValue(1000)

    def _on_closed(self, session: RunSession) -> None:
        if self.session is session:
            self.session = None
        if self.session is None and self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
            GuiThreadCollector.defer_full = False  # the deferred full collection runs at the collector's next tick
        self.refresh_runs()

    # --- errors and marks --------------------------------------------------------------------
    def show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Training failed", self.controls.message.text(),
                          QMessageBox.StandardButton.Close, self.window)
        box.setDetailedText(self.error_details or "No further details.")
        box.setModal(False)
        box.open()
        self.details_box = box

    def clear_mark(self) -> None:
        self.marker.clear()
        self.controls.show_error(self.controls.message.text(), details=bool(self.error_details))

    # --- selection ---------------------------------------------------------------------------
    def _update_boundary_wanted(self, *_args) -> None:
        """Grids are computed on the training thread only while someone can see them."""
        if self.session is not None:  # the boundary tab; the canvas, for its unit thumbnails
            self.session.worker.boundary_wanted = self.plots.boundary_tab.isVisible()
            self.session.worker.canvas_wanted = self.window.view.isVisible()

    def _on_canvas_selection(self, node_ids: list[str]) -> None:
        if self.window.view.document is not self.document:
            self.set_document(self.window.view.document)
        self.plots.set_selected_nodes(node_ids)

    def _select_node(self, node_id: str) -> None:
        if node_id in self.document.graph.nodes:
            self.window.view.select_nodes([node_id])

    # --- runs --------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        self.actions.places.refresh()

    def _on_evaluated(self, result, title: str) -> None:
        self.evaluation.show_result(result, title)

    def shutdown(self, wait_ms: int = 30_000) -> None:
        """Stop a running run cooperatively and wait for its thread (the window is closing)."""
        session = self.session
        if session is not None:
            session.stop()
            session.wait(wait_ms)
            QCoreApplication.sendPostedEvents(session)  # deliver `finished`, so the run record is saved
        self.loader.shutdown()
        self.evaluator.shutdown()
        self.search.shutdown(wait_ms)
