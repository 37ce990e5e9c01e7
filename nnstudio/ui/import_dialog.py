"""File ▸ Import Model…: a PyTorch nn.Module class, or an nnstudio bundle .zip, as a new unsaved project.

The same importer as `nnstudio import` does the work (nnstudio.io.importing), on a helper thread: it
imports torch, runs the user's file and traces the model, which takes seconds. For a Python file the
dialog shows the CLI's own warning that the code runs, and lists the file's classes from its syntax tree
(reading, not running it). Whatever goes wrong is one line in the dialog, never a traceback.

The imported weights come along: a class's are written to the per-user data folder and a bundle is used
as it is, and the project's start weights (init.weights, as File ▸ Load Weights sets them) point there, so
the first run trains on from them. File ▸ Clear Loaded Weights starts from scratch instead.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.io.importing.notice import RUNS_CODE_WARNING
from nnstudio.model import Project
from nnstudio.ui.background import FuturePoller, start_thread
from nnstudio.ui.help import show_once
from nnstudio.ui.inspector.form import ERROR_STYLE

if TYPE_CHECKING:
    from nnstudio.ui.main_window import MainWindow

FILE_FILTER = "Python files or nnstudio bundles (*.py *.zip);;Python files (*.py);;nnstudio bundles (*.zip)"
WARNING_STYLE = "color: #8a4b00; background: #fff4e0; border: 1px solid #f0c36d; padding: 6px;"
STATUS_MS = 10_000


@dataclass
class Imported:
    """What the helper thread hands back: the project, what to tell the user, and any file it wrote."""

    project: Project
    messages: list[str] = field(default_factory=list)
    written: Path | None = None  # weights written for this import (deleted if the project is not opened)


def default_weights_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "imported"


def class_names(path: Path) -> list[str]:
    """The top-level classes of a Python file, those deriving from something `Module` first. Parses, never runs."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]

    def is_module(node: ast.ClassDef) -> bool:
        return any(ast.unparse(base).rpartition(".")[2] == "Module" for base in node.bases)

    return [node.name for node in sorted(classes, key=lambda node: not is_module(node))]


def settle_torch_imports() -> None:
    """Import torch's lazily loaded parts with import statements, which wait while another helper thread (the
    training engine's, at start-up) is still importing them. Tracing reaches torch._dynamo through an attribute,
    which does not wait, and fails on the half-initialised module ("partially initialized module")."""
    from nnstudio.training.threads import preload_lazy_modules

    preload_lazy_modules()


