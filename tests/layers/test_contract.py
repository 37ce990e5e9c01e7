"""The layer contract, checked for EVERY registered layer (built-ins and installed plugins alike).

For each spec: its docs are filled in, its defaults are legal, a minimal graph around it validates,
the inferred output type equals what the compiled torch module really returns, the generated
constructors are plain literals (so code export can print them), and the project survives a save/load.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest
import torch

from nnstudio.analysis import analyze
from nnstudio.compile import build_module
from nnstudio.io.project_file import dumps, loads
from nnstudio.layers.registry import default_registry
from nnstudio.layers.spec import LayerSpec, TensorType
from nnstudio.model.project import Project
from tests.layers.layer_samples import BATCH, SAMPLES, VARIANTS, Ports, random_tensor, wrap_layer

SPECS = list(default_registry())
_DTYPES = {"float32": torch.float32, "int64": torch.int64}


def _sample(spec: LayerSpec) -> Ports:
    if spec.type not in SAMPLES:
        pytest.fail(f"layer {spec.type!r} has no sample input: add one to SAMPLES in tests/layers/layer_samples.py "
                    "so its shape rule is checked against the real module")
    return SAMPLES[spec.type]


def _output_types(project: Project, layer: str) -> list[TensorType]:
    """The inferred type of each output port (an Output's or a loss node's recorded value otherwise)."""
    analysis = analyze(project.graph)
    assert analysis.ok, [str(d) for d in analysis.diagnostics]
    spec = analysis.structure.specs[layer]
    inferred = [analysis.shapes.of(layer, port.name) for port in spec.outputs] or [analysis.shapes.of(layer, "")]
    assert all(t is not None for t in inferred)
    return inferred  # type: ignore[return-value]


def _run(project: Project, training: bool) -> tuple[torch.Tensor, ...]:
    compiled = build_module(project)
    shapes = compiled.analysis.shapes
    tensors = [random_tensor(shapes.of(node_id)) for node_id in compiled.input_nodes]
    compiled.module.train(training)
    with torch.no_grad():
        result = compiled.module(*tensors)
    return result if isinstance(result, tuple) else (result,)


def _objective_values(project: Project, layer: str, training: bool) -> list[torch.Tensor]:
    """Run the objective graph; returns [the layer's loss term] for a loss, [its value] for a Target."""
    compiled = build_module(project)
    assert compiled.objective is not None and compiled.plan is not None
    shapes = compiled.analysis.shapes
    probabilities = project.graph.node(layer).type == "BCELoss"  # BCE needs inputs in [0, 1]
    tensors = [random_tensor(shapes.of(node_id)) for node_id in compiled.plan.placeholders]
    if probabilities:
        tensors = [t.sigmoid() if t.is_floating_point() else t for t in tensors]
    compiled.objective.train(training)
    with torch.no_grad():
        total, terms, _, _ = compiled.objective(*tensors)
    assert torch.isfinite(total)
    if layer in compiled.plan.placeholders:
        return [tensors[compiled.plan.placeholders.index(layer)]]
    return [terms[[t.node_id for t in compiled.plan.terms].index(layer)]]


def _check_against_torch(layer_type: str, ports: Ports, params: dict[str, Any] | None = None) -> None:
    project, layer = wrap_layer(layer_type, ports, params)
    inferred = _output_types(project, layer)
    role = default_registry()[layer_type].role
    for training in (True, False):
        if role == "loss":
            results = _objective_values(project, layer, training)
            assert results[0].dim() == 0 and results[0].dtype == torch.float32, f"{layer_type}: not a scalar"
            continue
        results = _objective_values(project, layer, training) if role == "target" else _run(project, training)
        mode = "train" if training else "eval"
        assert len(results) == len(inferred), f"{layer_type} in {mode} mode returns {len(results)} values"
        for result, expected in zip(results, inferred):
            batch = (BATCH, *expected.shape)
            assert tuple(result.shape) == batch, f"{layer_type} in {mode} mode, inferred {expected}"
            assert result.dtype == _DTYPES[expected.dtype], f"{layer_type} in {mode} mode"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_docs_and_defaults(spec: LayerSpec) -> None:
    for text in (spec.title, spec.summary, spec.explanation, spec.formula, spec.category, spec.glyph):
        assert text.strip(), f"{spec.type}: empty docs"
    assert "\n" not in spec.summary, "the summary is one line for the palette"
    for param in spec.params:
        assert param.doc.strip(), f"{spec.type}.{param.name} has no doc"
        assert param.coerce(param.default) == param.default, f"{spec.type}.{param.name} default is illegal"
    names = {p.name for p in spec.params}
    assert set(spec.key_params) <= names
    params, problems = spec.resolve_params({})
    assert problems == []
    assert params == spec.defaults()
    if spec.role in ("layer", "loss"):
        assert spec.emit is not None
    if spec.role == "loss":
        assert spec.params[0].name == "weight", "every loss node is weighted in the objective"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_inferred_type_matches_torch(spec: LayerSpec) -> None:
    _check_against_torch(spec.type, _sample(spec))


@pytest.mark.parametrize(("layer_type", "params", "ports"), VARIANTS,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(VARIANTS)])
def test_variant_matches_torch(layer_type: str, params: dict[str, Any], ports: Ports) -> None:
    _check_against_torch(layer_type, ports, params)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_constructs_are_printable_literals(spec: LayerSpec) -> None:
    project, _ = wrap_layer(spec.type, _sample(spec))
    compiled = build_module(project)
    for attribute, construct in compiled.constructs.items():
        for name, value in construct.kwargs.items():
            assert ast.literal_eval(repr(value)) == value, f"{spec.type}: {name}={value!r} is not a literal"
        ast.parse(construct.source(), mode="eval")
        assert construct.resolve() is type(compiled.network.get_submodule(attribute))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_project_round_trips(spec: LayerSpec) -> None:
    ports = _sample(spec)
    params: dict[str, Any] = {}
    for layer_type, variant_params, variant_ports in VARIANTS:
        if layer_type == spec.type:  # non-default params make the round trip meaningful
            params, ports = variant_params, variant_ports
            break
    project, _ = wrap_layer(spec.type, ports, params)
    again = loads(dumps(project))
    assert [(n.id, n.type, n.name, n.params, n.position) for n in again.graph.nodes.values()] == \
           [(n.id, n.type, n.name, n.params, n.position) for n in project.graph.nodes.values()]
    assert list(again.graph.edges.values()) == list(project.graph.edges.values())
    assert dumps(again) == dumps(project)


def test_every_category_is_known_to_the_palette() -> None:
    from nnstudio.layers.registry import CATEGORY_ORDER

    assert {spec.category for spec in SPECS if spec.type in SAMPLES} <= set(CATEGORY_ORDER)


def test_catalogue_imports_without_torch() -> None:
    """Opening the palette or validating a file must not pay for importing torch."""
    code = ("import sys; from nnstudio.layers import builtin_registry; from nnstudio.analysis import analyze; "
            "builtin_registry(); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
