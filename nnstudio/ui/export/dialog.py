"""File ▸ Export Model…: choose a format, the weights and where to write, then export off the GUI thread.

The export runs on a plain thread that fills a future (nnstudio.ui.background); a FuturePoller brings the
result back to the GUI thread, so the worker never touches Qt. The core writes each export into a private
folder beside the destination and moves it into place only after its parity check, so a failed export
leaves nothing half-written and the dialog only has to show the message.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnstudio.io import dumps
from nnstudio.io.export.errors import ExportError
from nnstudio.io.export.formats import FORMATS, FormatInfo
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.export.destination import (
    ask_create,
    create_folder,
    export_folder,
    fit_height,
    path_hint,
    remember_folder,
)
from nnstudio.ui.export.sources import (
    ExportContext,
    ExportRequest,
    WeightSource,
    default_index,
    default_output,
    extra_notes,
    resolve_output,
    retarget,
    run_request,
    weight_sources,
)

NOTE_STYLE = "color: #666;"
WARN_STYLE = "color: #a15c00;"
RESULT_STYLE = "QLabel { border: 1px solid palette(mid); border-radius: 4px; padding: 8px; }"
ERROR_COLOR = "#b00020"
OK_COLOR = "#1b5e20"


def _note(text: str = "", style: str = NOTE_STYLE) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _set_note(label: QLabel, text: str, style: str = NOTE_STYLE) -> None:
    """An empty note takes no room."""
    label.setText(text)
    label.setStyleSheet(style)
    label.setVisible(bool(text))


class ExportDialog(QDialog):
    """Export Model: `reported(text)` gives a one-line outcome (for the status bar, should the dialog be closed)."""

    reported = Signal(str)

    def __init__(self, context: Callable[[], ExportContext], parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Model")
        self.setObjectName("export_dialog")
        self.context = context
        window_settings = getattr(parent, "settings", None)  # the main window's, so tests keep theirs apart
        self.settings = settings or (window_settings if isinstance(window_settings, QSettings) else QSettings())
        self.busy = False
        self.sources: list[WeightSource] = []
        self.written: list[Path] = []
        self.unavailable: dict[str, str] | None = None  # None until the extras have been checked
        self._format = next(iter(FORMATS.values()))
        self._poller = FuturePoller(self)
        self._build()
        self.refresh_sources()
        self.path_edit.setText(str(self._default_path(self._format)))
        self._check_extras()

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = _note(style="")
        formats = QGroupBox("Format")
        formats.setLayout(self._build_formats())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.source_box = QComboBox()
        self.source_box.setObjectName("export_source")
        self.source_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.source_box.currentIndexChanged.connect(self._update_state)
        self.source_note = _note()
        form.addRow("Weights:", self._stack(self.source_box, self.source_note))
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("export_path")
        self.path_edit.textChanged.connect(self._update_state)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        self.path_note = _note()
        form.addRow("Save to:", self._stack(row, self.path_note))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.result = _note(style=RESULT_STYLE)
        self.result.setObjectName("export_result")
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.hide()
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.open_button = self.buttons.addButton("Show in Folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.clicked.connect(self.show_in_folder)
        self.open_button.hide()
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close).clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(formats)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(680)

    def _build_formats(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(2)
        self.format_group = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        self.format_notes: dict[str, QLabel] = {}
        for index, info in enumerate(FORMATS.values()):
            button = QRadioButton(f"{info.title}  ({info.extension or 'a folder'})")
            button.setObjectName(f"export_format_{info.name}")
            note = _note(info.description)
            note.setContentsMargins(22, 0, 0, 6)
            self.format_group.addButton(button, index)
            self.format_buttons[info.name] = button
            self.format_notes[info.name] = note
            column.addWidget(button)
            column.addWidget(note)
        self.format_buttons[self._format.name].setChecked(True)
        self.format_group.idToggled.connect(self._on_format_toggled)
        self._show_extras()
        return column

    @staticmethod
    def _stack(top: QWidget | QHBoxLayout, note: QLabel) -> QWidget:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        (column.addLayout if isinstance(top, QHBoxLayout) else column.addWidget)(top)
        column.addWidget(note)
        return holder

    # --- formats -----------------------------------------------------------------------------
    def _check_extras(self) -> None:
        self._poller.watch(start_thread(extra_notes, "nnstudio-export-extras"), self._on_extras_checked)

    def _on_extras_checked(self, future: Future) -> None:
        try:
            self.unavailable = future.result()
        except Exception as exc:  # an extra that fails to import in some other way is unusable too
            self.unavailable = {i.name: f"the {i.title} export's packages fail to import ({exc})"
                                for i in FORMATS.values() if i.extra}
        self._show_extras()
        self._update_state()

    def _show_extras(self) -> None:
        """Formats whose extra is missing are disabled, with what to install instead of their description."""
        for info in FORMATS.values():
            if not info.extra:
                continue
            if self.unavailable is None:
                text, style = f"Checking whether {', '.join(info.modules)} are installed…", NOTE_STYLE
            else:
                missing = self.unavailable.get(info.name)
                text = f"Not available: {missing}" if missing else info.description
                style = WARN_STYLE if info.name in self.unavailable else NOTE_STYLE
            self.format_buttons[info.name].setEnabled(self.unavailable is not None and
                                                      info.name not in self.unavailable and not self.busy)
            _set_note(self.format_notes[info.name], text, style)

    def current_format(self) -> FormatInfo:
        return self._format

    def select_format(self, name: str) -> None:
        self.format_buttons[name].setChecked(True)

    def _on_format_toggled(self, index: int, checked: bool) -> None:
        if not checked:
            return
        old, new = self._format, list(FORMATS.values())[index]
        self._format = new
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(retarget(Path(text).expanduser(), old, new)))
        self._update_state()

    # --- weights and path --------------------------------------------------------------------
    def refresh_sources(self, *_args) -> None:
        """List the runs again (a run started or ended), keeping the user's choice when it is still there."""
        context = self.context()
        name = context.path.name if context.path is not None else context.project.metadata.name
        self.heading.setText(f"Export the model of “{name}”. Each export is loaded back and compared with the "
                             "app's model before it is written.")
        previous = self.current_source()
        self.sources = weight_sources(context.store, context.active_run)
        labels = [s.label for s in self.sources]
        index = labels.index(previous.label) if previous is not None and previous.label in labels else -1
        self.source_box.blockSignals(True)
        self.source_box.clear()
        self.source_box.addItems(labels)
        self.source_box.setCurrentIndex(index if index >= 0 else default_index(self.sources))
        self.source_box.blockSignals(False)
        self._update_state()

    def current_source(self) -> WeightSource | None:
        index = self.source_box.currentIndex()
        return self.sources[index] if 0 <= index < len(self.sources) else None

    def select_source(self, label_start: str) -> None:
        """Pick the first source whose label starts with `label_start` ("Run 2", "Untrained")."""
        for index, source in enumerate(self.sources):
            if source.label.startswith(label_start):
                self.source_box.setCurrentIndex(index)
                return
        raise ValueError(f"no weights source starts with {label_start!r}")

    def _default_path(self, info: FormatInfo) -> Path:
        context = self.context()
        return default_output(info, context.path, context.project.metadata.name, self.export_folder())

    def export_folder(self) -> Path:
        """Where a project without a folder of its own exports (never the package, where the examples are)."""
        return export_folder(self.settings)

    def output_path(self) -> Path | None:
        """The path the export will write (with the format's extension), or None when the text names none."""
        return resolve_output(self.path_edit.text(), self._format)[0]

    def browse(self) -> None:
        info = self._format
        chosen = self.ask_path(info, self.output_path() or self._default_path(info))
        if chosen is not None:
            self.path_edit.setText(str(chosen))

    def ask_path(self, info: FormatInfo, current: Path) -> Path | None:
        """A file dialog for file formats; for a folder format, where to create the folder (tests replace this)."""
        if info.is_folder:
            folder = QFileDialog.getExistingDirectory(self, f"Choose where to create the {info.title}",
                                                      str(current.parent))
            return Path(folder) / current.name if folder else None
        name, _ = QFileDialog.getSaveFileName(self, f"Export {info.title} to", str(current),
                                              f"{info.title} (*{info.extension});;All files (*)")
        return Path(name) if name else None

    def _update_state(self, *_args) -> None:
        source = self.current_source()
        if source is not None and source.blocked:
            _set_note(self.source_note, source.blocked[0].upper() + source.blocked[1:] + ".", WARN_STYLE)
        else:
            _set_note(self.source_note, self._source_hint(source))
        _set_note(self.path_note, *self._path_hint())
        self.export_button.setEnabled(not self.blocker())
        self._fit_height()

    def _source_hint(self, source: WeightSource | None) -> str:
        if source is None or source.checkpoint is not None:
            return ""
        runs = "" if len(self.sources) > 1 else " No run of this project has a checkpoint yet (Training ▸ Train)."
        return f"The freshly initialised weights, from the project's init scheme and seed: nothing learned.{runs}"

    def _path_hint(self) -> tuple[str, str]:
        """A note under the path, and its style: what will be written, or why it cannot be."""
        text, warn = path_hint(self.path_edit.text(), self._format)
        return text, WARN_STYLE if warn else NOTE_STYLE

    def blocker(self) -> str:
        """Why Export cannot start now; empty when it can."""
        source = self.current_source()
        if self.busy:
            return "an export is already running"
        if source is None:
            return "choose the weights to export"
        if source.blocked:
            return source.blocked
        if self._format.extra and (self.unavailable is None or self._format.name in self.unavailable):
            return (self.unavailable or {}).get(self._format.name, f"checking the {self._format.title} packages")
        out, reason = resolve_output(self.path_edit.text(), self._format)
        return reason if out is None else ""

    # --- exporting ---------------------------------------------------------------------------
    def export(self) -> bool:
        """Start the export on a worker thread; False (with the reason shown) when it cannot start."""
        self.refresh_sources()  # a run may have started or ended since the list was filled
        reason = self.blocker()
        if reason:
            self._show_error(f"Cannot export: {reason}")
            return False
        info, source, out, context = self._format, self.current_source(), self.output_path(), self.context()
        if not self._make_folder(info, source, out):
            return False
        request = ExportRequest(dumps(context.project, context.registry), context.registry, info.name, out,
                                source.checkpoint, context.path.parent if context.path is not None else None)
        self._set_busy(True, f"Exporting {info.title} with {source.what} to {out}…")
        future = start_thread(partial(run_request, request), "nnstudio-export")
        self._poller.watch(future, partial(self._on_finished, info, source, out))
        return True

    def _make_folder(self, info: FormatInfo, source: WeightSource, out: Path) -> bool:
        """A missing destination folder is created if the user agrees; False (with the reason shown) if not."""
        folder = out.parent
        if folder.exists():
            return True
        problem = create_folder(folder) if self.confirm_create(folder) else f"the folder {folder} does not exist"
        if problem:
            self._failed(info, source, out, problem, nothing_written=True)
        return not problem

    def confirm_create(self, folder: Path) -> bool:
        """Asks whether to create a missing folder (tests replace this)."""
        return ask_create(self, folder)

    def _on_finished(self, info: FormatInfo, source: WeightSource, out: Path, future: Future) -> None:
        self._set_busy(False)
        try:
            result = future.result()
        except ExportError as exc:  # a refused request (bad_input) never got as far as writing anything
            self._failed(info, source, out, str(exc), nothing_written=not exc.bad_input)
            return
        except Exception as exc:  # shown in the dialog; the app carries on
            self._failed(info, source, out, f"unexpected error: {type(exc).__name__}: {exc}", nothing_written=False)
            return
        from nnstudio.io.export.formats import LIMIT

        self.written = list(result.paths)
        remember_folder(self.settings, self.written[0] if self.written else out)
        notes = [m for m in result.messages if not m.startswith("parity:")]
        lines = [f"<b style='color:{OK_COLOR}'>Exported {html.escape(info.title)} with "
                 f"{html.escape(source.what)}.</b>",
                 "Wrote " + ", ".join(f"<code>{html.escape(str(p))}</code>" for p in self.written) + ".",
                 f"Parity: the largest absolute difference from the app's model is "
                 f"<b>{result.max_abs_diff:.3g}</b>{' (identical outputs)' if result.max_abs_diff == 0 else ''} "
                 f"on a held-out batch (limit {html.escape(LIMIT)})."]
        lines += [f"<span style='{NOTE_STYLE}'>Note: {html.escape(n)}</span>" for n in notes]
        self._show_result("<br>".join(lines))
        self.open_button.show()
        self.reported.emit(f"Exported {info.title} to {self.written[0]} (largest difference "
                           f"{result.max_abs_diff:.3g})")

    def _failed(self, info: FormatInfo, source: WeightSource, out: Path, message: str, nothing_written: bool) -> None:
        tail = f" Nothing was written at {out}." if nothing_written else ""
        self._show_error(f"{info.title} export with {source.what} failed: {message.rstrip('.')}.{tail}")
        self.reported.emit(f"{info.title} export to {out} failed: {message}")

    def _show_error(self, text: str) -> None:
        self.open_button.hide()
        self._show_result(f"<span style='color:{ERROR_COLOR}'>{html.escape(text)}</span>")

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        for widget in (self.source_box, self.path_edit, self.browse_button):
            widget.setEnabled(not busy)
        for button in self.format_buttons.values():
            button.setEnabled(not busy)
        self._show_extras()
        if busy:
            self.open_button.hide()
            self._show_result(html.escape(text) + f"<br><span style='{NOTE_STYLE}'>The file is checked against "
                                "the app's model before it is written. You can close this window; the status bar "
                                "reports the result.</span>")
        self._update_state()

    def _show_result(self, rich: str) -> None:
        self.result.setText(rich)
        self.result.setVisible(bool(rich))
        self._fit_height()

    def _fit_height(self) -> None:
        fit_height(self)  # a longer note or a new result must not squeeze the format descriptions

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self._fit_height)  # narrower means more wrapped lines

    def show_in_folder(self) -> None:
        if self.written:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.written[0].parent)))

    def result_text(self) -> str:
        """The result area as plain text (tests, accessibility)."""
        document = QTextDocument()
        document.setHtml(self.result.text())
        return document.toPlainText()
