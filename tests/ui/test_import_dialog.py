"""File ▸ Import Model…: a Python class (after the CLI's warning that its code runs) or a bundle .zip opens as
a new unsaved project with its weights as the start; any failure is one line in the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from nnstudio.io.importing.notice import RUNS_CODE_WARNING
from nnstudio.io.importing.source import RUNS_CODE_WARNING as CLI_WARNING
from nnstudio.ui import import_dialog
from nnstudio.ui.import_dialog import ImportDialog, class_names, one_line
from nnstudio.ui.weights_dialog import check_weights
from tests.helpers import mlp

SOURCE = """
import torch
from torch import nn


class Helper:
    pass


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3)
        self.fc = nn.Linear(4 * 6, 3)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class Odd(nn.Module):
    def forward(self, x):
        return x.cumsum(1)
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.py"
    path.write_text(SOURCE)
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A real bundle from the export API, without the TorchScript/ONNX/Python exports (seconds each)."""
    from nnstudio.io.export import bundle as bundle_format
    from nnstudio.io.export import export_model

    path = tmp_path_factory.mktemp("bundle") / "run.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundle_format, "EXPORTS", {})
        export_model(mlp(width=8).project, "bundle", path)
    return path


@pytest.fixture
def dialog(window, tmp_path: Path, monkeypatch) -> ImportDialog:
    monkeypatch.setattr(import_dialog, "default_weights_folder", lambda: tmp_path / "imported")
    window.actions_by_id["file.import"].trigger()
    found = window.findChild(ImportDialog)
    assert found is not None and found.isVisible()
    return found


def run_import(dialog: ImportDialog, qtbot) -> None:
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)


def test_the_warning_is_the_clis(dialog, model_file: Path) -> None:
    assert RUNS_CODE_WARNING is CLI_WARNING
    dialog.file.setText(str(model_file))
    assert not dialog.warning.isHidden() and RUNS_CODE_WARNING[1:] in dialog.warning.text()


def test_class_names_are_read_without_running_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "model.py"
    path.write_text(f"open({str(marker)!r}, 'w')\nclass A:\n    pass\nclass B(nn.Module):\n    pass\n")
    assert class_names(path) == ["B", "A"]
    assert not marker.exists()
    (tmp_path / "broken.py").write_text("class (:\n")
    assert class_names(tmp_path / "broken.py") == []


def test_import_a_class_opens_it_unsaved_with_its_weights(window, dialog, model_file: Path, tmp_path, qtbot) -> None:
    dialog.file.setText(str(model_file))
    assert [dialog.class_name.itemText(i) for i in range(dialog.class_name.count())] == ["Small", "Odd", "Helper"]
    dialog.shapes.setText("2,8")
    run_import(dialog, qtbot)
    assert not dialog.isVisible()
    document = window.document
    assert [n.type for n in document.graph.nodes.values()] == ["Input", "Conv1d", "ReLU", "Flatten", "Linear", "Output"]
    assert document.path is None and document.is_modified()  # closing asks to save it
    weights = Path(document.project.init.weights)
    assert weights.parent == tmp_path / "imported" and weights.is_file()
    check = check_weights(document.project, document.registry, weights)
    assert check.report is not None and check.report.matched_count == check.report.model_count
    assert "Imported Small" in window.statusBar().currentMessage()


def test_a_refused_class_is_one_line_and_changes_nothing(window, dialog, model_file: Path, tmp_path, qtbot) -> None:
    before = window.document
    dialog.file.setText(str(model_file))
    dialog.class_name.setCurrentText("Odd")
    dialog.shapes.setText("5")
    run_import(dialog, qtbot)
    text = dialog.error.text()
    assert dialog.isVisible() and not dialog.error.isHidden()
    assert text.startswith("Cannot import: ") and "cumsum" in text and "\n" not in text
    assert window.document is before
    assert not (tmp_path / "imported").exists()


@pytest.mark.parametrize("name, words", [("nothing.py", "no such file"), ("notes.txt", "import a Python file")])
def test_bad_files_are_one_line(dialog, tmp_path: Path, qtbot, name: str, words: str) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello")
    dialog.file.setText(str(tmp_path / name))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert not dialog.busy and words in dialog.error.text() and "\n" not in dialog.error.text()


def test_a_bad_shape_is_one_line(dialog, model_file: Path, qtbot) -> None:
    dialog.file.setText(str(model_file))
    dialog.shapes.setText("2,0")
    run_import(dialog, qtbot)
    assert "--input-shape '2,0'" in dialog.error.text() and "\n" not in dialog.error.text()


def test_import_a_bundle_reads_it_without_the_warning(window, dialog, bundle: Path, qtbot) -> None:
    dialog.file.setText(str(bundle))
    assert dialog.warning.isHidden() and not dialog.class_name.isEnabled()
    run_import(dialog, qtbot)
    document = window.document
    assert [n.name for n in document.graph.nodes.values()] == [
        n.name for n in mlp(width=8).project.graph.nodes.values()
    ]
    assert Path(document.project.init.weights) == bundle.resolve()
    check = check_weights(document.project, document.registry, bundle)
    assert check.report is not None and check.report.matched_count == check.report.model_count


def test_a_damaged_bundle_is_one_line(dialog, tmp_path: Path, qtbot) -> None:
    (tmp_path / "broken.zip").write_bytes(b"not a zip at all")
    dialog.file.setText(str(tmp_path / "broken.zip"))
    run_import(dialog, qtbot)
    assert "not a zip archive" in dialog.error.text() and "\n" not in dialog.error.text()


def test_keeping_the_current_project_drops_the_import(window, dialogs, dialog, model_file, tmp_path, qtbot) -> None:
    window.view.select_all()
    window.view.delete_selection()  # unsaved work in the window
    before = window.document
    dialogs.unsaved_answer = "cancel"
    dialog.file.setText(str(model_file))
    dialog.shapes.setText("2,8")
    run_import(dialog, qtbot)
    assert window.document is before and dialogs.unsaved_asked
    assert dialog.isVisible() and not list((tmp_path / "imported").glob("*.safetensors"))


def test_unexpected_errors_are_named_in_one_line() -> None:
    assert one_line(RuntimeError("boom\nTraceback ...")) == "RuntimeError: boom"
    assert one_line(ValueError()) == "ValueError"