def import_class(path: Path, class_name: str, shapes_text: str, folder: Path) -> Imported:
    """Run the user's class through the importer and keep its weights. Runs on a helper thread."""
    from safetensors.torch import save_file

    from nnstudio.io.importing import ImportModelError, import_model, parse_input_shape
    from nnstudio.util.atomic import atomic_write

    settle_torch_imports()
    if not class_name:
        raise ImportModelError("give the name of the nn.Module class to import")
    shapes = [parse_input_shape(text.strip()) for text in shapes_text.split(";") if text.strip()] or None
    result = import_model(f"{path}:{class_name}", shapes, class_name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"{path.stem}-{class_name}-{uuid.uuid4().hex[:8]}.safetensors"
        atomic_write(weights, lambda temp: save_file(result.state, temp))
    except OSError as exc:
        raise ImportModelError(f"cannot keep the imported weights in {folder}: {exc.strerror or exc}") from None
    result.project.init.weights = str(weights)
    return Imported(result.project, [*result.messages, f"its weights are kept in {weights}"], weights)


def import_bundle(path: Path) -> Imported:
    """Open a bundle (nothing in it runs) and check its weights fit its graph. Runs on a helper thread."""
    from nnstudio.io.importing import open_bundle

    bundle = open_bundle(path)
    bundle.compiled()  # refuses weights that do not fit the project, as `nnstudio import` does
    trained = "trained" if bundle.manifest.get("trained") else "untrained"
    bundle.project.init.weights = str(path.resolve())  # Load Weights reads a bundle's model.safetensors
    return Imported(
        bundle.project,
        [
            f"opened bundle {path.name} ({bundle.project.metadata.name}, {trained} "
            f"weights, nnstudio {bundle.manifest.get('nnstudio_version', '?')})"
        ],
    )


def one_line(exc: BaseException) -> str:
    """An exception as the single line the dialog shows: the importer's own messages name the place."""
    known = type(exc).__name__ in ("ImportModelError", "BundleError")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if known and text else f"{type(exc).__name__}: {text}".rstrip(": ")


class ImportDialog(QDialog):
    """Pick a .py file and a class, or a bundle; Import runs off the GUI thread and opens the result."""

    def __init__(
        self, open_project: Callable[[Project], bool], parent: QWidget | None = None, weights_folder: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        self.setMinimumWidth(620)
        self.open_project = open_project
        self.weights_folder = weights_folder or default_weights_folder()
        self.imported: Imported | None = None
        self._poller = FuturePoller(self)
        self._build()
        self._update()

    def _build(self) -> None:
        intro = QLabel(
            "Turn a PyTorch <b>nn.Module</b> class (a .py file), or an nnstudio bundle exported from "
            "here (.zip), into a new project with its weights."
        )
        intro.setWordWrap(True)
        self.file = QLineEdit()
        self.file.setPlaceholderText("model.py or bundle.zip")
        self.file.textChanged.connect(self._on_file_changed)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        self.class_name = QComboBox()
        self.class_name.setEditable(True)
        self.shapes = QLineEdit()
        self.shapes.setPlaceholderText("e.g. 1,28,28 or 16:int64; several inputs: 1,28,28; 10")
        self.shapes.setToolTip(
            "One sample's shape per input, batch excluded. Leave empty when the first layer "
            "is a Linear, whose size is used."
        )
        form = QFormLayout()
        form.addRow("File:", row)
        form.addRow("Class:", self.class_name)
        form.addRow("Input shape:", self.shapes)
        self.warning = QLabel(f"⚠ {RUNS_CODE_WARNING[:1].upper()}{RUNS_CODE_WARNING[1:]}.")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.warning):
            layout.addWidget(widget)
        layout.addLayout(form)
        for widget in (self.error, self.progress, self.buttons):
            layout.addWidget(widget)
        self.show_error("")

    # --- the form ----------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        text = self.file.text().strip()
        return Path(text).expanduser() if text else None

    @property
    def is_bundle(self) -> bool:
        return self.path is not None and self.path.suffix.lower() == ".zip"

    @property
    def busy(self) -> bool:
        return self._poller.pending > 0

    def browse(self) -> None:
        start = str(self.path.parent) if self.path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Import a model", start, FILE_FILTER)
        if name:
            self.file.setText(name)

    def _on_file_changed(self, _text: str) -> None:
        path = self.path
        names = class_names(path) if path is not None and path.suffix == ".py" and path.is_file() else []
        current = self.class_name.currentText()
        self.class_name.clear()
        self.class_name.addItems(names)
        if current in names:
            self.class_name.setCurrentText(current)
        self._update()

    def _update(self) -> None:
        bundle = self.is_bundle
        self.warning.setVisible(not bundle)  # a bundle is only read; a class's code runs
        self.class_name.setEnabled(not bundle and not self.busy)
        self.shapes.setEnabled(not bundle and not self.busy)
        self.file.setEnabled(not self.busy)
        self.import_button.setEnabled(self.path is not None and not self.busy)
        self.progress.setVisible(self.busy)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # --- importing ---------------------------------------------------------------------------
    def start(self) -> None:
        """Import button: check the form, then hand the work to a helper thread."""
        path = self.path
        if path is None or self.busy:
            return
        if not path.is_file():
            self.show_error(f"{path}: no such file")
            return
        if path.suffix.lower() not in (".py", ".zip"):
            self.show_error(f"{path}: import a Python file (.py) with an nn.Module class, or a bundle (.zip)")
            return
        self.show_error("")
        if self.is_bundle:
            work = lambda: import_bundle(path)  # noqa: E731
        else:
            name, shapes, folder = self.class_name.currentText().strip(), self.shapes.text(), self.weights_folder
            work = lambda: import_class(path, name, shapes, folder)  # noqa: E731
        self._poller.watch(start_thread(work, "nnstudio-import-model"), self._on_done)
        self._update()

    def _on_done(self, future: Future) -> None:
        self._update()
        exc = future.exception()
        if exc is not None:
            self.show_error(f"Cannot import: {one_line(exc)}")
            return
        imported: Imported = future.result()
        if not self.open_project(imported.project):  # the user kept the current project after all
            if imported.written is not None:
                imported.written.unlink(missing_ok=True)
            return
        self.imported = imported
        self.accept()

    def done(self, result: int) -> None:
        self._poller.stop()
        super().done(result)

    def summary(self) -> str:
        if self.imported is None:
            return ""
        weights = "; training starts from its weights (File ▸ Clear Loaded Weights for a fresh start)"
        return f"Imported {self.imported.project.metadata.name}: {self.imported.messages[0]}{weights}"


def show_import(window: MainWindow) -> QDialog:
    def make() -> ImportDialog:
        dialog = ImportDialog(window.files.open_new, window)
        dialog.accepted.connect(lambda: window.statusBar().showMessage(dialog.summary(), STATUS_MS))
        return dialog

    return show_once(window, ImportDialog, make)
