"""The Search panel: start and stop a study of the project's search space in the background, watch its trials
arrive in a table and four plots, and apply the best trial to the project as one undoable edit.

The space itself is the project's `search` section (docs/search.md); the panel shows it as text, with the
problems of the section if it has any, and picks the sampler, pruner, budget and storage. Each trial is a normal
run in the project's runs folder, so the Runs tab lists it (Refresh there) with its curves and checkpoints.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio.search import figures
from nnstudio.search.tables import DEFAULT_TRIALS, PRUNERS, SAMPLERS
from nnstudio.ui.search.apply import ApplyTrialCommand
from nnstudio.ui.search.plots import HistoryPlot, ImportancePlot, ParallelPlot, ParetoPlot
from nnstudio.ui.search.session import SearchRequest, SearchSession, Update, snapshot

if TYPE_CHECKING:
    from nnstudio.ui.document import Document

POLL_MS = 250
INSTALL = 'Search needs Optuna: pip install "nnstudio[search]"'
COLUMNS = ("trial", "state", "metric", "seconds", "params")


class SearchPanel(QWidget):
    status_message = Signal(str)
    trial_finished = Signal()  # a trial's run was written: the Runs tab lists it

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        document.project.settings_changed.connect(self._on_section)
        self.session: SearchSession | None = None
        self.summary: dict[str, Any] | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.refresh_space()

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.trials = QSpinBox()
        self.trials.setRange(0, 100_000)
        self.trials.setSpecialValueText(f"(from the project, else {DEFAULT_TRIALS})")  # 0: no override
        self.trials.setValue(0)
        self.trials.setToolTip("Trials the study should hold in all; starting again with more extends it")
        self.sampler = QComboBox()
        self.sampler.addItems(["(from the project)", *SAMPLERS])
        self.pruner = QComboBox()
        self.pruner.addItems(["(from the project)", *PRUNERS])
        for box, table in ((self.sampler, SAMPLERS), (self.pruner, PRUNERS)):
            for index, spec in enumerate(table.values(), start=1):
                box.setItemData(index, spec.doc, Qt.ItemDataRole.ToolTipRole)
        self.storage = QLineEdit()
        self.storage.setPlaceholderText("default: NAME.search.db beside the project (SQLite)")
        self.storage.setToolTip("Any Optuna storage URL: sqlite:///PATH.db, postgresql://…, or journal:PATH. "
                                "Workers on other machines join with: nnstudio search --join NAME --storage URL")
        self.study = QLineEdit()
        self.study.setPlaceholderText("default: the project file's name")
        form = QFormLayout()
        form.addRow("Trials", self.trials)
        form.addRow("Sampler", self.sampler)
        form.addRow("Pruner", self.pruner)
        form.addRow("Storage", self.storage)
        form.addRow("Study", self.study)
        self.start_button = QPushButton("Start search")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the running trial (it finishes and counts)")
        self.apply_button = QPushButton("Apply best trial")
        self.apply_button.setToolTip("Put the best trial's graph and settings into the project (one undo step)")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(lambda: self.stop())
        self.apply_button.clicked.connect(self.apply_best)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.apply_button):
            buttons.addWidget(button)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addLayout(buttons)
        side.addWidget(self.status)
        side.addWidget(self.space_label)
        side.addStretch(1)
        controls = QWidget()
        controls.setLayout(side)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.history = HistoryPlot()
        self.parallel = ParallelPlot()
        self.importance = ImportancePlot()
        self.pareto = ParetoPlot()
        self.plots = QTabWidget()
        for widget, name in ((self.history, "History"), (self.parallel, "Parallel coordinates"),
                             (self.importance, "Importance"), (self.pareto, "Pareto front")):
            self.plots.addTab(widget, name)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(self.table)
        splitter = QSplitter()
        splitter.addWidget(controls)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(splitter)
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(not running and self._best() is not None)

    def set_document(self, document: Document) -> None:
        """Follow the window's document; a running study keeps the project it started from."""
        if document is self.document:
            return
        self.document.project.settings_changed.disconnect(self._on_section)
        self.document = document
        document.project.settings_changed.connect(self._on_section)
        self.refresh_space()

    def _on_section(self, section: str) -> None:
        if section in ("search", "training"):
            self.refresh_space()

    # --- the space ---------------------------------------------------------------------------------
    def refresh_space(self) -> list[tuple[str, str]]:
        """Show the project's search space as text, or its problems; returns the problems."""
        try:
            from nnstudio.search.study import parse_search
        except ImportError:
            self.space_label.setText(INSTALL)
            return [("search", INSTALL)]
        project = self.document.project
        if not project.search.get("space"):
            self.space_label.setText("The project has no search space yet: add a `search` section with the "
                                     "dimensions to vary (docs/search.md), e.g. the learning rate as a log range.")
            return [("search.space", "no dimensions to search")]
        space, problems = parse_search(project, {})
        self.space_label.setText("\n".join(f"{place}: {message}" for place, message in problems)
                                 if problems else space.describe())
        return problems

    # --- running -----------------------------------------------------------------------------------
    def request(self) -> SearchRequest | str:
        """What Start runs, or the one line that says why it cannot."""
        path = self.document.path
        if path is None:
            return "Save the project first: its study and trial runs live beside the project file."
        problems = self.refresh_space()
        if problems:
            return f"The search section has {len(problems)} problem(s): {problems[0][0]}: {problems[0][1]}"
        pick = [box.currentText() if box.currentIndex() > 0 else None for box in (self.sampler, self.pruner)]
        return SearchRequest(snapshot(self.document.project), Path(path), self.trials.value() or None, pick[0], pick[1],
                             self.storage.text().strip(), self.study.text().strip())

    def start(self) -> bool:
        request = self.request()
        if isinstance(request, str):
            self._say(request)
            return False
        self.session = SearchSession(request)
        self._set_running(True)
        self._say("Starting the study…")
        self._timer.start()
        return True

    def stop(self, now: bool = False) -> None:
        if self.session is not None:
            self.session.stop(now)
            self._say("Stopping after the running trial…" if not now else "Stopping now…")

    def shutdown(self, wait_ms: int = 30_000) -> None:
        """The window is closing: the running trial goes back to the study (a later start runs it again), and
        the worker thread is waited for, so the process can exit."""
        session = self.session
        if session is not None and not session.future.done():
            session.stop(now=True)
            # the study's own failure (or a slow trial) is not the closing window's to report
            with contextlib.suppress(Exception):
                session.future.result(timeout=wait_ms / 1000)
        self._timer.stop()

    def _poll(self) -> None:
        session = self.session
        if session is None:
            return
        for update in session.drain():
            self.show_update(update)
        if session.future.done():
            self._timer.stop()
            self._finished(session)

    def _finished(self, session: SearchSession) -> None:
        error = session.future.exception()
        self._set_running(False)
        if error is not None:
            self._say(str(error).splitlines()[0] if str(error) else type(error).__name__)
            return
        counts = ", ".join(f"{n} {state}" for state, n in self.summary["counts"].items() if n) if self.summary \
            else "no trials"
        self._say(f"Study {session.context.name!r} finished its work here: {counts}.")

    # --- showing -----------------------------------------------------------------------------------
    def show_update(self, update: Update) -> None:
        summary = self.summary = update.summary
        maximize = summary["direction"] == "maximize"
        metric = summary["metric"]
        self.history.draw(figures.history(summary["trials"], maximize), metric)
        self.parallel.draw(figures.parallel(summary["trials"], metric), maximize)
        self.importance.draw(update.importances, update.why_not)
        if summary["second"]:
            self.pareto.draw(figures.pareto(summary["trials"], maximize), metric, summary["second"])
        self.plots.setTabVisible(3, bool(summary["second"]))
        self._fill_table(summary["trials"])
        if update.line:
            self._say(update.line)
            self.trial_finished.emit()
        self._set_running(self.session is not None and not self.session.future.done())

    def _fill_table(self, trials: list[dict[str, Any]]) -> None:
        self.table.setRowCount(len(trials))
        for row, trial in enumerate(trials):
            values = trial["values"] or []
            seconds = trial["seconds"]
            cells = (str(trial["number"]), trial["state"] + (f" ({trial['reason']})" if trial["reason"] else ""),
                     ", ".join(f"{v:.5g}" for v in values) or "-",
                     f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "-",
                     "  ".join(f"{k.split('.')[-1]}={_show(v)}" for k, v in trial["params"].items()))
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def _best(self) -> dict[str, Any] | None:
        best = self.summary["best"] if self.summary else []
        return best[0] if best else None

    def apply_best(self) -> bool:
        """The best trial's project into the document: one undoable edit."""
        if self.session is None or self.session.context is None or self._best() is None:
            self._say("No completed trial to apply yet.")
            return False
        from nnstudio.search.report import best_project

        try:
            project, trial = best_project(self.session.context)
        except Exception as exc:  # a SearchError (the structure no longer validates) or a storage error
            self._say(str(exc))
            return False
        self.document.push(ApplyTrialCommand(self.document, project, trial.number))
        self._say(f"Applied trial {trial.number}; Undo puts the project back.")
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status_message.emit(text)


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
