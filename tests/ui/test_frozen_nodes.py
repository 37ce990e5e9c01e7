"""Frozen nodes and learning-rate scales in the editor: the inspector's Training section pushes one undoable
command per change, the canvas shows frozen nodes and scaled learning rates through the graph's signal, loss
and Target nodes look apart from layers, and the Summary dock splits trainable from frozen parameters."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionButton

from nnstudio.model.builder import GraphBuilder
from nnstudio.model.graph import NodeTraining
from nnstudio.ui.commands import RemoveNodesCommand, SetNodeTrainingCommand
from nnstudio.ui.editor import style
from nnstudio.ui.editor.face import FROZEN_GLYPH
from nnstudio.ui.inspector.node_page import LOCKED_NOTE, NodePage
from nnstudio.ui.inspector.training_box import LOCKED_TEXT

COMPILE_TIMEOUT_MS = 60_000


def teacher_student() -> GraphBuilder:
    """A student learns labels and a teacher's outputs; the teacher (with batch norm) serves only the losses."""
    b = GraphBuilder(name="distil")
    x = b.add("Input", "x", shape=[2])
    student = b.add("Linear", "student", out_features=2)
    out = b.add("Output", "logits")
    fc = b.add("Linear", "teacher_fc", out_features=8)
    bn = b.add("BatchNorm1d", "teacher_bn")
    act = b.add("ReLU", "teacher_act")
    head = b.add("Linear", "teacher_out", out_features=2)
    y = b.add("Target", "label", field="y", shape=[], dtype="int64")
    ce = b.add("CrossEntropyLoss", "ce")
    distil = b.add("DistillationLoss", "distil", weight=0.5)
    b.chain(x, student, out)
    b.chain(x, fc, bn, act, head)
    b.link(student, ce, "input")
    b.link(y, ce, "target")
    b.link(student, distil, "student")
    b.link(head, distil, "teacher")
    b.project.dataset = {"name": "spirals", "params": {"samples": 200}}
    return b


def _select(window, name: str) -> NodePage:
    node = window.document.graph.node_by_name(name)
    window.view.select_nodes([node.id])
    page = window.inspector.page
    assert isinstance(page, NodePage) and page.node_id == node.id
    return page


def _item(window, name: str):
    return window.view.scene().nodes[window.document.graph.node_by_name(name).id]


def _click(qtbot, editor) -> None:
    """A mouse click on the checkbox's indicator, where a user clicks."""
    box = editor.field()
    option = QStyleOptionButton()
    box.initStyleOption(option)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=indicator.center())


def test_training_section_only_for_layers_with_weights(make_window):
    window = make_window(teacher_student().project)
    assert _select(window, "student").training is not None
    assert _select(window, "teacher_bn").training is not None  # norm layers have weights and statistics
    for name in ("teacher_act", "ce", "label", "x"):
        assert _select(window, name).training is None, name


def test_frozen_checkbox_is_one_undoable_step_and_the_canvas_follows(make_window, qtbot):
    window = make_window(teacher_student().project)
    document = window.document
    page = _select(window, "teacher_fc")
    node = document.graph.node_by_name("teacher_fc")
    item = _item(window, "teacher_fc")
    assert not item.frozen and item.text_lines()[0] == "teacher_fc"
    depth = document.undo_stack.count()
    _click(qtbot, page.training.form.editor("frozen"))
    assert node.training == NodeTraining(frozen=True)
    assert document.undo_stack.count() == depth + 1
    assert document.undo_stack.undoText() == "Freeze teacher_fc"
    assert item.frozen and item.text_lines()[0] == f"teacher_fc {FROZEN_GLYPH} frozen"
    assert "Frozen" in item.toolTip()
    assert not page.training.form.editor("lr_scale").isEnabled()  # no updates, so no learning rate
    assert "❄ Frozen" in page.training.note.text()
    document.undo_stack.undo()
    assert node.training == NodeTraining()
    assert not item.frozen and not page.training.form.editor("frozen").value()
    assert page.training.form.editor("lr_scale").isEnabled()
    document.undo_stack.redo()
    assert item.frozen and page.training.form.editor("frozen").value()


