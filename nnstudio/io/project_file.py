"""Versioned JSON project files (.nnstudio). Loading never runs code: no pickle, no eval.

Layout (documented for users in docs/file-format.md):
    {"format": "nnstudio.project", "version": 2, "metadata": {...}, "init": {...},
     "graph": {"nodes": [...], "edges": [...]}, "dataset": {...}, "training": {...}}
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from nnstudio.io.migrations import CURRENT_VERSION, FORMAT_NAME, migrate
from nnstudio.io.reader import At, ProjectFileError
from nnstudio.layers.params import ParamValueError
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model.graph import Edge, Endpoint, GraphError, Node, NodeTraining, is_valid_name
from nnstudio.model.project import INIT_SCHEMES, InitSettings, Metadata, Project
from nnstudio.util.atomic import atomic_write_text

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
    root = At(_parse_json(data))
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


def _parse_json(data: str | bytes) -> Any:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"not valid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise ProjectFileError("not valid JSON: nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)


def _read_project(root: At, registry: Registry) -> Project:
    project = Project()
    project.metadata = _read_metadata(root.field("metadata", {}, dict))
    project.init = _read_init(root.field("init", {}, dict))
    graph_at = root.field("graph", kind=dict)
    nodes = [_read_node(at, registry) for at in graph_at.field("nodes", kind=list).items()]
    _check_unique(nodes, graph_at)
    by_id = {node.id: node for node in nodes}
    edges = [_read_edge(at, by_id, registry) for at in graph_at.field("edges", [], list).items()]
    edge_ids = set()
    for index, edge in enumerate(edges):
        if edge.id in edge_ids:
            raise ProjectFileError(f"duplicate edge id {edge.id!r}", f"graph.edges[{index}].id")
        edge_ids.add(edge.id)
    try:
        project.graph.extend(nodes, edges)
    except GraphError as exc:
        raise graph_at.fail(str(exc)) from None
    project.dataset = _json_object(root.field("dataset", {}, dict))
    project.training = _json_object(root.field("training", {}, dict))
    return project


def _read_metadata(at: At) -> Metadata:
    known = {"name", "description"}
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
    params_at = at.field("params", {}, dict)
    init_at = at.field("init", None, (str, type(None)))
    if init_at.value is not None and init_at.value not in INIT_SCHEMES:
        raise init_at.fail(f"expected one of {', '.join(INIT_SCHEMES)} or null, got {init_at.value!r}")
    spec = registry.get(type_at.value)
    params = dict(params_at.value)
    if spec is not None:
        version_at = at.field("version", 1, int)
        if version_at.value > spec.version:
            raise version_at.fail(f"{spec.type} version {version_at.value} is newer than this nnstudio "
                                  f"knows ({spec.version}); update nnstudio")
        if spec.migrate is not None and version_at.value < spec.version:
            params = spec.migrate(params, version_at.value)
        params = _checked_params(spec, params, params_at)
    node_type = registry.canonical(type_at.value)
    position = at.number_pair("position", [0.0, 0.0])
    training = _read_node_training(at.field("training", {}, dict))
    return Node(node_id, node_type, name_at.value, params, position, init_at.value, training)


def _checked_params(spec, params: dict[str, Any], params_at: At) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in params.items():
        location = f"{params_at.location}.{name}"
        try:
            checked[name] = spec.param(name).coerce(value)
        except KeyError:
            raise ProjectFileError(f"{spec.type} has no parameter {name!r}", location) from None
        except ParamValueError as exc:
            raise ProjectFileError(str(exc), location) from None
    return checked


def _check_unique(nodes: list[Node], graph_at: At) -> None:
    ids: set[str] = set()
    names: set[str] = set()
    for index, node in enumerate(nodes):
        if node.id in ids:
            raise ProjectFileError(f"duplicate node id {node.id!r}", f"{graph_at.location}.nodes[{index}].id")
        if node.name in names:
            raise ProjectFileError(f"duplicate node name {node.name!r}",
                                   f"{graph_at.location}.nodes[{index}].name")
        ids.add(node.id)
        names.add(node.name)


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


def save(project: Project, path: str | os.PathLike[str], registry: Registry | None = None) -> None:
    """Write atomically: a crash mid-save leaves the old file intact, never a half-written one."""
    text = dumps(project, registry)
    atomic_write_text(Path(path), text)
