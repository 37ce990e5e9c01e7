"""Sample inputs for every layer type, and a helper that wraps one layer in a runnable graph.

Every registered layer needs an entry in SAMPLES: the contract test fails for one without, so a new
layer (built-in or plugin) cannot ship without its shape rule being checked against torch.
"""

from __future__ import annotations

from typing import Any

import torch

from nnstudio.layers.registry import default_registry
from nnstudio.layers.spec import TensorType
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.project import Project

BATCH = 3
VOCAB = 10  # token ids in samples are drawn from [0, VOCAB)


def f(*dims: int) -> TensorType:
    return TensorType(tuple(dims))


def i(*dims: int) -> TensorType:
    return TensorType(tuple(dims), "int64")


Ports = dict[str, TensorType | list[TensorType]]

# What arrives at each input port when the layer runs with its default params.
SAMPLES: dict[str, Ports] = {
    "Input": {},
    "Output": {"in": f(3)},
    "Linear": {"in": f(8)},
    "Bilinear": {"in1": f(4), "in2": f(5)},
    "LearnedTensor": {"in": f(3)},
    "Conv1d": {"in": f(3, 12)},
    "Conv2d": {"in": f(3, 10, 9)},
    "ConvTranspose2d": {"in": f(3, 5, 4)},
    "MaxPool1d": {"in": f(3, 11)},
    "MaxPool2d": {"in": f(3, 8, 7)},
    "AvgPool1d": {"in": f(3, 11)},
    "AvgPool2d": {"in": f(3, 8, 7)},
    "AdaptiveAvgPool2d": {"in": f(3, 7, 6)},
    "GlobalAvgPool": {"in": f(4, 5, 6)},
    "GlobalMaxPool": {"in": f(4, 9)},
    "BatchNorm1d": {"in": f(6)},
    "BatchNorm2d": {"in": f(4, 5, 5)},
    "LayerNorm": {"in": f(5, 8)},
    "Dropout": {"in": f(7)},
    "ReLU": {"in": f(4, 6)},
    "LeakyReLU": {"in": f(4, 6)},
    "ELU": {"in": f(4, 6)},
    "GELU": {"in": f(4, 6)},
    "SiLU": {"in": f(4, 6)},
    "Sigmoid": {"in": f(4, 6)},
    "Tanh": {"in": f(4, 6)},
    "Softmax": {"in": f(4, 6)},
    "LogSoftmax": {"in": f(4, 6)},
    "Flatten": {"in": f(2, 3, 4)},
    "Reshape": {"in": f(2, 3, 4)},
    "Permute": {"in": f(4, 6)},
    "Transpose": {"in": f(4, 6)},
    "Reduce": {"in": f(4, 6)},
    "Embedding": {"in": i(7)},
    "RNN": {"in": f(7, 5)},
    "LSTM": {"in": f(7, 5)},
    "GRU": {"in": f(7, 5)},
    "MultiheadAttention": {"in": f(6, 16)},
    "TransformerEncoderLayer": {"in": f(6, 16)},
    "PositionalEncoding": {"in": f(6, 16)},
    "Add": {"inputs": [f(5), f(5), f(5)]},
    "Multiply": {"inputs": [f(2, 5), f(2, 5)]},
    "Concat": {"inputs": [f(2, 3), f(4, 3)]},
    "Target": {},
    "GaussianSample": {"mu": f(4), "logvar": f(4)},
    "GaussianNoise": {"in": f(3, 4)},
    "Split": {"in": f(6, 3)},
    "ClassMap": {"in": i(2)},
    "CrossEntropyLoss": {"input": f(VOCAB), "target": i()},
    "NLLLoss": {"input": f(VOCAB), "target": i()},
    "BCELoss": {"input": f(4), "target": f(4)},
    "BCEWithLogitsLoss": {"input": f(4), "target": f(4)},
    "MSELoss": {"input": f(2, 3), "target": f(2, 3)},
    "L1Loss": {"input": f(5), "target": f(5)},
    "HuberLoss": {"input": f(5), "target": f(5)},
    "GaussianKLLoss": {"mu": f(6), "logvar": f(6)},
    "DistillationLoss": {"student": f(VOCAB), "teacher": f(VOCAB)},
    "ActivityL1Loss": {"in": f(8)},
    "RBF": {"in": f(4)},
    "PrimaryCapsules": {"in": f(3, 9, 9)},
    "RoutingCapsules": {"in": f(12, 8)},
    "Squash": {"in": f(5, 4)},
    "CapsuleLength": {"in": f(VOCAB, 16)},
    "MarginLoss": {"input": f(VOCAB), "target": i()},
    "NeuralODE": {"in": f(4)},
    "SOM": {"in": f(4)},
    "Conv3d": {"in": f(2, 5, 6, 4)},
    "ConvTranspose1d": {"in": f(3, 7)},
    "MaxPool3d": {"in": f(2, 4, 5, 6)},
    "AvgPool3d": {"in": f(2, 4, 5, 6)},
    "Upsample": {"in": f(3, 4, 5)},
    "Dropout1d": {"in": f(4, 6)},
    "Dropout2d": {"in": f(4, 5, 3)},
    "GroupNorm": {"in": f(8, 5, 5)},
    "InstanceNorm1d": {"in": f(3, 7)},
    "InstanceNorm2d": {"in": f(3, 4, 5)},
    "PReLU": {"in": f(4, 6)},
    "SELU": {"in": f(4, 6)},
    "Softplus": {"in": f(4, 6)},
    "Mish": {"in": f(4, 6)},
    "Hardswish": {"in": f(4, 6)},
    "Hardtanh": {"in": f(4, 6)},
    "Identity": {"in": f(2, 3)},
    "Subtract": {"a": f(2, 5), "b": f(2, 5)},
    "MatMul": {"a": f(3, 4), "b": f(4, 5)},
    "CrossAttention": {"query": f(5, 16), "key": f(7, 12), "value": f(7, 8)},
    "TransformerDecoderLayer": {"in": f(5, 16), "memory": f(7, 16)},
    "ScaledDotProductAttention": {"query": f(5, 8), "key": f(7, 8), "value": f(7, 3)},
}

