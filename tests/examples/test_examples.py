"""Every shipped example loads, validates cleanly, compiles, runs, and matches its builder."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from nnstudio.analysis import analyze
from nnstudio.compile import build_module, example_inputs
from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES, example_path
from nnstudio.io.project_file import load

ROOT = Path(__file__).resolve().parents[2]


def _make_examples() -> ModuleType:
    path = ROOT / "tools" / "make_examples.py"
    spec = importlib.util.spec_from_file_location("make_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_examples", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_loads_validates_compiles_and_runs(name: str) -> None:
    project = load(example_path(name))
    assert project.metadata.name == EXAMPLES[name].title
    assert project.metadata.description == EXAMPLES[name].description
    analysis = analyze(project.graph)
    assert analysis.diagnostics == [], [str(d) for d in analysis.diagnostics]
    compiled = build_module(project)
    expected = [analysis.shapes.of(node, "") for node in compiled.output_nodes]
    for training in (True, False):
        compiled.module.train(training)
        with torch.no_grad():
            result = compiled.module(*example_inputs(compiled, batch=4))
        results = result if isinstance(result, tuple) else (result,)  # a tuple when there are several Outputs
        assert [tuple(r.shape) for r in results] == [(4, *e.shape) for e in expected]
        assert all(torch.isfinite(r).all() for r in results)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_layout_is_tidy(name: str) -> None:
    """Names are chosen (not the numbered defaults), and every node sits in its own grid cell."""
    graph = load(example_path(name)).graph
    positions = [node.position for node in graph.nodes.values()]
    assert len(set(positions)) == len(positions)
    for node in graph.nodes.values():
        assert not re.fullmatch(rf"{node.type.lower()}_\d+", node.name), f"{name}: name {node.name} by its role"
    for edge in graph.edges.values():  # data flows left to right
        assert graph.nodes[edge.source.node].position[0] < graph.nodes[edge.target.node].position[0]


def test_examples_span_the_catalogue() -> None:
    used = {node.type for name in EXAMPLES for node in load(example_path(name)).graph.nodes.values()}
    for layer_type in ("Conv2d", "MaxPool2d", "BatchNorm2d", "Add", "GlobalAvgPool", "Dropout", "LSTM",
                       "Embedding", "PositionalEncoding", "TransformerEncoderLayer", "Target", "GaussianSample",
                       "GaussianNoise", "Split", "ClassMap", "CrossEntropyLoss", "BCELoss", "MSELoss",
                       "GaussianKLLoss", "DistillationLoss", "ActivityL1Loss"):
        assert layer_type in used


def test_shipped_files_match_their_builders() -> None:
    make_examples = _make_examples()
    assert set(make_examples.RECIPES) == set(EXAMPLES)
    assert make_examples.stale() == [], "run python tools/make_examples.py"


def test_default_example_exists_and_unknown_names_are_refused() -> None:
    assert example_path(DEFAULT_EXAMPLE).exists()
    with pytest.raises(KeyError, match="no example named 'nope'; choose one of spirals"):
        example_path("nope")
