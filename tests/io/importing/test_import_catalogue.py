"""The layers added to the catalogue for issue 17 import from their torch module and from their functional
form, with their weights, and compute what the original computes; the forms they cannot express are refused
with the reason."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.io.importing import ImportModelError, import_module

# (id, module, sample shape, layer type, params the node must have)
_MODULES = [
    ("conv3d", nn.Conv3d(2, 4, (3, 1, 2), stride=(2, 1, 1), padding=1, groups=2, bias=False), (2, 7, 4, 5),
     "Conv3d", {"kernel_size": [3, 1, 2], "groups": 2, "bias": False}),
    ("conv-transpose1d", nn.ConvTranspose1d(2, 4, 4, stride=2, padding=1, output_padding=1), (2, 6),
     "ConvTranspose1d", {"out_channels": 4, "stride": 2, "output_padding": 1}),
    ("max-pool3d", nn.MaxPool3d(2), (2, 4, 4, 4), "MaxPool3d", {"kernel_size": 2, "stride": None}),
    ("avg-pool3d", nn.AvgPool3d(3, 2, 1, count_include_pad=False), (2, 5, 6, 7), "AvgPool3d",
     {"count_include_pad": False}),
    ("upsample-nearest", nn.Upsample(scale_factor=2), (3, 4, 5), "Upsample", {"scale_factor": 2.0}),
    ("upsample-bilinear", nn.Upsample(size=(9, 7), mode="bilinear", align_corners=True), (3, 4, 5), "Upsample",
     {"size": [9, 7], "scale_factor": None, "mode": "bilinear", "align_corners": True}),
    ("dropout1d", nn.Dropout1d(0.2), (3, 5), "Dropout1d", {"p": 0.2}),
    ("dropout2d", nn.Dropout2d(0.3), (3, 5, 5), "Dropout2d", {"p": 0.3}),
    ("group-norm", nn.GroupNorm(2, 4), (4, 5, 5), "GroupNorm", {"num_groups": 2}),
    ("instance-norm1d", nn.InstanceNorm1d(3, affine=True), (3, 7), "InstanceNorm1d", {"affine": True}),
    ("instance-norm2d", nn.InstanceNorm2d(3, track_running_stats=True), (3, 4, 5), "InstanceNorm2d",
     {"track_running_stats": True}),
    ("prelu", nn.PReLU(), (4, 6), "PReLU", {"per_channel": False}),
    ("prelu-per-channel", nn.PReLU(4, init=0.1), (4, 6), "PReLU", {"per_channel": True}),
    ("selu", nn.SELU(), (6,), "SELU", {}),
    ("softplus", nn.Softplus(beta=2, threshold=5), (6,), "Softplus", {"beta": 2.0, "threshold": 5.0}),
    ("mish", nn.Mish(), (6,), "Mish", {}),
    ("hardswish", nn.Hardswish(), (6,), "Hardswish", {}),
    ("hardtanh", nn.Hardtanh(-2, 3), (6,), "Hardtanh", {"min_val": -2.0, "max_val": 3.0}),
    ("identity", nn.Identity(), (6,), "Identity", {}),
]


def _disturbed(model: nn.Module) -> nn.Module:
    """Weights and running statistics a fresh module would not have, so that copying them is tested."""
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for tensor in [*model.parameters(), *(b for b in model.buffers() if b.is_floating_point())]:
            tensor.add_(torch.rand(tensor.shape, generator=generator) * 0.5)
    return model.eval()


def _layer(result) -> tuple[str, dict]:
    nodes = list(result.project.graph.nodes.values())
    assert [nodes[0].type, nodes[-1].type] == ["Input", "Output"] and len(nodes) == 3, [n.type for n in nodes]
    return nodes[1].type, nodes[1].params


@pytest.mark.parametrize(("module", "shape", "layer", "params"), [c[1:] for c in _MODULES],
                         ids=[c[0] for c in _MODULES])
def test_modules_import_with_their_params_and_weights(module: nn.Module, shape, layer: str, params: dict) -> None:
    result = import_module(_disturbed(nn.Sequential(module)), [(shape, "float32")])
    found, found_params = _layer(result)
    assert found == layer
    assert {k: found_params[k] for k in params} == params
    assert result.max_abs_diff <= 1e-5


class One(nn.Module):
    """Calls `function` on its input, with the given tensors as parameters of the module."""

    def __init__(self, function, **parameters: torch.Tensor) -> None:
        super().__init__()
        self.function = function
        for name, value in parameters.items():
            setattr(self, name, nn.Parameter(value))

    def forward(self, x):
        return self.function(self, x)


_PARAMETERS = {
    "k3": torch.randn(4, 2, 3, 3, 3),
    "kt": torch.randn(2, 3, 4),
    "b3": torch.randn(3),
    "g4": torch.rand(4) + 0.5,
    "b4": torch.randn(4),
    "slope": torch.rand(4),
    "slope1": torch.rand(1),
    "w": torch.randn(6, 5),
}

_FUNCTIONS = [
    ("conv3d", lambda m, x: F.conv3d(x, m.k3, padding=1, stride=(1, 2, 1)), (2, 4, 5, 6), "Conv3d"),
    ("conv-transpose1d", lambda m, x: F.conv_transpose1d(x, m.kt, m.b3, stride=2, padding=1), (2, 5),
     "ConvTranspose1d"),
    ("max-pool3d", lambda m, x: F.max_pool3d(x, 2), (2, 4, 4, 4), "MaxPool3d"),
    ("torch-max-pool3d", lambda m, x: torch.max_pool3d(x, [2, 2, 2]), (2, 4, 4, 4), "MaxPool3d"),
    ("avg-pool3d", lambda m, x: F.avg_pool3d(x, (2, 2, 2), stride=1, padding=1), (2, 4, 4, 4), "AvgPool3d"),
    ("interpolate-scale", lambda m, x: F.interpolate(x, scale_factor=2), (3, 4, 5), "Upsample"),
    ("interpolate-size", lambda m, x: F.interpolate(x, size=8, mode="bilinear", align_corners=False), (3, 4, 5),
     "Upsample"),
    ("interpolate-linear", lambda m, x: F.interpolate(x, scale_factor=(1.5,), mode="linear"), (3, 4), "Upsample"),
    ("dropout1d", lambda m, x: F.dropout1d(x, 0.3, m.training), (4, 6), "Dropout1d"),
    ("dropout2d", lambda m, x: F.dropout2d(x, 0.3, training=m.training), (4, 6, 6), "Dropout2d"),
    ("group-norm", lambda m, x: F.group_norm(x, 2, m.g4, m.b4), (4, 3, 3), "GroupNorm"),
    ("group-norm-plain", lambda m, x: F.group_norm(x, 4, eps=1e-3), (4, 5), "GroupNorm"),
    ("instance-norm", lambda m, x: F.instance_norm(x, weight=m.g4, bias=m.b4), (4, 3, 3), "InstanceNorm2d"),
    ("instance-norm1d", lambda m, x: F.instance_norm(x), (4, 7), "InstanceNorm1d"),
    ("prelu", lambda m, x: F.prelu(x, m.slope), (4, 6), "PReLU"),
    ("prelu-shared", lambda m, x: torch.prelu(x, m.slope1), (4, 6), "PReLU"),
    ("selu", lambda m, x: F.selu(x), (4, 6), "SELU"),
    ("softplus", lambda m, x: F.softplus(x, beta=2, threshold=3), (4, 6), "Softplus"),
    ("mish", lambda m, x: F.mish(x), (4, 6), "Mish"),
    ("hardswish", lambda m, x: F.hardswish(x), (4, 6), "Hardswish"),
    ("hardtanh", lambda m, x: F.hardtanh(x, -0.5, 0.5), (4, 6), "Hardtanh"),
    ("relu6", lambda m, x: F.relu6(x), (4, 6), "Hardtanh"),
    ("clamp", lambda m, x: torch.clamp(x, 0, 1), (4, 6), "Hardtanh"),
    ("tensor-clip", lambda m, x: x.clip(min=-1, max=2), (4, 6), "Hardtanh"),
    ("clamp-min-0", lambda m, x: x.clamp(min=0), (4, 6), "ReLU"),
]


@pytest.mark.parametrize(("function", "shape", "layer"), [c[1:] for c in _FUNCTIONS], ids=[c[0] for c in _FUNCTIONS])
def test_functional_forms_import_and_match(function, shape, layer: str) -> None:
    model = One(function, **{k: v.clone() for k, v in _PARAMETERS.items()}).eval()
    result = import_module(model, [(shape, "float32")])
    assert _layer(result)[0] == layer
    assert result.max_abs_diff <= 1e-5


def test_clamp_bounds_become_hardtanh_params() -> None:
    result = import_module(One(lambda m, x: torch.clamp(x, -0.25, 0.75)).eval(), [((5,), "float32")])
    assert _layer(result) == ("Hardtanh", {"min_val": -0.25, "max_val": 0.75})


class Pair(nn.Module):
    """Two inputs combined by `function`."""

    def __init__(self, function) -> None:
        super().__init__()
        self.function = function

    def forward(self, a, b):
        return self.function(a, b)


@pytest.mark.parametrize(("function", "shapes", "layer"), [
    (lambda a, b: a - b, [(3, 4), (3, 4)], "Subtract"),
    (lambda a, b: torch.sub(a, b), [(5,), (5,)], "Subtract"),
    (lambda a, b: a.sub(b), [(5,), (5,)], "Subtract"),
    (lambda a, b: a @ b, [(3, 4), (4, 2)], "MatMul"),
    (lambda a, b: torch.matmul(a, b.transpose(1, 2)), [(3, 4), (5, 4)], "MatMul"),
    (lambda a, b: torch.bmm(a, b), [(2, 3), (3, 6)], "MatMul"),
], ids=["operator-sub", "torch-sub", "tensor-sub", "operator-matmul", "attention-scores", "bmm"])
def test_two_input_forms_import_with_their_ports(function, shapes, layer: str) -> None:
    result = import_module(Pair(function), [(shape, "float32") for shape in shapes])
    graph = result.project.graph
    node = next(n for n in graph.nodes.values() if n.type == layer)
    inputs = {n.name: n.id for n in graph.nodes.values() if n.type == "Input"}
    ports = {e.target.port: e.source.node for e in graph.edges.values() if e.target.node == node.id}
    assert set(ports) == {"a", "b"}
    assert ports["a"] == inputs["a"], "the first operand is port a: subtraction and products are not symmetric"
    assert result.max_abs_diff <= 1e-5


_REFUSED = [
    ("clamp-one-sided", lambda m, x: torch.clamp(x, min=0.5), (4, 6), r"clamping with only one bound"),
    ("clamp-tensor", lambda m, x: torch.clamp(x, m.w[0, 0], 1.0), (4, 6), r"bounds that are tensors"),
    ("bicubic", lambda m, x: F.interpolate(x, scale_factor=2, mode="bicubic"), (3, 4, 4), r"mode='bicubic'"),
    ("two-scales", lambda m, x: F.interpolate(x, scale_factor=(2, 3)), (3, 4, 4), r"scale_factor=\(2, 3\)"),
    ("always-dropping", lambda m, x: F.dropout2d(x, 0.5), (3, 4, 4), r"F.dropout2d with training=True"),
    ("half-affine", lambda m, x: F.group_norm(x, 2, m.g4), (4, 3), r"a weight but no bias"),
    ("vector-matmul", lambda m, x: x @ m.w, (6,), r"multiplies a matrix per sample"),
    ("broadcast-sub", lambda m, x: x - x.mean(dim=1, keepdim=True), (4, 6), r"broadcasting has no layer"),
]


@pytest.mark.parametrize(("function", "shape", "expected"), [c[1:] for c in _REFUSED], ids=[c[0] for c in _REFUSED])
def test_forms_no_layer_expresses_are_refused(function, shape, expected: str) -> None:
    model = One(function, **{k: v.clone() for k, v in _PARAMETERS.items()}).eval()
    with pytest.raises(ImportModelError, match=expected):
        import_module(model, [(shape, "float32")])


class Cross(nn.Module):
    """nn.MultiheadAttention with keys and values of their own widths: cross-attention."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True, kdim=12, vdim=8)

    def forward(self, q, k, v):
        return self.attn(q, k, v, need_weights=False)[0]