# Non-default params that exercise the other branches of the shape rules.
VARIANTS: list[tuple[str, dict[str, Any], Ports]] = [
    ("Linear", {"out_features": 5, "bias": False}, {"in": f(7, 3)}),
    ("LearnedTensor", {"shape": [4, 6], "init": "zeros"}, {"in": i(5)}),
    ("Conv1d", {"out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 1, "dilation": 2},
     {"in": f(2, 21)}),
    ("Conv1d", {"out_channels": 6, "groups": 3, "padding_mode": "circular", "padding": 2}, {"in": f(3, 5)}),
    ("Conv2d", {"out_channels": 8, "kernel_size": [3, 1], "stride": [2, 1], "padding": [1, 0]},
     {"in": f(3, 9, 4)}),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "dilation": 2, "groups": 2, "bias": False},
     {"in": f(2, 11, 12)}),
    ("Conv2d", {"out_channels": 4, "padding": 1, "padding_mode": "reflect"}, {"in": f(2, 4, 4)}),
    ("ConvTranspose2d", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
     {"in": f(4, 4, 5)}),
    ("ConvTranspose2d", {"out_channels": 4, "kernel_size": [2, 3], "dilation": 2, "groups": 2},
     {"in": f(2, 3, 3)}),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, {"in": f(2, 8, 7)}),
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}, {"in": f(2, 10)}),
    ("AvgPool2d", {"kernel_size": [2, 3], "stride": 1, "padding": [1, 1], "count_include_pad": False},
     {"in": f(1, 5, 5)}),
    ("AvgPool1d", {"kernel_size": 4, "stride": 3, "ceil_mode": True}, {"in": f(2, 11)}),
    ("AdaptiveAvgPool2d", {"output_size": [2, 3]}, {"in": f(3, 7, 9)}),
    ("GlobalAvgPool", {}, {"in": f(4, 9)}),
    ("BatchNorm1d", {"affine": False, "momentum": 0.3}, {"in": f(4, 6)}),
    ("LayerNorm", {"dims": 2, "elementwise_affine": False}, {"in": f(3, 4, 5)}),
    ("Flatten", {"start_dim": 1}, {"in": f(2, 3, 4)}),
    ("Flatten", {"start_dim": 0, "end_dim": 1}, {"in": f(2, 3, 4)}),
    ("Reshape", {"shape": [4, -1]}, {"in": f(2, 3, 4)}),
    ("Reshape", {"shape": [2, 2, 6]}, {"in": f(24)}),
    ("Permute", {"dims": [2, 0, 1]}, {"in": f(2, 3, 4)}),
    ("Transpose", {"dim0": 0, "dim1": -1}, {"in": f(2, 3, 4)}),
    ("Reduce", {"op": "max", "dim": -1, "keepdim": True}, {"in": f(2, 3, 4)}),
    ("Reduce", {"op": "sum", "dim": 0}, {"in": i(6)}),
    ("Softmax", {"dim": 0}, {"in": f(4, 6)}),
    ("Embedding", {"num_embeddings": VOCAB, "embedding_dim": 3, "padding_idx": 0}, {"in": i(2, 5)}),
    ("RNN", {"hidden_size": 6, "nonlinearity": "relu", "output": "last"}, {"in": f(4, 3)}),
    ("LSTM", {"hidden_size": 6, "num_layers": 2, "dropout": 0.2, "bidirectional": True, "output": "last"},
     {"in": f(4, 3)}),
    ("LSTM", {"hidden_size": 6, "bidirectional": True}, {"in": f(4, 3)}),
    ("GRU", {"hidden_size": 5, "num_layers": 3, "output": "last"}, {"in": f(4, 3)}),
    ("GRU", {"hidden_size": 5, "bidirectional": True, "output": "last"}, {"in": f(4, 3)}),
    ("MultiheadAttention", {"num_heads": 3, "dropout": 0.1, "bias": False}, {"in": f(5, 12)}),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "activation": "gelu", "norm_first": True},
     {"in": f(5, 6)}),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8, "causal": True}, {"in": f(5, 6)}),
    ("PositionalEncoding", {"kind": "learned", "max_len": 8, "dropout": 0.1}, {"in": f(8, 6)}),
    ("PositionalEncoding", {"max_len": 7}, {"in": f(7, 5)}),
    ("Concat", {"dim": -1}, {"inputs": [f(2, 3), f(2, 1), f(2, 2)]}),
    ("Concat", {"dim": 0}, {"inputs": [i(2), i(3)]}),
    ("GaussianSample", {"sample_in_eval": True}, {"mu": f(2, 3), "logvar": f(2, 3)}),
    ("GaussianNoise", {"std": 0.0}, {"in": f(5)}),
    ("Split", {"dim": 0, "first": 1}, {"in": f(4, 3)}),
    ("ClassMap", {"table": [2, 1, 0, 3, 3, 3, 1, 1, 0, 0]}, {"in": i(3)}),
    ("CrossEntropyLoss", {"weight": 0.5, "class_weights": [1.0] * VOCAB, "label_smoothing": 0.1},
     {"input": f(4, VOCAB), "target": i(4)}),
    ("NLLLoss", {"class_weights": [2.0] * VOCAB}, {"input": f(VOCAB), "target": i()}),
    ("HuberLoss", {"delta": 0.5}, {"input": f(5), "target": f(5)}),
    ("DistillationLoss", {"temperature": 2.0}, {"student": f(VOCAB), "teacher": f(VOCAB)}),
    ("ActivityL1Loss", {"reduction": "sum"}, {"in": f(2, 4)}),
    ("RBF", {"centres": 5, "width": 0.5, "learn_widths": False, "centre_init": "kmeans"}, {"in": f(3, 2)}),
    ("PrimaryCapsules", {"capsules": 4, "capsule_dim": 6, "kernel_size": 5, "stride": 2, "padding": 1},
     {"in": f(2, 11, 10)}),
    ("RoutingCapsules", {"capsules": 3, "capsule_dim": 5, "iterations": 1}, {"in": f(7, 4)}),
    ("Squash", {"dim": 0}, {"in": f(5, 4)}),
    ("CapsuleLength", {}, {"in": f(2, 3, 4)}),
    ("MarginLoss", {"weight": 0.5, "m_plus": 0.95, "m_minus": 0.05, "down_weight": 1.0},
     {"input": f(4, VOCAB), "target": i(4)}),
    ("NeuralODE", {"hidden": 8, "layers": 1, "activation": "softplus", "time_input": False, "solver": "rk4",
                   "steps": 4, "time": 0.5}, {"in": f(2, 3)}),
    ("NeuralODE", {"solver": "euler", "steps": 3, "adjoint": True}, {"in": f(5)}),
    ("NeuralODE", {"rtol": 1e-5, "atol": 1e-6, "adjoint": True, "activation": "relu"}, {"in": f(3)}),
    ("SOM", {"height": 3, "width": 5, "topology": "hexagonal", "prototype_init": "pca", "output": "bmu"},
     {"in": f(2, 6)}),
    ("SOM", {"height": 1, "width": 2, "prototype_init": "sample"}, {"in": f(3, 4)}),
    ("Conv3d", {"out_channels": 4, "kernel_size": [3, 1, 2], "stride": [2, 1, 1], "padding": [1, 0, 1],
                "groups": 2, "bias": False, "padding_mode": "replicate"}, {"in": f(2, 7, 4, 5)}),
    ("ConvTranspose1d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1, "output_padding": 1,
                         "dilation": 1, "groups": 2}, {"in": f(2, 6)}),
    ("MaxPool3d", {"kernel_size": [2, 3, 3], "stride": [1, 2, 2], "padding": 1, "dilation": [1, 1, 2],
                   "ceil_mode": True}, {"in": f(2, 5, 9, 9)}),
    ("AvgPool3d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, {"in": f(1, 5, 6, 7)}),
    ("Upsample", {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}, {"in": f(2, 5, 4)}),
    ("Upsample", {"scale_factor": None, "size": [9], "mode": "linear"}, {"in": f(2, 4)}),
    ("Upsample", {"scale_factor": None, "size": [3, 6, 5], "mode": "trilinear"}, {"in": f(2, 2, 3, 4)}),
    ("Upsample", {"scale_factor": 3.0}, {"in": f(2, 3, 2, 2)}),
    ("Dropout2d", {"p": 0.2}, {"in": f(3, 4, 4)}),
    ("GroupNorm", {"num_groups": 3, "eps": 1e-3, "affine": False}, {"in": f(6)}),
    ("InstanceNorm1d", {"affine": True, "track_running_stats": True, "momentum": 0.2}, {"in": f(3, 7)}),
    ("InstanceNorm2d", {"affine": True, "eps": 1e-3}, {"in": f(2, 3, 3)}),
    ("PReLU", {"per_channel": True, "slope_init": 0.1}, {"in": f(5, 3, 3)}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}, {"in": f(6)}),
    ("Hardtanh", {"min_val": 0.0, "max_val": 6.0}, {"in": f(6)}),
    ("Identity", {}, {"in": i(4)}),
    ("MatMul", {}, {"a": f(2, 3, 4), "b": f(2, 4, 1)}),
    ("CrossAttention", {"num_heads": 2, "causal": True, "dropout": 0.1, "bias": False},
     {"query": f(6, 8), "key": f(6, 8), "value": f(6, 8)}),
    ("ScaledDotProductAttention", {"causal": True}, {"query": f(2, 6, 4), "key": f(2, 6, 4), "value": f(2, 6, 5)}),
    ("CrossAttention", {"num_heads": 2, "pad_id": 9},
     {"query": f(4, 8), "key": f(6, 8), "value": f(6, 8), "padding": i(6)}),
    ("CrossAttention", {"num_heads": 1, "causal": True}, {"query": f(3, 4), "key": f(5, 4), "value": f(5, 2)}),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8, "activation": "gelu", "norm_first": True,
                                 "causal": True}, {"in": f(5, 6), "memory": f(3, 6)}),
]


