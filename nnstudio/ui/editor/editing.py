"""Edit operations behind the view's menu actions: delete, cut/copy/paste, duplicate, place, lay out.

Each builds undo commands from the current selection and pushes exactly one of them, so every
operation is a single undo step. All refuse, with a status message, while the view is read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from nnstudio.analysis.layout import auto_layout as layout_positions
from nnstudio.ui.commands import (
    AddNodeCommand,
    AutoLayoutCommand,
    CompositeCommand,
    DocumentCommand,
    InsertOnEdgeCommand,
    PasteCommand,
    RemoveEdgesCommand,
    RemoveNodesCommand,
)
from nnstudio.ui.comment_commands import RemoveCommentsCommand
from nnstudio.ui.editor import clipboard, style
from nnstudio.ui.editor.interactions import snap
from nnstudio.ui.editor.placement import free_corner, insertion_verdict, make_node, node_size

if TYPE_CHECKING:
    from nnstudio.ui.editor.view import EditorView


def removal_command(view: EditorView, text: str) -> DocumentCommand | None:
    """Selected links and nodes (with all their links) removed as one step."""
    scene, document = view.scene(), view.document
    node_ids = [item.node_id for item in scene.selected_node_items()]
    edge_ids = [item.edge_id for item in scene.selected_edge_items()]
    comment_ids = [item.comment_id for item in scene.comment_layer.selected()]
    parts: list[DocumentCommand] = []
    if edge_ids:
        parts.append(RemoveEdgesCommand(document, edge_ids))
    if node_ids:
        parts.append(RemoveNodesCommand(document, node_ids))
    if comment_ids and text == "Delete":  # comments are not copied: a cut keeps them
        parts.append(RemoveCommentsCommand(document, comment_ids))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    counts = [f"{len(ids)} {noun}" for ids, noun in ((node_ids, "nodes"), (edge_ids, "links"),
                                                     (comment_ids, "comments")) if ids]
    return CompositeCommand(document, f"{text} {' and '.join(counts)}", parts)


def delete_selection(view: EditorView) -> None:
    if view.refuse_if_locked():
        return
    command = removal_command(view, "Delete")
    if command is None:
        view.status_message.emit("Nothing selected to delete.")
        return
    view.document.push(command)


def copy_selection(view: EditorView) -> bool:
    ids = view.selected_node_ids()
    if not ids:
        view.status_message.emit("Nothing selected to copy.")
        return False
    document = view.document
    clipboard.put_on_clipboard(clipboard.fragment_text(document.graph, ids, document.registry))
    view.status_message.emit(f"Copied {len(ids)} layer{'s' if len(ids) != 1 else ''}.")
    return True


def cut_selection(view: EditorView) -> None:
    if view.refuse_if_locked() or not copy_selection(view):
        return
    command = removal_command(view, "Cut")
    if command is not None:
        command.setText(command.text().replace("Delete", "Cut", 1))
        view.document.push(command)


def paste(view: EditorView) -> None:
    if view.refuse_if_locked():
        return
    text = clipboard.clipboard_text()
    if text is None:
        view.status_message.emit("Nothing to paste: the clipboard holds no nnstudio layers.")
        return
    view.paste_count = view.paste_count + 1 if text == view.last_paste else 1
    view.last_paste = text
    _paste_text(view, text, clipboard.PASTE_OFFSET * view.paste_count, "Paste")


def duplicate_selection(view: EditorView) -> None:
    if view.refuse_if_locked():
        return
    ids = view.selected_node_ids()
    if not ids:
        view.status_message.emit("Nothing selected to duplicate.")
        return
    document = view.document
    text = clipboard.fragment_text(document.graph, ids, document.registry)
    _paste_text(view, text, clipboard.PASTE_OFFSET, "Duplicate")


def _paste_text(view: EditorView, text: str, offset: float, verb: str) -> None:
    document = view.document
    try:
        fragment = clipboard.read_fragment(text, document.registry)
    except clipboard.FragmentError as exc:
        view.status_message.emit(f"Cannot paste: {exc}")
        return
    nodes, edges = clipboard.instantiate(fragment, document.graph, offset)
    if not nodes:
        view.status_message.emit("Nothing to paste: the fragment has no layers.")
        return
    document.push(PasteCommand(document, nodes, edges, verb))
    view.select_nodes([node.id for node in nodes])


def place_layer(view: EditorView, layer_type: str, scene_pos: QPointF) -> None:
    """Add a layer centred at a scene point; dropped on a link, insert it into the link if it fits."""
    if view.refuse_if_locked():
        return
    document, scene = view.document, view.scene()
    if layer_type not in document.registry:
        view.status_message.emit(f"Cannot add {layer_type!r}: no such layer type is registered.")
        return
    edge = scene.edge_at(scene_pos)
    corner = snap(scene_pos - QPointF(style.NODE_WIDTH / 2, style.HEADER_HEIGHT))
    occupied = [item.sceneBoundingRect() for item in scene.nodes.values()]
    node = make_node(document, layer_type, _xy(free_corner(corner, node_size(document, layer_type), occupied)))
    if edge is not None:
        verdict = insertion_verdict(document, edge.edge_id, layer_type)
        if verdict.ok:
            document.push(InsertOnEdgeCommand(document, edge.edge_id, node))
            view.select_nodes([node.id])
            return
        view.status_message.emit(f"Added {node.name} beside the link, not into it: {verdict.reason}")
    document.push(AddNodeCommand(document, node))
    view.select_nodes([node.id])


def _xy(point: QPointF) -> tuple[float, float]:
    return point.x(), point.y()


def auto_layout(view: EditorView) -> None:
    if view.refuse_if_locked():
        return
    graph = view.document.graph
    if not graph.nodes:
        return
    xs = [node.position[0] for node in graph.nodes.values()]
    ys = [node.position[1] for node in graph.nodes.values()]
    positions = layout_positions(graph, origin=(min(xs), min(ys)), grid=style.GRID)
    changed = {k: v for k, v in positions.items() if tuple(graph.nodes[k].position) != v}
    if not changed:
        view.status_message.emit("The layout is already tidy.")
        return
    view.document.push(AutoLayoutCommand(view.document, changed))
    view.fit_to_window()
