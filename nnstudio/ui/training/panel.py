"""The training dock's widgets: the run controls with progress, and the settings column.

`RunControls` shows Train / Pause / Resume / Stop, a progress bar (epoch, step, throughput, ETA) and
what is training. `SettingsPanel` holds the dataset chooser, its preview and every training setting.
These widgets only display and emit; the controller decides.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.document import Document
from nnstudio.ui.training.dataset_form import DatasetEditor
from nnstudio.ui.training.preview import DatasetPreview
from nnstudio.ui.training.settings_form import TrainingSettingsEditor
from nnstudio.ui.training.throttle import Progress

ERROR_STYLE = "color: #c62828;"
DETAIL_SAMPLE = "99,999 samples/s · ETA 0:00:00 · loss 0.00000"  # the widest detail line, for its width


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe_progress(progress: Progress) -> tuple[str, str]:
    """(progress-bar text, detail line)."""
    bar = f"epoch {progress.epoch}/{progress.epochs} · step {progress.step}/{progress.total_steps}"
    parts = []
    if progress.samples_per_s:
        parts.append(f"{progress.samples_per_s:,.0f} samples/s")
    parts.append(f"ETA {format_duration(progress.eta_s)}")
    if progress.loss is not None:
        parts.append(f"loss {progress.loss:.4g}")
    return bar, " · ".join(parts)


class LazyProgressBar(QProgressBar):
    """A progress bar whose new value is painted with the next paint pass, not at once.

    QProgressBar.setValue repaints synchronously (its parents' background included) whenever the bar moves a
    visible amount, which during a run is every update: ~2.5 ms each on the GUI thread, more while the
    training thread contends for the GIL. Disabling updates around the call turns that into one update()."""

    def setValue(self, value: int) -> None:  # Qt's name
        self.setUpdatesEnabled(False)
        try:
            super().setValue(value)
        finally:
            self.setUpdatesEnabled(True)  # schedules an ordinary update() of the bar


class RunControls(QWidget):
    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    step_clicked = Signal()  # while paused: one more batch (training/interventions.py)
    details_clicked = Signal()
    clear_mark_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        self.train = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train")
        self.pause = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause")
        self.resume = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Resume")
        self.stop = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop")
        self.step = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step")
        for name, button, signal in (("train", self.train, self.train_clicked),
                                     ("pause", self.pause, self.pause_clicked),
                                     ("resume", self.resume, self.resume_clicked),
                                     ("step", self.step, self.step_clicked),
                                     ("stop", self.stop, self.stop_clicked)):
            button.setObjectName(f"training_{name}")
            button.clicked.connect(signal)
        self.train.setToolTip("Train the model as it is now (F5). The canvas is locked while it trains.")
        self.stop.setToolTip("Stop after the current step and keep a checkpoint (it can be resumed).")
        self.step.setToolTip("Run one more batch, update the plots with its numbers, and pause again (F8).")
        self.progress = LazyProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("not started")
        self.progress.setMinimumWidth(180)
        self.status = QLabel("Ready.")
        self.status.setObjectName("training_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.detail = QLabel()
        self.detail.setObjectName("training_detail")
        # Long lines must not widen the window past a small screen: the status wraps, the detail is clipped.
        self.status.setWordWrap(True)
        # The detail changes ten times a second: a fixed width keeps each change from re-laying out the window
        # (the status beside it wraps, so a wider detail would change its height and resize every plot).
        self.detail.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.detail.setFixedWidth(self.detail.fontMetrics().horizontalAdvance(DETAIL_SAMPLE) + 8)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message = QLabel()
        self.message.setObjectName("training_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPushButton("Details…")
        self.clear_mark = QPushButton("Clear mark")
        self.details.clicked.connect(self.details_clicked)
        self.clear_mark.clicked.connect(self.clear_mark_clicked)
        buttons = QHBoxLayout()
        for button in (self.train, self.pause, self.resume, self.step, self.stop):
            buttons.addWidget(button)
        buttons.addWidget(self.progress, 1)
        info = QHBoxLayout()  # the throughput and ETA beside the status, so the buttons' row fits a narrow window
        info.addWidget(self.status, 1)
        info.addWidget(self.detail)
        messages = QHBoxLayout()
        messages.addWidget(self.message, 1)
        messages.addWidget(self.details)
        messages.addWidget(self.clear_mark)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(3)
        layout.addLayout(buttons)
        layout.addLayout(info)
        layout.addLayout(messages)
        self.show_error("")
        self.set_state("idle")

    def set_state(self, state: str) -> None:
        """idle, preparing, running, pausing, paused or stopping: which buttons make sense."""
        running = state in ("preparing", "running", "pausing", "paused", "stopping")
        self.train.setEnabled(not running)
        self.pause.setVisible(state != "paused")
        self.resume.setVisible(state == "paused")
        self.pause.setEnabled(state in ("running", "preparing"))
        self.resume.setEnabled(state == "paused")
        self.step.setVisible(state == "paused")
        self.step.setEnabled(state == "paused")
        self.stop.setEnabled(state in ("preparing", "running", "pausing", "paused"))

    def show_progress(self, progress: Progress) -> None:
        bar, detail = describe_progress(progress)
        value = int(progress.fraction * 1000)
        if value != self.progress.value():  # each change repaints; skip the ones that change nothing
            self.progress.setValue(value)
        if bar != self.progress.format():
            self.progress.setFormat(bar)
        if detail != self.detail.text():
            self.detail.setText(detail)

    def show_error(self, text: str, details: bool = False, mark: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.details.setVisible(bool(text) and details)
        self.clear_mark.setVisible(mark)


class SettingsPanel(QScrollArea):
    """Dataset, preview and training settings for one document, in a scrollable column."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("training_problems_summary")
        self.dataset = DatasetEditor(document)
        self.preview = DatasetPreview()
        self.settings = TrainingSettingsEditor(document)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(_heading("Dataset"))
        layout.addWidget(self.dataset)
        layout.addWidget(self.preview)
        layout.addWidget(_heading("Training"))
        layout.addWidget(self.settings)
        layout.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(300)
        self._shown: list = []

    def set_document(self, document: Document) -> None:
        self.dataset.set_document(document)
        self.settings.set_document(document)

    def set_locked(self, locked: bool) -> None:
        self.dataset.set_locked(locked)
        self.settings.set_locked(locked)
        if locked:
            self.summary.setText("Locked while the model trains: the run uses the settings it started with.")
            self.summary.setStyleSheet("color: #555;")
        else:
            self.show_problems(self._shown)

    def show_problems(self, diagnostics) -> None:
        self._shown = list(diagnostics)
        if self.dataset.locked:
            return
        errors = [d for d in diagnostics if d.is_error]
        warnings = [d for d in diagnostics if not d.is_error]
        if errors:
            first = errors[0].message
            more = f" (and {len(errors) - 1} more in the Problems panel)" if len(errors) > 1 else ""
            self.summary.setText(f"Cannot train yet: {first}{more}")
            self.summary.setStyleSheet(ERROR_STYLE)
        elif warnings:
            self.summary.setText(f"Ready to train; note: {warnings[0].message}")
            self.summary.setStyleSheet("color: #b45309;")
        else:
            self.summary.setText("✓ Ready to train.")
            self.summary.setStyleSheet("color: #2e7d32;")
        self.dataset.show_problems(diagnostics)
        self.settings.show_problems(diagnostics)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold; font-size: 11pt; margin-top: 6px;")
    return label