def port_types(value: TensorType | list[TensorType]) -> list[TensorType]:
    return value if isinstance(value, list) else [value]


def wrap_layer(layer_type: str, ports: Ports, params: dict[str, Any] | None = None) -> tuple[Project, str]:
    """Inputs → one layer → Output. Returns the project and the id of the layer's node."""
    spec = default_registry()[layer_type]
    b = GraphBuilder(name=f"{layer_type} contract")
    layer = b.add(layer_type, "layer", **(params or {}))
    if spec.role == "input":
        b.link(layer, b.add("Output", "result"))
        return b.project, layer
    if spec.role == "target":  # a Target only feeds losses: score some logits against it
        logits = b.add("Input", "logits", shape=[VOCAB])
        loss = b.add("CrossEntropyLoss", "loss")
        b.link(logits, b.add("Output", "result"))
        b.link(logits, loss, "input")
        b.link(layer, loss, "target")
        return b.project, layer
    for port, value in ports.items():
        for index, tensor in enumerate(port_types(value)):
            # a per-sample scalar (a class index) can only come from a Target
            source_type = "Target" if not tensor.shape else "Input"
            source = b.add(source_type, f"{port}_{index}", shape=list(tensor.shape), dtype=tensor.dtype)
            b.link(source, layer, port)
            if spec.role == "loss" and not b.graph.node_by_name("result"):  # a valid graph has an Output
                b.link(source, b.add("Output", "result"))
    if spec.role not in ("output", "loss"):
        for port in spec.outputs:
            b.link(layer, b.add("Output", f"result_{port.name}" if len(spec.outputs) > 1 else "result"),
                   source_port=port.name)
    return b.project, layer


def random_tensor(tensor: TensorType, batch: int = BATCH) -> torch.Tensor:
    shape = (batch, *tensor.shape)
    if tensor.dtype == "int64":
        return torch.randint(0, VOCAB, shape)
    return torch.randn(shape)
