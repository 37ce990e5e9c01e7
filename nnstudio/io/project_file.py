"""Versioned JSON project files (.nnstudio). Loading never runs code: no pickle, no eval.

Layout (documented for users in docs/file-format.md):
    {"format": "nnstudio.project", "version": 3, "metadata": {...}, "init": {...},
     "graph": {"nodes": [...], "edges": [...]}, "dataset": {...}, "training": {...}, "search": {...},
     "comments": [...]}
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nnstudio.analysis.diagnostics import node_place
from nnstudio.io.comments_file import comments_entry, read_comments
from nnstudio.io.migrations import CURRENT_VERSION, FORMAT_NAME, migrate
from nnstudio.io.reader import At, ProjectFileError
from nnstudio.io.strict_json import parse_json
from nnstudio.layers.params import ParamValueError
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model.annotations import Annotations
from nnstudio.model.graph import Edge, Endpoint, GraphError, Node, NodeTraining, is_valid_name
from nnstudio.model.project import INIT_SCHEMES, InitSettings, Metadata, Project
from nnstudio.util.atomic import atomic_write_text
from nnstudio.util.leftovers import remove_stale

EXTENSION = ".nnstudio"
MAX_FILE_BYTES = 16 * 1024 * 1024  # a generous cap: a 10,000-node project is about 3 MB


def load(path: str | os.PathLike[str], registry: Registry | None = None) -> Project:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectFileError(f"file is {size / 2**20:.1f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB cap")
        data = path.read_bytes()
    except ProjectFileError as exc:
        raise exc.with_path(str(path)) from None
    except OSError as exc:
        raise ProjectFileError(exc.strerror or str(exc), path=str(path)) from None
    try:
        return loads(data, registry)
    except ProjectFileError as exc:
        raise exc.with_path(str(path)) from None


def loads(data: str | bytes, registry: Registry | None = None) -> Project:
    registry = registry or default_registry()
    if len(data) > MAX_FILE_BYTES:
        raise ProjectFileError(f"document is over the {MAX_FILE_BYTES // 2**20} MiB cap")
    root = At(parse_json(data))
    root.object()
    if root.string("format", None) != FORMAT_NAME:
        found = root.value.get("format")
        raise root.field("format", None).fail(
            f"not an nnstudio project (expected format {FORMAT_NAME!r}, got {found!r})")
    version_at = root.field("version", kind=int)
    version = version_at.value
    if version < 1:
        raise version_at.fail(f"expected a version >= 1, got {version}")
    if version > CURRENT_VERSION:
        raise version_at.fail(
            f"version {version} is newer than this nnstudio understands ({CURRENT_VERSION}); update nnstudio")
    document = migrate(dict(root.value), version)
    return _read_project(At(document), registry)


class _Problems:
    """Every problem of a document, so one load reports them all (each node, edge and section on its own)."""

    def __init__(self) -> None:
        self.found: list[ProjectFileError] = []

    def attempt(self, read: Callable[[], Any], default: Any = None) -> Any:
        try:
            return read()
        except ProjectFileError as exc:
            self.found.extend(exc.problems)
            return default

    def raise_any(self) -> None:
        if self.found:
            raise ProjectFileError.combine(self.found)


def _read_project(root: At, registry: Registry) -> Project:
    project = Project()
    problems = _Problems()
    project.metadata = problems.attempt(lambda: _read_metadata(root.field("metadata", {}, dict)), Metadata())
    project.init = problems.attempt(lambda: _read_init(root.field("init", {}, dict)), InitSettings())
    graph_at = problems.attempt(lambda: root.field("graph", kind=dict))
    nodes_at = problems.attempt(lambda: graph_at.field("nodes", kind=list).items(), []) if graph_at else []
    read: dict[int, Node] = {}  # index in the file -> node
    unread: set[str] = set()  # ids of nodes that could not be read: their edges are not errors of their own
    for index, at in enumerate(nodes_at):
        node = problems.attempt(lambda at=at: _read_node(at, registry))
        raw_id = at.value.get("id") if isinstance(at.value, dict) else None
        if node is not None:
            read[index] = node
        elif isinstance(raw_id, str):
            unread.add(raw_id)
    problems.found.extend(_duplicates(read))
    nodes = list(read.values())
    by_id = {node.id: node for node in nodes}
    edges_at = problems.attempt(lambda: graph_at.field("edges", [], list).items(), []) if graph_at else []
    edges: dict[str, Edge] = {}
    for index, at in enumerate(edges_at):
        edge = None if _touches(at, unread) else problems.attempt(lambda at=at: _read_edge(at, by_id, registry))
        if edge is not None and edge.id in edges:
            problems.found.append(ProjectFileError(f"duplicate edge id {edge.id!r}", f"graph.edges[{index}].id"))
        elif edge is not None:
            edges[edge.id] = edge
    project.dataset = problems.attempt(lambda: _json_object(root.field("dataset", {}, dict)), {})
    project.training = problems.attempt(lambda: _json_object(root.field("training", {}, dict)), {})
    project.search = problems.attempt(lambda: _json_object(root.field("search", {}, dict)), {})
    comments = problems.attempt(lambda: read_comments(root.field("comments", [], list)), [])
    project.annotations = Annotations(comments)
    problems.raise_any()
    try:
        project.graph.extend(nodes, list(edges.values()))
    except GraphError as exc:
        raise graph_at.fail(str(exc)) from None
    return project


def _touches(edge_at: At, unread: set[str]) -> bool:
    """Whether an edge names a node that could not be read (whose problem is already reported)."""
    edge = edge_at.value
    if not isinstance(edge, dict) or not unread:
        return False
    ends = [edge.get(side) for side in ("source", "target")]
    return any(isinstance(end, dict) and isinstance(end.get("node"), str) and end["node"] in unread for end in ends)


def _read_metadata(at: At) -> Metadata:
    known = {"name", "description"}
    _check_finite(at.value, at.location)  # kept and written back: 1e999 would be saved as Infinity, not JSON
    extra = {k: v for k, v in at.value.items() if k not in known}
    return Metadata(at.string("name", "Untitled"), at.string("description", ""), extra)


def _read_init(at: At) -> InitSettings:
    scheme_at = at.field("scheme", "default", str)
    if scheme_at.value not in INIT_SCHEMES:
        raise scheme_at.fail(f"expected one of {', '.join(INIT_SCHEMES)}, got {scheme_at.value!r}")
    seed_at = at.field("seed", 0, int)
    if not 0 <= seed_at.value < 2**63:
        raise seed_at.fail(f"expected an integer in [0, 2**63), got {seed_at.value}")
    weights_at = at.field("weights", None, (str, type(None)))
    if weights_at.value is not None and not weights_at.value.strip():
        raise weights_at.fail("expected a path to a weights file or folder, or null")
    return InitSettings(scheme_at.value, seed_at.value, weights_at.value)


def _read_node_training(at: At) -> NodeTraining:
    """A node's `training` object: frozen, update_stats (booleans) and lr_scale (a number >= 0)."""
    at.object()
    known = {"frozen", "update_stats", "lr_scale"}
    for key in at.value:
        if key not in known:
            raise ProjectFileError(f"unknown key; expected {', '.join(sorted(known))}", f"{at.location}.{key}")
    frozen = at.field("frozen", False, bool).value
    update_stats = at.field("update_stats", False, bool).value
    scale_at = at.field("lr_scale", 1.0, (int, float))
    scale = scale_at.value
    if isinstance(scale, bool) or not math.isfinite(scale) or not 0 <= scale <= 1e6:
        raise scale_at.fail(f"expected a number in [0, 1000000], got {scale!r}")
    return NodeTraining(frozen, update_stats, float(scale))


