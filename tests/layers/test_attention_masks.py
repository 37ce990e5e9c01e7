"""The causal mask of CrossAttention, ScaledDotProductAttention and the Transformer encoder and decoder layers:
with it, step t of the output does not depend on any later step; without it, it does."""

from __future__ import annotations

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.model.builder import GraphBuilder

STEPS, WIDTH = 5, 8


def _model(layer_type: str, causal: bool, ports: tuple[str, ...]):
    b = GraphBuilder(name="mask")
    size = {"CrossAttention": {"num_heads": 2}, "ScaledDotProductAttention": {}}.get(
        layer_type, {"nhead": 2, "dim_feedforward": 16, "dropout": 0.0})
    layer = b.add(layer_type, "layer", causal=causal, **size)
    sources = {}
    for port in ports:
        sources[port] = b.add("Input", f"x_{port}", shape=[STEPS, WIDTH])
        b.link(sources[port], layer, port)
    b.link(layer, b.add("Output", "y"))
    compiled = build_module(b.project)
    return compiled.module.eval(), [b.graph.nodes[n].name for n in compiled.input_nodes]


def _later_steps_changed(layer_type: str, causal: bool, ports: tuple[str, ...], changed: tuple[str, ...]) -> bool:
    """Whether changing the last step of the `changed` inputs moves any output step before the last."""
    module, names = _model(layer_type, causal, ports)
    torch.manual_seed(0)
    inputs = {name: torch.randn(2, STEPS, WIDTH) for name in names}
    edited = {name: t.clone() for name, t in inputs.items()}
    for port in changed:
        edited[f"x_{port}"][:, -1] += 3.0
    with torch.no_grad():
        before = module(*(inputs[n] for n in names))
        after = module(*(edited[n] for n in names))
    return not torch.allclose(before[:, :-1], after[:, :-1], atol=1e-6)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("layer_type", ["CrossAttention", "ScaledDotProductAttention"])
def test_attention_masks_later_keys_and_values(layer_type: str, causal: bool) -> None:
    ports = ("query", "key", "value")
    assert _later_steps_changed(layer_type, causal, ports, ("key", "value")) is not causal


@pytest.mark.parametrize("causal", [True, False])
def test_decoder_self_attention_masks_later_steps(causal: bool) -> None:
    assert _later_steps_changed("TransformerDecoderLayer", causal, ("in", "memory"), ("in",)) is not causal


@pytest.mark.parametrize("causal", [True, False])
def test_encoder_masks_later_steps(causal: bool) -> None:
    assert _later_steps_changed("TransformerEncoderLayer", causal, ("in",), ("in",)) is not causal


def test_the_decoder_attends_to_all_of_the_memory_even_when_causal() -> None:
    assert _later_steps_changed("TransformerDecoderLayer", True, ("in", "memory"), ("memory",))


def test_padded_keys_are_not_attended_to() -> None:
    b = GraphBuilder(name="padding")
    layer = b.add("CrossAttention", "layer", num_heads=2, pad_id=0)
    for port in ("query", "key", "value"):
        b.link(b.add("Input", f"x_{port}", shape=[STEPS, WIDTH]), layer, port)
    b.link(b.add("Input", "tokens", shape=[STEPS], dtype="int64"), layer, "padding")
    b.link(layer, b.add("Output", "y"))
    compiled = build_module(b.project)
    names = [b.graph.nodes[n].name for n in compiled.input_nodes]
    torch.manual_seed(0)
    inputs = {name: torch.randn(2, STEPS, WIDTH) for name in names if name != "tokens"}
    inputs["tokens"] = torch.tensor([[3, 4, 5, 0, 0], [1, 0, 2, 0, 7]])
    edited = {name: t.clone() for name, t in inputs.items()}
    edited["x_key"][0, 3:] += 3.0  # padding of sample 0
    edited["x_value"][1, 1] -= 2.0  # padding of sample 1
    module = compiled.module.eval()
    with torch.no_grad():
        before, after = (module(*(given[n] for n in names)) for given in (inputs, edited))
    torch.testing.assert_close(before, after)
    edited["x_key"][0, 0] += 3.0  # a real key
    with torch.no_grad():
        assert not torch.allclose(module(*(edited[n] for n in names))[0], before[0])


def test_the_padding_port_may_stay_unconnected() -> None:
    b = GraphBuilder(name="no padding")
    x = b.add("Input", "x", shape=[STEPS, WIDTH])
    layer = b.add("CrossAttention", "layer", num_heads=2)
    for port in ("query", "key", "value"):
        b.link(x, layer, port)
    b.link(layer, b.add("Output", "y"))
    from nnstudio.analysis import analyze

    assert analyze(b.graph).ok