def test_update_statistics_needs_a_frozen_batch_norm(make_window, qtbot):
    window = make_window(teacher_student().project)
    document = window.document
    linear = _select(window, "teacher_fc").training
    assert not linear.form.editor("update_stats").isEnabled()
    _click(qtbot, linear.form.editor("frozen"))
    assert not linear.form.editor("update_stats").isEnabled(), "a Linear has no running statistics"
    norm = _select(window, "teacher_bn").training
    stats = norm.form.editor("update_stats")
    assert not stats.isEnabled()
    _click(qtbot, norm.form.editor("frozen"))
    assert stats.isEnabled()
    _click(qtbot, stats)
    node = document.graph.node_by_name("teacher_bn")
    assert node.training == NodeTraining(frozen=True, update_stats=True)
    assert document.undo_stack.undoText() == "Update teacher_bn's batch-norm statistics"
    document.undo_stack.undo()
    assert node.training == NodeTraining(frozen=True) and not stats.value()


def test_learning_rate_scale_edits_merge_and_show_on_the_node(make_window, qtbot):
    window = make_window(teacher_student().project)
    document = window.document
    page = _select(window, "student")
    box = page.training.form.editor("lr_scale").box
    node = document.graph.node_by_name("student")
    item = _item(window, "student")
    depth = document.undo_stack.count()
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "0.1")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert node.training.lr_scale == 0.1
    assert item.text_lines()[1] == "Linear (Dense) · lr ×0.1"
    assert "0.1 × the optimizer's learning rate" in item.toolTip()
    for _ in range(3):
        box.stepUp()
    assert node.training.lr_scale > 0.1
    assert document.undo_stack.count() == depth + 1, "one spin-box session is one undo step"
    document.undo_stack.undo()
    assert node.training == NodeTraining() and item.text_lines()[1] == "Linear (Dense)"
    assert page.training.form.editor("lr_scale").value() == 1.0


def test_out_of_range_scale_is_refused_with_the_reason(make_window, qtbot):
    window = make_window(teacher_student().project)
    form = _select(window, "student").training.form
    box = form.editor("lr_scale").box
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "-2")
    assert form.message("lr_scale") == "Not accepted: expected a number in [0, 1000000], got -2.0"
    form.editor("lr_scale").edited.emit(2e6)  # what a commit past the spin box's own check would carry
    assert form.message("lr_scale").startswith("Refused: expected a number in [0, 1000000]")
    assert window.document.graph.node_by_name("student").training == NodeTraining()


def test_edits_elsewhere_reach_the_inspector_and_the_canvas(make_window):
    """Views listen to node_training_changed: a command pushed by anyone updates both."""
    window = make_window(teacher_student().project)
    document = window.document
    page = _select(window, "teacher_out")
    node = document.graph.node_by_name("teacher_out")
    document.push(SetNodeTrainingCommand(document, node.id, NodeTraining(lr_scale=0.25)))
    assert page.training.form.editor("lr_scale").value() == 0.25
    assert _item(window, "teacher_out").face.data.lr_note == "lr ×0.25"
    document.push(SetNodeTrainingCommand(document, node.id, NodeTraining(frozen=True, lr_scale=0.25)))
    assert page.training.form.editor("frozen").value() and _item(window, "teacher_out").frozen
    assert _item(window, "teacher_out").face.data.lr_note == "", "a frozen node shows no learning rate"


def test_deleting_a_frozen_node_and_undoing_keeps_it_frozen(make_window):
    window = make_window(teacher_student().project)
    document = window.document
    node_id = document.graph.node_by_name("teacher_fc").id
    document.push(SetNodeTrainingCommand(document, node_id, NodeTraining(frozen=True)))
    document.push(RemoveNodesCommand(document, [node_id]))
    document.undo_stack.undo()
    assert document.graph.nodes[node_id].training.frozen
    assert window.view.scene().nodes[node_id].frozen


def test_copied_nodes_keep_their_training_settings(make_window):
    window = make_window(teacher_student().project)
    document = window.document
    node_id = document.graph.node_by_name("teacher_fc").id
    document.push(SetNodeTrainingCommand(document, node_id, NodeTraining(frozen=True)))
    window.view.select_nodes([node_id])
    window.view.duplicate_selection()
    copy = document.graph.node_by_name("teacher_fc_1")
    assert copy is not None and copy.training.frozen


