"""Registry behaviour: aliases for renamed types, refusing duplicates, plugins that fail, and layer versions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nnstudio.analysis import analyze
from nnstudio.compile import build_module
from nnstudio.io import ProjectFileError
from nnstudio.io.project_file import dumps, loads
from nnstudio.layers import registry as registry_module
from nnstudio.layers.builtin import all_builtin_specs
from nnstudio.layers.params import int_param
from nnstudio.layers.registry import Registry, builtin_registry
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, TensorType
from nnstudio.model.builder import GraphBuilder


def _infer_dense(params, inputs: Inputs) -> TensorType:
    return TensorType((params["width"],))


def _build_dense(params, types: Inputs) -> Construct:
    return Construct("torch.nn.Linear", {"in_features": types.one().shape[-1], "out_features": params["width"]})


def _migrate_dense(params: dict[str, Any], version: int) -> dict[str, Any]:
    """Version 1 called the width 'units'."""
    params = dict(params)
    if version < 2 and "units" in params:
        params["width"] = params.pop("units")
    return params


def _dense(type_name: str = "TestDense", **changes: Any) -> LayerSpec:
    fields: dict[str, Any] = {
        "type": type_name, "category": "Dense", "title": "Test dense", "summary": "A test layer.",
        "explanation": "Only for tests.", "formula": "y = Wx", "infer": _infer_dense, "build": _build_dense,
        "params": (int_param("width", 4, "Output width.", minimum=1),), "has_weights": True,
    }
    fields.update(changes)
    return LayerSpec(**fields)


class _EntryPoint:
    def __init__(self, name: str, load: Any) -> None:
        self.name, self.value, self._load = name, f"plugin_pkg:{name}", load

    def load(self) -> Any:
        return self._load()


def _with_plugins(monkeypatch: pytest.MonkeyPatch, *entries: _EntryPoint) -> Registry:
    monkeypatch.setattr(registry_module, "entry_points",
                        lambda group: list(entries) if group == registry_module.ENTRY_POINT_GROUP else [])
    registry = builtin_registry()
    registry.load_plugins()
    return registry


def test_legacy_type_names_resolve_to_the_current_spec() -> None:
    spec = _dense(legacy_types=("OldDense", "Dense0"))
    registry = Registry([spec])
    assert registry.get("OldDense") is spec and registry["Dense0"] is spec
    assert "OldDense" in registry
    assert registry.canonical("OldDense") == "TestDense"
    assert registry.canonical("TestDense") == "TestDense"
    assert [s.type for s in registry] == ["TestDense"], "aliases are not listed as layers of their own"
    assert registry.get("Nope") is None and "Nope" not in registry
    with pytest.raises(KeyError, match="unknown layer type 'Nope'"):
        registry["Nope"]


def test_duplicate_registration_is_refused() -> None:
    registry = Registry([_dense(legacy_types=("OldDense",))])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_dense())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_dense("OldDense"))
    assert len(registry) == 1


def test_builtin_categories_follow_palette_order() -> None:
    categories = [name for name, _ in builtin_registry().by_category()]
    assert categories[0] == "Input / Output" and categories[-1] == "Losses"
    assert categories == [c for c in registry_module.CATEGORY_ORDER if c in categories]


def test_plugins_register_in_every_supported_form(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _with_plugins(
        monkeypatch,
        _EntryPoint("single", lambda: _dense("PluginOne")),
        _EntryPoint("several", lambda: [_dense("PluginTwo"), _dense("PluginThree")]),
        _EntryPoint("hook", lambda: lambda reg: reg.register(_dense("PluginFour"))),
    )
    assert registry.plugin_errors == []
    for name in ("PluginOne", "PluginTwo", "PluginThree", "PluginFour"):
        assert name in registry
    assert len(registry) == len(all_builtin_specs()) + 4


def test_a_broken_plugin_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> Any:
        raise ImportError("No module named 'missing_dependency'")

    registry = _with_plugins(
        monkeypatch,
        _EntryPoint("broken", explode),
        _EntryPoint("clash", lambda: _dense("Linear")),
        _EntryPoint("odd", lambda: 42),
        _EntryPoint("fine", lambda: _dense("PluginOk")),
    )
    assert "PluginOk" in registry and "Conv2d" in registry
    assert len(registry.plugin_errors) == 3
    broken, clash, odd = registry.plugin_errors
    assert "'broken'" in broken and "plugin_pkg:broken" in broken and "missing_dependency" in broken
    assert "'clash'" in clash and "already registered" in clash
    assert "'odd'" in odd and "entry point must be" in odd
    assert registry["Linear"].title == "Linear (Dense)", "a plugin cannot replace a built-in"


# --- layer versions ----------------------------------------------------------------------------
def _versioned_registry() -> Registry:
    return Registry([*all_builtin_specs(), _dense(version=2, migrate=_migrate_dense, legacy_types=("OldDense",))])


def _document(node_type: str, node_version: int | None, params: dict[str, Any]) -> str:
    layer: dict[str, Any] = {"id": "n_layer", "type": node_type, "name": "layer", "params": params}
    if node_version is not None:
        layer["version"] = node_version
    nodes = [{"id": "n_in", "type": "Input", "name": "x", "params": {"shape": [3]}}, layer,
             {"id": "n_out", "type": "Output", "name": "y"}]
    edges = [{"id": "e1", "source": {"node": "n_in", "port": "out"}, "target": {"node": "n_layer", "port": "in"}},
             {"id": "e2", "source": {"node": "n_layer", "port": "out"}, "target": {"node": "n_out", "port": "in"}}]
    return json.dumps({"format": "nnstudio.project", "version": 1, "graph": {"nodes": nodes, "edges": edges}})


@pytest.mark.parametrize("node_version", [1, None])
def test_old_layer_version_is_migrated_on_load(node_version: int | None) -> None:
    registry = _versioned_registry()
    project = loads(_document("OldDense", node_version, {"units": 7}), registry)
    node = project.graph.nodes["n_layer"]
    assert node.type == "TestDense" and node.params == {"width": 7}
    analysis = analyze(project.graph, registry)
    assert analysis.ok and analysis.shapes.of("n_layer").shape == (7,)
    assert build_module(project, registry).module.layer.out_features == 7
    saved = json.loads(dumps(project, registry))
    entry = next(n for n in saved["graph"]["nodes"] if n["id"] == "n_layer")
    assert entry["type"] == "TestDense" and entry["version"] == 2 and entry["params"] == {"width": 7}


def test_current_layer_version_is_not_migrated_again() -> None:
    project = loads(_document("TestDense", 2, {"width": 5}), _versioned_registry())
    assert project.graph.nodes["n_layer"].params == {"width": 5}


def test_old_param_names_in_a_current_node_are_refused_with_their_place() -> None:
    place = r"node 'layer' \(TestDense\): units: no such parameter; TestDense takes width"
    with pytest.raises(ProjectFileError, match=place):
        loads(_document("TestDense", 2, {"units": 5}), _versioned_registry())


def test_a_newer_layer_version_than_installed_is_refused() -> None:
    with pytest.raises(ProjectFileError, match="TestDense version 3 is newer"):
        loads(_document("TestDense", 3, {"width": 5}), _versioned_registry())


def test_builder_graph_with_a_versioned_layer_round_trips() -> None:
    registry = _versioned_registry()
    b = GraphBuilder()
    b.sequential(("Input", {"shape": [3]}), ("TestDense", {"width": 2}), "Output")
    again = loads(dumps(b.project, registry), registry)
    assert [n.params for n in again.graph.nodes.values()] == [{"shape": [3]}, {"width": 2}, {}]
