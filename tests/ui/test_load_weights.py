"""File ▸ Load Weights…: a real checkpoint is checked against the graph, shown per node, and set as the project's
init.weights with one undoable command; a source that fits nothing is refused with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from safetensors.torch import save_file

from nnstudio.compile.weights import TORCH_SUFFIXES
from nnstudio.model import Node
from nnstudio.ui.commands import SetInitWeightsCommand, SetParamCommand
from nnstudio.ui.inspector.panel import ProjectPage
from nnstudio.ui.weights_dialog import TORCH_FILES, WeightsDialog, stored_path
from tests.ui.training.app_helpers import make_project

CHECK_TIMEOUT_MS = 60_000  # the first check imports torch and compiles on a helper thread
ONE_EPOCH = {"epochs": 1, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}}
TINY_SPIRALS = {"name": "spirals", "params": {"samples": 200}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[object, Path]:
    """The spirals project trained for one epoch by the training engine; its run folder holds checkpoints."""
    from nnstudio.training.engine import Trainer
    from nnstudio.training.job import prepare

    project = make_project(dataset=TINY_SPIRALS, training=ONE_EPOCH)
    run = tmp_path_factory.mktemp("weights") / "runs" / "run-1"
    result = Trainer(prepare(project), out_dir=run).run()
    assert (run / "checkpoints" / "best" / "model.safetensors").is_file(), result
    return project, run


def _fresh(project):
    copied = make_project(dataset=TINY_SPIRALS, training=ONE_EPOCH)
    assert [n.name for n in copied.graph.nodes.values()] == [n.name for n in project.graph.nodes.values()]
    return copied


def _checked(window, qtbot, path: Path) -> WeightsDialog:
    dialog = window.weights.load_path(path)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=CHECK_TIMEOUT_MS)
    return dialog


def test_a_run_folder_is_reported_per_node_and_applied_as_one_undoable_step(make_window, qtbot, trained, tmp_path):
    project, run = trained
    window = make_window(_fresh(project), path=run.parent.parent / "spirals.nnstudio")
    document = window.document
    dialog = _checked(window, qtbot, run)
    assert dialog.ok_button.isEnabled() and dialog.ok_button.isVisible()
    assert "loaded 6 of 6 tensors (3 node(s))" in dialog.heading.text() and "checkpoints/best" in dialog.heading.text()
    rows = dict(dialog.rows())
    assert rows["fc1"] == "2 tensor(s) loaded" and rows["fc2.weight"] == "loaded"
    assert document.project.init.weights is None, "nothing changes before OK"
    depth = document.undo_stack.count()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert document.project.init.weights == "runs/run-1"  # beside the project file: stored relative to it
    assert document.undo_stack.count() == depth + 1
    assert document.undo_stack.undoText() == "Load weights from run-1"
    assert window.statusBar().currentMessage().startswith("Training will start from loaded 6 of 6 tensors")
    page = window.inspector.page
    assert isinstance(page, ProjectPage) and page.weights_label.text() == "runs/run-1"
    assert page.clear_weights.isEnabled()
    document.undo_stack.undo()
    assert document.project.init.weights is None and not page.clear_weights.isEnabled()
    assert "fresh initialisation" in page.weights_label.text()
    document.undo_stack.redo()
    assert document.project.init.weights == "runs/run-1"


def test_the_loaded_weights_start_the_next_training(make_window, qtbot, trained):
    """What the dialog stored is what prepare() loads: the trained tensors, over the fresh initialisation."""
    from safetensors.torch import load_file

    from nnstudio.training.job import prepare

    project, run = trained
    window = make_window(_fresh(project), path=run.parent.parent / "spirals.nnstudio")
    dialog = _checked(window, qtbot, run / "checkpoints" / "last" / "model.safetensors")
    dialog.accept()
    job = prepare(window.document.project, base_dir=window.document.path.parent)
    assert job.init_report is not None and job.init_report.matched_count == 6
    saved = load_file(str(run / "checkpoints" / "last" / "model.safetensors"))
    assert torch.equal(job.compiled.network.state_dict()["fc2.weight"], saved["fc2.weight"])


def test_a_partial_match_lists_what_was_not_loaded_and_why(make_window, qtbot, trained):
    project, run = trained
    changed = _fresh(project)
    fc2 = changed.graph.node_by_name("fc2")
    window = make_window(changed)
    window.document.push(SetParamCommand(window.document, fc2.id, "out_features", 32))
    dialog = _checked(window, qtbot, run)
    assert dialog.ok_button.isEnabled()
    rows = dict(dialog.rows())
    assert rows["fc2.weight"] == "shape differs (model [32, 64], file [64, 64])"
    assert rows["fc3.weight"] == "shape differs (model [2, 32], file [2, 64])"
    assert rows["fc2.bias"] == "shape differs (model [32], file [64])"
    assert rows["fc1"] == "2 tensor(s) loaded" and rows["fc3"] == "1 tensor(s) loaded"  # fc3.bias still fits
    assert "Not loaded: 3" in rows


def test_a_file_that_fits_nothing_is_refused_with_its_reason(make_window, qtbot, tmp_path):
    window = make_window(make_project(dataset=TINY_SPIRALS))
    document = window.document
    stranger = tmp_path / "other.safetensors"
    save_file({"encoder.weight": torch.zeros(3, 3)}, str(stranger))
    depth = document.undo_stack.count()
    dialog = _checked(window, qtbot, stranger)
    text = dialog.heading.text()
    assert text.startswith("Cannot use these weights: ") and "none of its 1 tensors is named like the model" in text
    assert "\n" not in text and not dialog.ok_button.isVisible() and dialog.cancel_button.text() == "Close"
    dialog.accept()  # even a forced OK applies nothing
    assert document.project.init.weights is None and document.undo_stack.count() == depth


def test_an_unreadable_source_is_refused_naming_it(make_window, qtbot, tmp_path):
    window = make_window(make_project(dataset=TINY_SPIRALS))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    dialog = _checked(window, qtbot, broken)
    assert f"{broken}: not a readable torch file" in dialog.heading.text()


def test_an_invalid_graph_is_refused_before_anything_is_compiled(make_window, qtbot, trained):
    project, run = trained
    window = make_window(_fresh(project))
    window.document.graph.add_node(Node("n_stray", "Linear", "stray", {"out_features": 4}))  # unconnected
    dialog = window.weights.load_path(run)
    assert not dialog.busy and not dialog.ok_button.isVisible()
    assert "Fix the" in dialog.heading.text() and "matching weights needs a valid graph" in dialog.heading.text()


def test_clear_loaded_weights_is_undoable(make_window):
    window = make_window(make_project(dataset=TINY_SPIRALS))
    document = window.document
    clear = window.actions_by_id["file.clear_weights"]
    clear.trigger()
    assert "No weights are loaded" in window.statusBar().currentMessage()
    document.push(SetInitWeightsCommand(document, "/somewhere/model.safetensors"))
    clear.trigger()
    assert document.project.init.weights is None
    assert document.undo_stack.undoText() == "Clear loaded weights"
    assert "Undo brings them back" in window.statusBar().currentMessage()
    document.undo_stack.undo()
    assert document.project.init.weights == "/somewhere/model.safetensors"


def test_clear_button_on_the_project_page(make_window, qtbot):
    window = make_window(make_project(dataset=TINY_SPIRALS))
    document = window.document
    document.push(SetInitWeightsCommand(document, "weights/model.safetensors"))
    page = window.inspector.page
    assert isinstance(page, ProjectPage) and page.weights_label.text() == "weights/model.safetensors"
    qtbot.mouseClick(page.clear_weights, Qt.MouseButton.LeftButton)
    assert document.project.init.weights is None


def test_editing_the_init_scheme_keeps_the_loaded_weights(make_window):
    window = make_window(make_project(dataset=TINY_SPIRALS))
    document = window.document
    document.push(SetInitWeightsCommand(document, "weights/model.safetensors"))
    page = window.inspector.page
    page.form.editor("seed").edited.emit(7)
    assert document.project.init.seed == 7 and document.project.init.weights == "weights/model.safetensors"


def test_loading_weights_is_refused_while_a_run_trains(make_window, trained):
    project, run = trained
    window = make_window(_fresh(project))
    window.view.set_read_only(True)
    assert window.weights.load_path(run) is None
    assert "Training is running" in window.statusBar().currentMessage()
    window.weights.clear()
    assert window.document.project.init.weights is None


def test_the_file_menu_offers_the_weights_actions(window):
    file_menu = next(m for m in window.menuBar().findChildren(type(window.recent_menu)) if m.title() == "&File")
    names = [a.objectName() for a in file_menu.actions()]
    wanted = ["file.load_weights", "file.load_weights_folder", "file.clear_weights", "file.export"]
    assert [n for n in names if n in wanted] == wanted


def test_stored_paths_are_relative_inside_the_project_folder(tmp_path):
    project_file = tmp_path / "p" / "net.nnstudio"
    assert stored_path(tmp_path / "p" / "runs" / "run-2", project_file) == "runs/run-2"
    outside = tmp_path / "elsewhere" / "w.pt"
    assert stored_path(outside, project_file) == str(outside.resolve())
    assert stored_path(outside, None) == str(outside.resolve())


def test_the_file_filter_names_every_torch_suffix():
    suffixes = {name.removeprefix("*") for name in TORCH_FILES}
    assert suffixes == set(TORCH_SUFFIXES)