def test_training_edits_are_locked_while_a_run_trains(make_window, qtbot):
    window = make_window(teacher_student().project)
    document = window.document
    page = _select(window, "student")
    window.view.set_read_only(True)  # what the training workbench does when a run starts
    assert page.locked and page.locked_label.text() == LOCKED_NOTE and page.locked_label.isVisibleTo(page)
    frozen = page.training.form.editor("frozen")
    assert not frozen.isEnabled() and not page.training.form.editor("lr_scale").isEnabled()
    assert not page.form.isEnabled() and not page.name_edit.isEnabled()
    depth = document.undo_stack.count()
    _click(qtbot, frozen)
    assert document.undo_stack.count() == depth
    assert page.training._change("frozen", True) == LOCKED_TEXT  # even a programmatic edit is refused
    assert not document.graph.node_by_name("student").training.frozen
    other = _select(window, "teacher_fc")  # a page built during the run starts locked
    assert other.locked and not other.training.form.editor("frozen").isEnabled()
    window.view.select_nodes([])
    assert not window.inspector.page.form.isEnabled()
    window.view.set_read_only(False)
    assert window.inspector.page.form.isEnabled()
    page = _select(window, "student")
    assert not page.locked and page.training.form.editor("frozen").isEnabled()


def test_losses_and_targets_look_apart_from_layers(make_window):
    window = make_window(teacher_student().project)
    loss, target, layer = _item(window, "ce"), _item(window, "label"), _item(window, "student")
    assert loss._colour == style.category_colour("Losses") != layer._colour
    assert target._colour == style.header_colour(target.spec) != style.category_colour("Input / Output")
    assert loss.text_lines()[-1] == "→ total loss"
    assert loss._border_pen(False).style() == Qt.PenStyle.CustomDashLine
    assert target._border_pen(False).style() == Qt.PenStyle.CustomDashLine
    assert layer._border_pen(False).style() == Qt.PenStyle.SolidLine


def test_palette_groups_losses_and_stochastic_layers(window):
    palette = window.palette
    groups = {group.text(0): group for group in palette.groups()}
    assert {"Losses", "Stochastic"} <= set(groups)
    losses = [groups["Losses"].child(i).data(0, Qt.ItemDataRole.UserRole + 1)
              for i in range(groups["Losses"].childCount())]
    assert "CrossEntropyLoss" in losses and "DistillationLoss" in losses
    window.docks["palette"].show()
    tree = palette.tree
    for index in range(groups["Losses"].childCount()):  # every title fits the dock's first width
        item = groups["Losses"].child(index)
        needed = tree.visualItemRect(item).left() + tree.fontMetrics().horizontalAdvance(item.text(0))
        assert needed <= tree.viewport().width(), item.text(0)


def test_summary_dock_counts_trainable_and_frozen_parameters(make_window, qtbot):
    project = teacher_student().project
    graph = project.graph
    for name in ("teacher_fc", "teacher_bn", "teacher_out"):
        graph.set_node_training(graph.node_by_name(name).id, NodeTraining(frozen=True))
    window = make_window(project)
    with qtbot.waitSignal(window.preview.ready, timeout=COMPILE_TIMEOUT_MS) as blocker:
        window.preview.refresh_now()
    summary = blocker.args[0].summary
    teacher = (2 * 8 + 8) + 2 * 8 + (8 * 2 + 2)  # Linear, BatchNorm1d (weight, bias), Linear
    student = 2 * 2 + 2
    assert (summary.trainable_params, summary.frozen_params) == (student, teacher)
    assert summary.inference_params == student
    text = window.summary.totals.text()
    assert f"{student + teacher:,} parameters ({student:,} trainable, {teacher:,} frozen)" in text
    table = window.summary.table
    assert not table.isColumnHidden(5)
    notes = {table.topLevelItem(i).text(0): table.topLevelItem(i).text(5) for i in range(table.topLevelItemCount())}
    assert notes["teacher_fc"] == "frozen, training only" and notes["student"] == ""
    assert notes["ce"] == "training only"


def test_summary_hides_the_training_column_for_a_plain_graph(window, qtbot):
    with qtbot.waitSignal(window.preview.ready, timeout=COMPILE_TIMEOUT_MS):
        window.preview.refresh_now()
    assert window.summary.table.isColumnHidden(5)
    assert "frozen" not in window.summary.totals.text()


def test_the_frozen_glyph_is_in_the_default_font(qapp):
    from PySide6.QtGui import QFontMetrics

    assert all(QFontMetrics(style.font("glyph")).inFontUcs4(ord(ch)) for ch in FROZEN_GLYPH)
