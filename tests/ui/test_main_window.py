"""The main window: default example, actions and menus, docks, title, drops and layout persistence."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence

from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import dumps, load, save
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.actions import ACTIONS, MENUS
from nnstudio.ui.commands import SetParamCommand
from nnstudio.ui.document import Document
from nnstudio.ui.main_window import MainWindow


def test_opens_the_default_example_without_problems(window):
    assert window.document.graph.nodes
    assert window.document.analysis.diagnostics == []
    assert window.problems.diagnostics == []
    assert "No problems" in window.problems.summary.text()
    assert window.windowTitle().startswith("Spirals MLP[*]")
    assert not window.isWindowModified()
    assert set(window.docks) == {"palette", "inspector", "problems", "summary", "code"}
    assert window.center.currentWidget() is window.view  # Design: the canvas is the central area


def test_every_action_of_the_table_is_in_its_menu_with_its_shortcut(window):
    menus = {action.text(): action.menu() for action in window.menuBar().actions() if action.menu()}
    assert set(MENUS) <= set(menus)
    for spec in ACTIONS:
        action = window.actions_by_id[spec.id]
        assert action in menus[spec.menu].actions(), spec.id
    assert QKeySequence(QKeySequence.StandardKey.Undo) in window.actions_by_id["edit.undo"].shortcuts()
    assert QKeySequence("Ctrl+S") in window.actions_by_id["file.save"].shortcuts()
    recent = [a.menu() for a in menus["&File"].actions() if a.menu()]
    assert recent and recent[0].title() == "Open &Recent"


def test_undo_and_redo_actions_follow_the_document(window):
    undo, redo = window.actions_by_id["edit.undo"], window.actions_by_id["edit.redo"]
    assert not undo.isEnabled()
    node = next(n for n in window.document.graph.nodes.values() if n.type == "Linear")
    window.document.push(SetParamCommand(window.document, node.id, "out_features", 7))
    assert undo.isEnabled() and window.isWindowModified()
    undo.trigger()
    assert node.params["out_features"] != 7
    assert not window.isWindowModified()
    redo.trigger()
    assert node.params["out_features"] == 7


def test_title_follows_the_modified_flag_and_the_path(window, tmp_path, dialogs):
    node = next(iter(window.document.graph.nodes.values()))
    window.document.push(SetParamCommand(window.document, node.id, "shape", [3]))
    assert window.isWindowModified()
    assert window.files.save_to(tmp_path / "net.nnstudio")
    assert window.windowTitle().startswith("net.nnstudio[*]")
    assert not window.isWindowModified()


def _drop_event(urls: list[QUrl]) -> tuple[QDragEnterEvent, QDropEvent, QMimeData]:
    """The events only point at the mime data, so the caller must keep the returned QMimeData alive."""
    mime = QMimeData()
    mime.setUrls(urls)
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    return enter, drop, mime


def test_dropping_a_project_file_opens_it(window, tmp_path):
    builder = GraphBuilder(name="dropped")
    builder.sequential(("Input", {"shape": [4]}), ("Linear", {"out_features": 3}), "Output")
    path = tmp_path / "dropped.nnstudio"
    save(builder.project, path)
    enter, drop, _mime = _drop_event([QUrl.fromLocalFile(str(path))])
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(drop)
    assert window.document.path == path.resolve()
    assert dumps(window.document.project) == dumps(builder.project)


def test_dropping_other_files_is_refused(window, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    enter, _drop, _mime = _drop_event([QUrl.fromLocalFile(str(other))])
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_dock_layout_persists_through_settings(make_window, qtbot, registry, settings, recovery_folder):
    first = make_window()
    first.docks["inspector"].hide()
    first.resize(760, 540)  # the offscreen screen is 800 x 600; restoring clamps to it
    first.close()
    project = load(EXAMPLES[DEFAULT_EXAMPLE].path, registry)
    second = MainWindow(Document(project, registry), settings=settings, recovery_folder=recovery_folder)
    qtbot.addWidget(second)
    second.show()
    assert second.docks["inspector"].isHidden()
    assert second.docks["palette"].isVisible()
    assert (second.width(), second.height()) == (760, 540)


def test_view_status_messages_reach_the_status_bar(window):
    window.view.status_message.emit("cannot link these ports: shapes differ")
    assert window.statusBar().currentMessage() == "cannot link these ports: shapes differ"


def test_problems_click_selects_and_centres_the_node(make_window, qtbot):
    builder = GraphBuilder(name="broken")
    x = builder.add("Input", "x", shape=[4])
    far = builder.add("Linear", "lonely", at=(3000.0, 2000.0), out_features=3)
    out = builder.add("Output", "y")
    builder.chain(x, out)
    window = make_window(builder.project)
    tree = window.problems.tree
    row = next(i for i in range(tree.topLevelItemCount()) if "lonely" in tree.topLevelItem(i).text(0))
    item = tree.topLevelItem(row)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert window.view.selected_node_ids() == [far]
    node_centre = window.view.scene().nodes[far].sceneBoundingRect().center()
    viewport_centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert (node_centre - viewport_centre).manhattanLength() < 5
    assert window.inspector.page.node_id == far


def test_status_bar_counts_nodes_links_and_problems(make_window):
    builder = GraphBuilder(name="one problem")
    builder.add("Input", "x", shape=[4])
    window = make_window(builder.project)
    assert window.status_label.text().startswith("1 node · 0 links · 1 error")
