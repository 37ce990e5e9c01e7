"""Misuse of layers gives diagnostics that name the node, port or param and say what was expected;
plus the behaviours a shape check cannot see (bidirectional 'last', positional tables)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from nnstudio.analysis import analyze
from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.compile import build_module
from nnstudio.model.builder import GraphBuilder
from tests.layers.layer_samples import Ports, f, i, wrap_layer


def _only_error(layer_type: str, ports: Ports, params: dict[str, Any] | None = None) -> Diagnostic:
    project, layer = wrap_layer(layer_type, ports, params)
    errors = analyze(project.graph).errors
    assert len(errors) == 1, [str(e) for e in errors]
    assert errors[0].node_id == layer
    return errors[0]


def test_conv2d_on_a_vector_names_the_port_and_the_expected_layout() -> None:
    error = _only_error("Conv2d", {"in": f(64)})
    assert error.code == "shape-mismatch"
    assert error.port == "in"
    assert error.message.startswith("layer.in: ")
    assert "[N, channels, height, width]" in error.message
    assert "[N, 64]" in error.message
    assert "(from in_0)" in error.message


@pytest.mark.parametrize("layer_type", ["LSTM", "GRU", "RNN"])
def test_recurrent_layer_refuses_token_ids(layer_type: str) -> None:
    error = _only_error(layer_type, {"in": i(20)})
    assert error.port == "in"
    assert "float32" in error.message and "int64" in error.message


def test_recurrent_layer_wants_steps_and_features() -> None:
    assert "[N, steps, features]" in _only_error("LSTM", {"in": f(20)}).message


def test_embedding_refuses_float_input() -> None:
    assert "int64 token ids" in _only_error("Embedding", {"in": f(7)}).message


@pytest.mark.parametrize(("layer_type", "param"), [("MultiheadAttention", "num_heads"),
                                                   ("TransformerEncoderLayer", "nhead")])
def test_heads_must_divide_the_embedding(layer_type: str, param: str) -> None:
    error = _only_error(layer_type, {"in": f(6, 10)}, {param: 4})
    assert error.port == "in"
    assert f"needs {param}=4 to divide the embedding size, but [N, 6, 10] has 10" in error.message


def test_reshape_with_the_wrong_total() -> None:
    error = _only_error("Reshape", {"in": f(2, 3, 4)}, {"shape": [5, 5]})
    assert "24 values per sample" in error.message and "totals must match" in error.message
    error = _only_error("Reshape", {"in": f(2, 3, 4)}, {"shape": [5, -1]})
    assert "not a multiple of 5" in error.message


def test_convolution_that_shrinks_to_nothing_is_refused() -> None:
    error = _only_error("Conv2d", {"in": f(1, 3, 8)}, {"kernel_size": 5})
    assert "would produce an output of height 0" in error.message
    assert "too small" in error.message
    error = _only_error("MaxPool2d", {"in": f(1, 1, 8)})
    assert "output of height 0" in error.message


def test_grouped_convolution_must_divide_input_channels() -> None:
    error = _only_error("Conv2d", {"in": f(3, 8, 8)}, {"groups": 2})
    assert error.port == "in" and "3 input channels" in error.message


def test_positional_encoding_refuses_sequences_beyond_max_len() -> None:
    assert "max_len=4" in _only_error("PositionalEncoding", {"in": f(6, 8)}, {"max_len": 4}).message


@pytest.mark.parametrize(("layer_type", "params", "param", "words"), [
    ("Conv2d", {"out_channels": 6, "groups": 4}, "groups", "must divide out_channels (6)"),
    ("ConvTranspose2d", {"stride": 2, "output_padding": 2}, "output_padding", "smaller than stride"),
    ("MaxPool2d", {"kernel_size": 2, "padding": 2}, "padding", "at most half"),
    ("LSTM", {"dropout": 0.3}, "dropout", "num_layers = 1"),
    ("Dropout", {"p": 1.0}, "p", "below 1"),
    ("Permute", {"dims": [0, 0]}, "dims", "exactly once"),
    ("Reshape", {"shape": [-1, -1]}, "shape", "only one dim can be -1"),
    ("Reshape", {"shape": [0, 4]}, "shape", "positive"),
    ("Embedding", {"num_embeddings": 5, "padding_idx": 5}, "padding_idx", "below num_embeddings (5)"),
])
def test_cross_param_rules(layer_type: str, params: dict[str, Any], param: str, words: str) -> None:
    error = _only_error(layer_type, {"in": f(4, 6, 6)}, params)
    assert error.code == "bad-param" and error.param == param
    assert error.message.startswith(f"layer.{param}: ") and words in error.message


def test_multi_input_layers_name_the_offending_input() -> None:
    error = _only_error("Add", {"inputs": [f(5), f(6)]})
    assert error.port == "inputs" and "input 2" in error.message and "shapes must be equal" in error.message
    error = _only_error("Concat", {"inputs": [f(2, 3), f(2, 4)]})
    assert "input 2" in error.message and "all other dims must match" in error.message
    error = _only_error("Bilinear", {"in1": f(4), "in2": f(4, 2)})
    assert error.port == "in2"


def test_bidirectional_last_joins_each_direction_at_its_own_end() -> None:
    project, _ = wrap_layer("LSTM", {"in": f(5, 3)},
                                {"hidden_size": 4, "bidirectional": True, "num_layers": 2, "output": "last"})
    compiled = build_module(project)
    x = torch.randn(2, 5, 3)
    lstm = compiled.module.get_submodule("layer")
    with torch.no_grad():
        sequence, _ = lstm(x)
        last = compiled.module(x)
    torch.testing.assert_close(last[:, :4], sequence[:, -1, :4])  # forward direction ends at the last step
    torch.testing.assert_close(last[:, 4:], sequence[:, 0, 4:])  # backward direction ends at the first step


def test_sinusoidal_table_follows_the_formula() -> None:
    project, _ = wrap_layer("PositionalEncoding", {"in": f(3, 5)})
    compiled = build_module(project)
    with torch.no_grad():
        table = compiled.module(torch.zeros(1, 3, 5))[0]
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0]))
    slower = 10000 ** (-2 / 5)  # the frequency of dims 2 and 3
    expected = [math.sin(2), math.cos(2), math.sin(2 * slower), math.cos(2 * slower)]
    torch.testing.assert_close(table[2, :4], torch.tensor(expected))


def test_sinusoidal_positions_are_not_saved_with_the_weights() -> None:
    project, _ = wrap_layer("PositionalEncoding", {"in": f(3, 4)})
    assert len(build_module(project).module.state_dict()) == 0
    project, _ = wrap_layer("PositionalEncoding", {"in": f(3, 4)}, {"kind": "learned", "max_len": 3})
    state = build_module(project).module.state_dict()
    assert [tuple(t.shape) for t in state.values()] == [(3, 4)]


def test_global_pooling_averages_each_channel() -> None:
    b = GraphBuilder()
    b.sequential(("Input", {"shape": [2, 3, 3]}), "GlobalAvgPool", "Output")
    compiled = build_module(b.project)
    x = torch.arange(36, dtype=torch.float32).reshape(2, 2, 3, 3)
    torch.testing.assert_close(compiled.module(x), x.mean(dim=(2, 3)))
