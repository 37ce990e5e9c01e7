"""The layer types issue 17 added export in every format and pass each format's parity check.

Older types are exported through the shipped examples (tests/io/export/test_export_examples.py); these are in
no example yet, so they are put side by side in one graph, every sample and variant of every new type a branch
of its own, and that graph is exported once per format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nnstudio.analysis import analyze
from nnstudio.io.export import export_model
from nnstudio.io.export.parity import TOLERANCE
from nnstudio.layers.registry import default_registry
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.project import Project
from tests.layers.layer_samples import SAMPLES, VARIANTS, Ports, f, port_types

NEW_TYPES = (
    "Conv3d", "ConvTranspose1d", "MaxPool3d", "AvgPool3d", "Upsample", "Dropout1d", "Dropout2d", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "PReLU", "SELU", "Softplus", "Mish", "Hardswish", "Hardtanh", "Identity",
    "Subtract", "MatMul", "CrossAttention", "TransformerDecoderLayer",
    "ScaledDotProductAttention",
)
FORMATS = {"torchscript": "model.pt", "exported-program": "model.pt2", "onnx": "model.onnx", "python": "python"}


CHANGED = (("TransformerEncoderLayer", {"nhead": 2, "causal": True}, {"in": f(5, 6)}),)  # a new param


def _cases() -> list[tuple[str, dict, Ports]]:
    cases = [(t, {}, SAMPLES[t]) for t in NEW_TYPES]
    return cases + [(t, params, ports) for t, params, ports in VARIANTS if t in NEW_TYPES] + list(CHANGED)


def _side_by_side() -> Project:
    b = GraphBuilder(name="issue 17 layers")
    for index, (layer_type, params, ports) in enumerate(_cases()):
        layer = b.add(layer_type, f"{layer_type.lower()}_{index}", **params)
        for port, value in ports.items():
            for k, tensor in enumerate(port_types(value)):
                source = b.add("Input", f"x{index}_{port}{k}", shape=list(tensor.shape), dtype=tensor.dtype)
                b.link(source, layer, port)
        b.link(layer, b.add("Output", f"y{index}"))
    return b.project


def test_every_new_type_is_in_the_graph() -> None:
    registry = default_registry()
    assert all(t in registry for t in NEW_TYPES)
    analysis = analyze(_side_by_side().graph)
    assert analysis.ok, [str(d) for d in analysis.diagnostics]


@pytest.mark.slow
@pytest.mark.parametrize("format_name", list(FORMATS))
def test_new_types_export_with_parity(format_name: str, tmp_path: Path) -> None:
    result = export_model(_side_by_side(), format_name, tmp_path / FORMATS[format_name])
    assert result.max_abs_diff <= TOLERANCE, (format_name, result.max_abs_diff)
    assert (tmp_path / FORMATS[format_name]).exists()