def _read_node(at: At, registry: Registry) -> Node:
    at.object()
    node_id = at.string("id")
    type_at = at.field("type", kind=str)
    name_at = at.field("name", kind=str)
    if not node_id:
        raise at.field("id").fail("expected a non-empty string")
    if not is_valid_name(name_at.value):
        raise name_at.fail(f"expected an identifier (letters, digits, underscores), got {name_at.value!r}")
    place = node_place(name_at.value, type_at.value)  # from here on, named as validation names nodes
    try:
        return _read_node_body(at, registry, node_id, type_at.value, name_at.value)
    except ProjectFileError as exc:
        raise exc.relocated(f"{at.location}.params.", f"{place}: ").relocated(
            f"{at.location}.", f"{place}: ") from None


def _read_node_body(at: At, registry: Registry, node_id: str, node_type: str, name: str) -> Node:
    params_at = at.field("params", {}, dict)
    init_at = at.field("init", None, (str, type(None)))
    if init_at.value is not None and init_at.value not in INIT_SCHEMES:
        raise init_at.fail(f"expected one of {', '.join(INIT_SCHEMES)} or null, got {init_at.value!r}")
    spec = registry.get(node_type)
    params = dict(params_at.value)
    if spec is not None:
        version_at = at.field("version", 1, int)
        if version_at.value > spec.version:
            raise version_at.fail(f"{spec.type} version {version_at.value} is newer than this nnstudio "
                                  f"knows ({spec.version}); update nnstudio")
        if spec.migrate is not None and version_at.value < spec.version:
            params = spec.migrate(params, version_at.value)
        params = _checked_params(spec, params, params_at)
    else:  # a placeholder keeps its params verbatim and writes them back: they must stay plain JSON
        _check_finite(params, params_at.location)
    position = at.number_pair("position", [0.0, 0.0])
    training = _read_node_training(at.field("training", {}, dict))
    return Node(node_id, registry.canonical(node_type), name, params, position, init_at.value, training)