class Memory(nn.Module):
    """The decoder idiom: queries from one sequence, keys and values both from the memory."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x, memory):
        out, _ = self.attn(x, memory, memory)
        return out


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dec = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, activation="gelu", batch_first=True)

    def forward(self, x, memory):
        return self.dec(x, memory)


@pytest.mark.parametrize(("model", "shapes", "layer", "params"), [
    (Cross(), [(5, 16), (7, 12), (7, 8)], "CrossAttention", {"num_heads": 4, "causal": False}),
    (Memory(), [(5, 16), (7, 16)], "CrossAttention", {"num_heads": 4}),
    (Decoder(), [(5, 16), (7, 16)], "TransformerDecoderLayer", {"nhead": 4, "dim_feedforward": 32,
                                                                "activation": "gelu", "causal": False}),
], ids=["cross-attention", "keys-and-values-from-one-memory", "decoder-layer"])
def test_attention_between_two_sequences_imports(model: nn.Module, shapes, layer: str, params: dict) -> None:
    result = import_module(_disturbed(model), [(shape, "float32") for shape in shapes])
    graph = result.project.graph
    (node,) = [n for n in graph.nodes.values() if n.type not in ("Input", "Output")]
    assert node.type == layer and {k: node.params[k] for k in params} == params
    wired = sorted((e.target.port, graph.nodes[e.source.node].name) for e in graph.edges.values()
                   if e.target.node == node.id)
    names = [n.name for n in graph.nodes.values() if n.type == "Input"]
    expected = {"CrossAttention": ["query", "key", "value"], "TransformerDecoderLayer": ["in", "memory"]}[layer]
    sources = [*names, names[-1]] if len(names) < len(expected) else names  # Memory feeds key and value
    assert wired == sorted(zip(expected, sources))
    assert result.max_abs_diff <= 1e-5


class Heads(nn.Module):
    """Attention written with F.scaled_dot_product_attention on [N, heads, T, d] tensors."""

    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.causal = causal

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention_imports(causal: bool) -> None:
    result = import_module(Heads(causal), [((2, 5, 4), "float32"), ((2, 5, 4), "float32"), ((2, 5, 3), "float32")])
    graph = result.project.graph
    (node,) = [n for n in graph.nodes.values() if n.type == "ScaledDotProductAttention"]
    assert node.params == {"causal": causal}
    wired = {e.target.port: graph.nodes[e.source.node].name for e in graph.edges.values() if e.target.node == node.id}
    assert wired == {"query": "q", "key": "k", "value": "v"}
    assert result.max_abs_diff <= 1e-5


def test_scaled_dot_product_attention_with_dropout_is_refused() -> None:
    class Dropping(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, dropout_p=0.1)

    with pytest.raises(ImportModelError, match=r"dropout_p=0.1: it drops in evaluation too"):
        import_module(Dropping(), [((5, 4), "float32")] * 3)
