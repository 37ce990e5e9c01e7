"""Copy and paste of graph fragments as JSON, so they travel between windows (and processes).

A fragment is an ordinary project document holding the chosen nodes and the edges between them.
Reading it back goes through the project-file loader, so a pasted fragment gets the same checks
(types, params, ports, migrations) as an opened file. Pasting gives every node a new id and a free
name, and shifts it so the copy does not hide the original.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from PySide6.QtGui import QGuiApplication

from nnstudio.io import ProjectFileError, loads
from nnstudio.io.project_file import to_document
from nnstudio.layers.registry import Registry
from nnstudio.model import Edge, Endpoint, Graph, Node, Project, new_id
from nnstudio.ui.commands import copy_node

FRAGMENT_MIME = "application/x-nnstudio-fragment"
PASTE_OFFSET = 40.0


class FragmentError(ValueError):
    """The clipboard holds no usable nnstudio fragment; the message says why."""


def fragment_text(graph: Graph, node_ids: Iterable[str], registry: Registry) -> str:
    """JSON for the given nodes and the edges among them (edges leaving the set are dropped)."""
    chosen = [n for n in graph.nodes if n in set(node_ids)]
    project = Project()
    project.metadata.name = "nnstudio fragment"
    inside = set(chosen)
    for node_id in chosen:
        project.graph.add_node(copy_node(graph.nodes[node_id]))
    for edge in graph.edges.values():
        if edge.source.node in inside and edge.target.node in inside:
            project.graph.add_edge(edge)
    return json.dumps(to_document(project, registry), ensure_ascii=False)


def read_fragment(text: str, registry: Registry) -> Project:
    try:
        return loads(text, registry)
    except ProjectFileError as exc:
        raise FragmentError(f"the clipboard does not hold nnstudio layers ({exc})") from None


def instantiate(fragment: Project, graph: Graph, offset: float) -> tuple[list[Node], list[Edge]]:
    """Copies of the fragment's nodes and edges with fresh ids and names unused in `graph`."""
    taken: set[str] = set()
    fresh: dict[str, str] = {}
    nodes: list[Node] = []
    for node in fragment.graph.nodes.values():
        fresh[node.id] = new_id()
        name = free_name(graph, node.name, taken)
        taken.add(name)
        x, y = node.position
        nodes.append(Node(fresh[node.id], node.type, name, dict(node.params), (x + offset, y + offset),
                          node.init, node.training))
    edges = [Edge(new_id("e"), Endpoint(fresh[e.source.node], e.source.port),
                  Endpoint(fresh[e.target.node], e.target.port)) for e in fragment.graph.edges.values()]
    return nodes, edges


def free_name(graph: Graph, base: str, taken: set[str]) -> str:
    """graph.unique_name(), also avoiding names already handed out in this paste."""
    name = graph.unique_name(base)
    if name not in taken:
        return name
    stem = name.rsplit("_", 1)[0] if name.rsplit("_", 1)[-1].isdigit() else name
    index = 1
    while f"{stem}_{index}" in taken or graph.node_by_name(f"{stem}_{index}") is not None:
        index += 1
    return f"{stem}_{index}"


def put_on_clipboard(text: str) -> None:
    """Put the fragment on the clipboard as text, tagged with our own format as well.

    A QMimeData made in Python and handed to the clipboard outlives the interpreter (the clipboard is a
    Qt global), and its destructor then crashes the app on quit. So Qt makes the QMimeData (setText)
    and the fragment format is added to that object in place.
    """
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(text)
    data = clipboard.mimeData()
    if data is not None:
        data.setData(FRAGMENT_MIME, text.encode("utf-8"))


def clipboard_text() -> str | None:
    """The fragment on the clipboard: our own format first, else plain text that might be one."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return None
    if data.hasFormat(FRAGMENT_MIME):
        return bytes(data.data(FRAGMENT_MIME).data()).decode("utf-8", errors="replace")
    if data.hasText() and data.text().lstrip().startswith("{"):
        return data.text()
    return None