def _checked_params(spec, params: dict[str, Any], params_at: At) -> dict[str, Any]:
    """Every param checked; all bad ones reported together."""
    checked: dict[str, Any] = {}
    problems = _Problems()
    for name, value in params.items():
        location = f"{params_at.location}.{name}"
        try:
            checked[name] = spec.param(name).coerce(value)
        except KeyError:
            takes = ", ".join(param.name for param in spec.params) or "none"
            problems.found.append(ProjectFileError(f"no such parameter; {spec.type} takes {takes}", location))
        except ParamValueError as exc:
            problems.found.append(ProjectFileError(str(exc), location))
    problems.raise_any()
    return checked


def _duplicates(nodes: dict[int, Node]) -> list[ProjectFileError]:
    ids: set[str] = set()
    names: set[str] = set()
    found = []
    for index, node in nodes.items():
        if node.id in ids:
            found.append(ProjectFileError(f"duplicate node id {node.id!r}", f"graph.nodes[{index}].id"))
        if node.name in names:
            found.append(ProjectFileError(f"duplicate node name {node.name!r}", f"graph.nodes[{index}].name"))
        ids.add(node.id)
        names.add(node.name)
    return found


def _read_edge(at: At, by_id: dict[str, Node], registry: Registry) -> Edge:
    at.object()
    source = _read_endpoint(at.field("source", kind=dict), by_id, registry, "output")
    target = _read_endpoint(at.field("target", kind=dict), by_id, registry, "input")
    return Edge(at.string("id"), source, target)


def _read_endpoint(at: At, by_id: dict[str, Node], registry: Registry, side: str) -> Endpoint:
    node_at = at.field("node", kind=str)
    port_at = at.field("port", kind=str)
    node = by_id.get(node_at.value)
    if node is None:
        raise node_at.fail(f"no node with id {node_at.value!r}")
    spec = registry.get(node.type)
    if spec is not None:
        port = spec.output_port(port_at.value) if side == "output" else spec.input_port(port_at.value)
        if port is None:
            raise port_at.fail(f"{node.type} node {node.name!r} has no {side} port {port_at.value!r}")
    return Endpoint(node.id, port_at.value)


def _json_object(at: At) -> dict[str, Any]:
    """Sections owned by other packages must at least be finite, plain JSON."""
    _check_finite(at.value, at.location)
    return at.value


def _check_finite(value: Any, location: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ProjectFileError("expected a finite number", location)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{location}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{location}[{index}]")


# --- writing ---------------------------------------------------------------------------------
def to_document(project: Project, registry: Registry | None = None) -> dict[str, Any]:
    registry = registry or default_registry()
    nodes = []
    for node in project.graph.nodes.values():
        entry: dict[str, Any] = {"id": node.id, "type": node.type, "name": node.name}
        spec = registry.get(node.type)
        if spec is not None and spec.version != 1:
            entry["version"] = spec.version
        entry["params"] = dict(node.params)
        entry["position"] = [round(node.position[0], 2), round(node.position[1], 2)]
        if node.init is not None:
            entry["init"] = node.init
        if not node.training.is_default:
            entry["training"] = _node_training_entry(node.training)
        nodes.append(entry)
    edges = [{"id": e.id, "source": {"node": e.source.node, "port": e.source.port},
              "target": {"node": e.target.node, "port": e.target.port}} for e in project.graph.edges.values()]
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": CURRENT_VERSION,
        "metadata": {"name": project.metadata.name, "description": project.metadata.description,
                     **project.metadata.extra},
        "init": _init_entry(project.init),
        "graph": {"nodes": nodes, "edges": edges},
    }
    if project.dataset:
        document["dataset"] = project.dataset
    if project.training:
        document["training"] = project.training
    if project.search:
        document["search"] = project.search
    if len(project.annotations):
        document["comments"] = comments_entry(project.annotations)
    return document


def _init_entry(init: InitSettings) -> dict[str, Any]:
    entry: dict[str, Any] = {"scheme": init.scheme, "seed": init.seed}
    if init.weights is not None:
        entry["weights"] = init.weights
    return entry


def _node_training_entry(training: NodeTraining) -> dict[str, Any]:
    default = NodeTraining()
    return {key: getattr(training, key) for key in ("frozen", "update_stats", "lr_scale")
            if getattr(training, key) != getattr(default, key)}


def dumps(project: Project, registry: Registry | None = None) -> str:
    return json.dumps(to_document(project, registry), indent=2, ensure_ascii=False) + "\n"


# What util.atomic names a project's temporary file while it is saved: `.NAME.nnstudio.PID.XXXXXXXX.tmp`.
SAVE_LEFTOVER = re.compile(r"\..+\.nnstudio\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp", re.IGNORECASE)


def save(project: Project, path: str | os.PathLike[str], registry: Registry | None = None) -> None:
    """Write atomically: a crash mid-save leaves the old file intact, never a half-written one. Temporary
    files that saves killed mid-write left in the folder (of any project there) are removed first, when no
    live process owns them."""
    path = Path(path)
    text = dumps(project, registry)
    remove_stale(path.parent, SAVE_LEFTOVER)
    atomic_write_text(path, text)
