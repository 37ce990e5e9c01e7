"""Issue 13: the export dialog's "Save to": `/`, missing folders, clipped descriptions, the proposed folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.io.export.formats import FORMATS
from nnstudio.ui.export import ExportContext, ExportDialog
from nnstudio.ui.export.sources import PACKAGE_FOLDER, default_output, resolve_output
from nnstudio.ui.runs import RunStore

EXPORT_TIMEOUT_MS = 120_000


@pytest.fixture
def make_dialog(qtbot, registry, tmp_path):
    dialogs = []

    def make(path: Path | None = None, settings: QSettings | None = None) -> ExportDialog:
        project = load(EXAMPLES["spirals"].path, registry)
        context = ExportContext(project, registry, path, RunStore(tmp_path / "runs"), None)
        settings = settings or QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        dialog = ExportDialog(lambda: context, settings=settings)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.waitUntil(lambda: dialog.unavailable is not None, timeout=EXPORT_TIMEOUT_MS)  # a helper thread
        dialogs.append(dialog)
        return dialog

    yield make
    for dialog in dialogs:
        qtbot.waitUntil(lambda d=dialog: not d.busy, timeout=EXPORT_TIMEOUT_MS)


@pytest.mark.parametrize("text", ["/", "//", "~/.."])
def test_a_path_that_names_no_file_is_refused_readably(make_dialog, text):
    dialog = make_dialog()
    dialog.path_edit.setText(text)  # the hint used to raise ValueError here
    assert "is a folder: add a file name" in dialog.path_note.text()
    assert not dialog.export_button.isEnabled()
    for name in FORMATS:  # switching formats renames the file: with no file name, nothing to rename
        if dialog.format_buttons[name].isEnabled():
            dialog.select_format(name)
    assert not dialog.export()
    assert "Cannot export:" in dialog.result_text() and "is a folder" in dialog.result_text()


def test_resolve_output_adds_the_extension_and_refuses_folders(tmp_path):
    torchscript, python = FORMATS["torchscript"], FORMATS["python"]
    assert resolve_output(str(tmp_path / "net"), torchscript) == (tmp_path / "net.pt", "")
    assert resolve_output(str(tmp_path / "net-python"), python) == (tmp_path / "net-python", "")
    assert resolve_output("  ", torchscript)[0] is None
    out, reason = resolve_output(str(tmp_path), torchscript)
    assert out is None and str(tmp_path / "model.pt") in reason


def test_a_missing_folder_is_created_when_the_user_agrees(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    asked = []
    dialog.confirm_create = lambda folder: asked.append(folder) or True
    out = tmp_path / "new" / "deeper" / "spirals.safetensors"
    dialog.select_format("safetensors")
    dialog.path_edit.setText(str(out))
    assert "does not exist yet: Export offers to create it" in dialog.path_note.text()
    assert dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert asked == [out.parent] and out.parent.is_dir()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=EXPORT_TIMEOUT_MS)
    assert out.is_file(), dialog.result_text()


def test_the_format_descriptions_stay_whole_after_a_result(make_dialog):
    dialog = make_dialog()
    dialog.resize(680, dialog.height())
    long_result = "Exported. Wrote <code>" + "/a/very/long/path" * 8 + "</code>. " + "Parity note. " * 60
    dialog._show_result(long_result)
    for name, note in dialog.format_notes.items():
        if note.isVisible():
            assert note.height() >= note.heightForWidth(note.width()), name
    assert dialog.result.height() >= dialog.result.heightForWidth(dialog.result.width())


def test_an_example_is_proposed_in_the_documents_folder_then_the_last_export_folder(make_dialog, tmp_path):
    dialog = make_dialog()
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    expected = Path(documents) if Path(documents).is_dir() else Path.home()
    proposed = dialog.output_path()
    assert proposed.parent == expected and not proposed.is_relative_to(PACKAGE_FOLDER)

    settings = dialog.settings
    settings.setValue("export/last_folder", str(tmp_path))
    assert make_dialog(settings=settings).output_path().parent == tmp_path

    inside = make_dialog(path=EXAMPLES["spirals"].path)  # a shipped file opened by its path
    assert not inside.output_path().is_relative_to(PACKAGE_FOLDER)
    assert default_output(FORMATS["onnx"], EXAMPLES["spirals"].path, "Spirals", tmp_path) == tmp_path / "spirals.onnx"
