"""The list of a project's runs, with what can be done to them: show, compare two, evaluate, load, resume, delete.

Above the list, "Show" picks whose runs are listed: this project's, or (read-only) those an earlier session kept
for unsaved work, which can then be attached to this project or opened with their project.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.plots.base import MAX_COMPARED
from nnstudio.ui.runs import RunRecord, UnsavedSession

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Run", "Status", "Result", "Epochs", "Dataset", "Optimizer", "Started")


def describe_settings(record: RunRecord) -> str:
    optimizer = record.training.get("optimizer", {}) if isinstance(record.training, dict) else {}
    if not isinstance(optimizer, dict):
        return ""
    name = optimizer.get("name", "adam")
    lr = optimizer.get("lr")
    return f"{name}, lr {lr:g}" if isinstance(lr, (int, float)) else str(name)


class RunsPanel(QWidget):
    show_requested = Signal(object)  # RunRecord
    compare_requested = Signal(object)  # 2 to MAX_COMPARED RunRecords, newest first: solid, dashed, dotted, …
    evaluate_requested = Signal(object)
    load_requested = Signal(object)
    resume_requested = Signal(object)
    compress_requested = Signal(object)
    delete_requested = Signal(list)  # RunRecords
    source_changed = Signal(str)  # "" for this project, else an earlier session's id
    attach_requested = Signal(str)  # an earlier session's id
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QComboBox()
        self.source.setObjectName("runs_source")
        self.source.setToolTip("Runs of unsaved work that earlier sessions left (after a crash, or a quit "
                               "without saving) are kept in your app-data folder and listed here.")
        self.source.activated.connect(lambda index: self.source_changed.emit(self.source.itemData(index) or ""))
        self.attach = QPushButton("Attach to this project")
        self.attach.setObjectName("runs_attach")
        self.attach.setToolTip("Move these runs into this project's runs.")
        self.attach.clicked.connect(lambda: self.attach_requested.emit(self.source.currentData() or ""))
        self.reopen = QPushButton("Open with their project")
        self.reopen.setObjectName("runs_open")
        self.reopen.setToolTip("Open the project of the newest of these runs, unsaved, with all of them.")
        self.reopen.clicked.connect(lambda: self.open_requested.emit(self.source.currentData() or ""))
        self.source_label = QLabel("Show:")
        sources = QHBoxLayout()
        sources.addWidget(self.source_label)
        sources.addWidget(self.source, 1)
        sources.addWidget(self.attach)
        sources.addWidget(self.reopen)
        self.location = QLabel()
        self.location.setWordWrap(True)
        self.location.setStyleSheet("color: #555;")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self._emit_one(self.show_requested))
        self.buttons = {
            "show": QPushButton("Show curves"),
            "compare": QPushButton("Compare"),
            "evaluate": QPushButton("Evaluate"),
            "load": QPushButton("Load weights into editor"),
            "resume": QPushButton("Resume"),
            "compress": QPushButton("Compress…"),
            "delete": QPushButton("Delete"),
        }
        tips = {
            "show": "Draw this run's curves in the Live tab.",
            "compare": f"Select 2 to {MAX_COMPARED} runs (Ctrl-click): they are drawn on the same plots in the same "
                       "colours, the newest solid, then dashed, dotted, dash-dot and dash-dot-dot, then the same "
                       "five again, thicker.",
            "evaluate": "Score the run's best weights on its held-out data.",
            "load": "Use the run's weights for the model in the editor (matched by layer name).",
            "resume": "Continue a stopped run from its last checkpoint, optimizer state included.",
            "delete": "Delete the run's folder: settings, curves and checkpoints.",
            "compress": "Prune or quantise the run's weights to int8, with a report of size, speed and score.",
        }
        row = QHBoxLayout()
        for key, button in self.buttons.items():
            button.setToolTip(tips[key])
            button.setObjectName(f"runs_{key}")
            row.addWidget(button)
        row.addStretch(1)
        self.buttons["show"].clicked.connect(lambda: self._emit_one(self.show_requested))
        self.buttons["evaluate"].clicked.connect(lambda: self._emit_one(self.evaluate_requested))
        self.buttons["load"].clicked.connect(lambda: self._emit_one(self.load_requested))
        self.buttons["resume"].clicked.connect(lambda: self._emit_one(self.resume_requested))
        self.buttons["compress"].clicked.connect(lambda: self._emit_one(self.compress_requested))
        self.buttons["compare"].clicked.connect(self._emit_compare)
        self.buttons["delete"].clicked.connect(lambda: self.delete_requested.emit(self.selected()))
        layout = QVBoxLayout(self)
        layout.addLayout(sources)
        layout.addWidget(self.location)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row)
        self.records: dict[int, RunRecord] = {}
        self.active: int | None = None
        self.read_only = False
        self.show_sources([], "")
        self._update_buttons()

    def show_sources(self, sessions: list[UnsavedSession], shown: str) -> None:
        """Offer this project's runs and each earlier session's; the row shows only when there are some."""
        self.source.clear()
        self.source.addItem("This project's runs", "")
        for session in sessions:
            self.source.addItem(f"Runs of unsaved work: {session.describe()}", session.id)
        self.source.setCurrentIndex(max(0, self.source.findData(shown)) if shown else 0)
        self.source.setVisible(bool(sessions))
        self.source_label.setVisible(bool(sessions))
        earlier = bool(shown)
        self.attach.setVisible(earlier)
        self.reopen.setVisible(earlier)

    def show_runs(self, records: list[RunRecord], active: int | None, location: str,
                  read_only: bool = False) -> None:
        selected = {r.number for r in self.selected()}
        self.records = {r.number: r for r in records}
        self.active = active
        self.read_only = read_only
        self.location.setText(location)
        self.tree.clear()
        for record in reversed(records):  # newest first
            status = "training…" if record.number == active else record.status
            item = QTreeWidgetItem([record.name, status, record.headline(), str(record.epochs),
                                    str(record.dataset.get("name", "")) if isinstance(record.dataset, dict) else "",
                                    describe_settings(record), record.created])
            item.setData(0, NUMBER_ROLE, record.number)
            if record.message:
                item.setToolTip(1, record.message)
                item.setToolTip(2, record.message)
            self.tree.addTopLevelItem(item)
            item.setSelected(record.number in selected)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._update_buttons()

    def selected(self) -> list[RunRecord]:
        numbers = [item.data(0, NUMBER_ROLE) for item in self.tree.selectedItems()]
        return sorted((self.records[n] for n in numbers if n in self.records), key=lambda r: r.number)

    def select(self, numbers: list[int]) -> None:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            item.setSelected(item.data(0, NUMBER_ROLE) in numbers)

    def _emit_one(self, signal) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            signal.emit(chosen[0])

    def _emit_compare(self) -> None:
        chosen = sorted(self.selected(), key=lambda record: record.number, reverse=True)  # the newest first
        if 2 <= len(chosen) <= MAX_COMPARED:
            self.compare_requested.emit(chosen)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        one = chosen[0] if len(chosen) == 1 else None
        idle = one is not None and one.number != self.active
        self.buttons["show"].setEnabled(one is not None)
        self.buttons["compare"].setEnabled(2 <= len(chosen) <= MAX_COMPARED)
        self.buttons["evaluate"].setEnabled(idle and (one.checkpoint("best") or one.checkpoint("last")) is not None)
        self.buttons["load"].setEnabled(idle and (one.checkpoint("best") or one.checkpoint("last")) is not None)
        self.buttons["compress"].setEnabled(self.buttons["evaluate"].isEnabled())
        self.buttons["resume"].setEnabled(idle and one.resumable and self.active is None and not self.read_only)
        self.buttons["delete"].setEnabled(bool(chosen) and all(r.number != self.active for r in chosen))
