"""Functional forms of catalogue layers (F.relu, F.adaptive_avg_pool2d, F.linear(x, self.w) ...) and parameters
read from `self` import as nodes that compute what the original computes; the forms no layer expresses are
refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.io.importing import ImportModelError, import_module, load_graph_weights, save_import
from nnstudio.io.importing.forms import FORMS, Call
from nnstudio.io.project_file import load
from nnstudio.layers.registry import default_registry


class BasicBlock(nn.Module):
    """The ResNet basic block: conv-bn-relu-conv-bn, plus the identity, then relu."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


class TinyResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        out = F.relu(self.bn(self.stem(x)))
        out = self.layer1(out)
        out = F.adaptive_avg_pool2d(out, 1)
        out = torch.flatten(out, 1)
        return self.fc(out)


class LearnedPositions(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 32)
        self.pos = nn.Parameter(torch.zeros(1, 16, 32))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        x = self.embed(x)
        x = x + self.pos
        return self.head(x.mean(dim=1))


def _disturbed(model: nn.Module) -> nn.Module:
    """Weights and batch-norm statistics a fresh model would not have, so that copying them is tested."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for tensor in [*model.parameters(), *(b for b in model.buffers() if b.is_floating_point())]:
            tensor.add_(torch.rand(tensor.shape, generator=generator) * 0.5)
    return model.eval()


def _round_trip(model: nn.Module, shape: tuple[int, ...], tmp_path: Path) -> tuple[list[str], nn.Module]:
    result = import_module(model, [(shape, "float32")], type(model).__name__)
    project_path, weights_path = save_import(result, tmp_path / "imported.nnstudio")
    compiled, report = load_graph_weights(load(project_path), weights_path)
    assert report.ok
    x = torch.randn(5, *shape)
    with torch.no_grad():
        torch.testing.assert_close(compiled.module.eval()(x), model(x))
    return result.messages, compiled.module


def test_a_resnet_basic_block_imports_and_matches(tmp_path: Path) -> None:
    model = _disturbed(TinyResNet())
    _round_trip(model, (3, 8, 8), tmp_path)
    project = load(tmp_path / "imported.nnstudio")
    types = [n.type for n in project.graph.nodes.values()]
    assert types[-4:] == ["AdaptiveAvgPool2d", "Flatten", "Linear", "Output"] and types.count("Add") == 1
    pool = next(n for n in project.graph.nodes.values() if n.type == "AdaptiveAvgPool2d")
    assert pool.params["output_size"] == 1


def test_batch_norm_buffers_are_not_counted_as_weights(tmp_path: Path) -> None:
    model = _disturbed(TinyResNet())
    messages, _ = _round_trip(model, (3, 8, 8), tmp_path)
    weights = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    assert f"with {weights:,} weight values (and {buffers:,} buffer values" in messages[0]


def test_learned_positions_import_as_a_learned_tensor(tmp_path: Path) -> None:
    model = _disturbed(LearnedPositions())
    messages, module = _round_trip(model, (16, 8), tmp_path)
    project = load(tmp_path / "imported.nnstudio")
    learned = next(n for n in project.graph.nodes.values() if n.type == "LearnedTensor")
    assert learned.name == "pos" and learned.params["shape"] == [16, 32]
    torch.testing.assert_close(module.get_submodule("pos").weight, model.pos[0])
    assert f"with {sum(p.numel() for p in model.parameters()):,} weight values" in messages[0]


class ClassToken(nn.Module):
    """The ViT idiom: a class token expanded over the batch and concatenated, then learned positions."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 32)
        self.cls = nn.Parameter(torch.zeros(1, 1, 32))
        self.pos = nn.Parameter(torch.zeros(1, 17, 32))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        x = self.embed(x)
        x = torch.cat([self.cls.expand(x.size(0), -1, -1), x], dim=1) + self.pos
        return self.head(x.mean(dim=1))


def test_a_class_token_expanded_over_the_batch(tmp_path: Path) -> None:
    _round_trip(_disturbed(ClassToken()), (16, 8), tmp_path)
    nodes = {n.name: n for n in load(tmp_path / "imported.nnstudio").graph.nodes.values()}
    assert nodes["cls"].type == "LearnedTensor" and nodes["cls"].params["shape"] == [1, 32]
    assert nodes["cat"].type == "Concat" and nodes["pos"].params["shape"] == [17, 32]


class ScaledFeatures(nn.Module):
    """A parameter without a leading batch dim, broadcast over the batch all the same."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 5)
        self.scale = nn.Parameter(torch.rand(5) + 0.5)

    def forward(self, x):
        return torch.sigmoid(self.fc(x) * self.scale)


def test_a_parameter_without_a_batch_dim(tmp_path: Path) -> None:
    _round_trip(_disturbed(ScaledFeatures()), (6,), tmp_path)


class One(nn.Module):
    """A module that calls `function` on its input (after a Linear or Conv, so the input has weights to follow)."""

    def __init__(self, function, shape: tuple[int, ...], **parameters: torch.Tensor) -> None:
        super().__init__()
        self.function = function
        self.shape = shape
        for name, value in parameters.items():
            setattr(self, name, nn.Parameter(value))

    def forward(self, x):
        return self.function(self, x)


_CASES = [
    ("relu", lambda m, x: F.relu(x, inplace=False), (4, 6), "ReLU"),
    ("tensor-relu", lambda m, x: x.relu(), (4, 6), "ReLU"),
    ("sigmoid", lambda m, x: F.sigmoid(x), (4, 6), "Sigmoid"),
    ("tanh", lambda m, x: torch.tanh(x), (4, 6), "Tanh"),
    ("silu", lambda m, x: F.silu(x), (4, 6), "SiLU"),
    ("gelu-tanh", lambda m, x: F.gelu(x, approximate="tanh"), (4, 6), "GELU"),
    ("leaky-relu", lambda m, x: F.leaky_relu(x, 0.2), (4, 6), "LeakyReLU"),
    ("elu", lambda m, x: F.elu(x, alpha=0.5), (4, 6), "ELU"),
    ("softmax", lambda m, x: F.softmax(x, dim=1), (4, 6), "Softmax"),
    ("tensor-softmax", lambda m, x: x.softmax(-1), (4, 6), "Softmax"),
    ("log-softmax", lambda m, x: torch.log_softmax(x, 2), (4, 6), "LogSoftmax"),
    ("dropout", lambda m, x: F.dropout(x, 0.3, m.training), (4, 6), "Dropout"),
    ("max-pool1d-int", lambda m, x: F.max_pool1d(x, 2), (3, 8), "MaxPool1d"),
    ("max-pool1d-tuple", lambda m, x: F.max_pool1d(x, (3,), stride=(2,), padding=1), (3, 9), "MaxPool1d"),
    ("avg-pool1d", lambda m, x: F.avg_pool1d(x, 2, 1, count_include_pad=False), (3, 8), "AvgPool1d"),
    ("max-pool2d-int", lambda m, x: F.max_pool2d(x, 2), (3, 8, 8), "MaxPool2d"),
    (
        "max-pool2d-tuple",
        lambda m, x: F.max_pool2d(x, (3, 2), stride=(1, 2), padding=(1, 0), ceil_mode=True),
        (3, 8, 8),
        "MaxPool2d",
    ),
    ("torch-max-pool2d", lambda m, x: torch.max_pool2d(x, [2, 2]), (3, 8, 8), "MaxPool2d"),
    ("avg-pool2d", lambda m, x: F.avg_pool2d(x, (2, 2), stride=1, padding=1), (3, 8, 8), "AvgPool2d"),
    ("adaptive-int", lambda m, x: F.adaptive_avg_pool2d(x, 2), (3, 8, 8), "AdaptiveAvgPool2d"),
    ("adaptive-tuple", lambda m, x: F.adaptive_avg_pool2d(x, (1, 3)), (3, 8, 8), "AdaptiveAvgPool2d"),
    ("flatten", lambda m, x: torch.flatten(x, 1), (3, 4, 4), "Flatten"),
    ("linear", lambda m, x: F.linear(x, m.w, m.b), (4, 6), "Linear"),
    ("conv1d", lambda m, x: F.conv1d(x, m.k1, m.b, padding=1), (3, 8), "Conv1d"),
    ("conv2d", lambda m, x: F.conv2d(x, m.k2, stride=(1, 2), padding=(1, 1)), (3, 8, 8), "Conv2d"),
    ("layer-norm", lambda m, x: F.layer_norm(x, (6,), m.g, m.b6), (4, 6), "LayerNorm"),
    ("layer-norm-plain", lambda m, x: F.layer_norm(x, [4, 6], eps=1e-3), (4, 6), "LayerNorm"),
]
_PARAMETERS = {
    "w": torch.randn(5, 6),
    "b": torch.randn(5),
    "k1": torch.randn(5, 3, 3),
    "k2": torch.randn(4, 3, 3, 3),
    "g": torch.rand(6) + 0.5,
    "b6": torch.randn(6),
}


@pytest.mark.parametrize(("function", "shape", "layer"), [case[1:] for case in _CASES], ids=[c[0] for c in _CASES])
def test_functional_forms_import_and_match(function, shape: tuple[int, ...], layer: str) -> None:
    model = One(function, shape, **{k: v.clone() for k, v in _PARAMETERS.items()}).eval()
    result = import_module(model, [(shape, "float32")])
    types = [n.type for n in result.project.graph.nodes.values()]
    assert types == ["Input", layer, "Output"]
    assert result.max_abs_diff <= 1e-5


def test_embedding_from_its_weight() -> None:
    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Parameter(torch.randn(20, 4))

        def forward(self, ids):
            return F.embedding(ids, self.table, padding_idx=-1)

    result = import_module(Tokens(), [((5,), "int64")])
    node = next(n for n in result.project.graph.nodes.values() if n.type == "Embedding")
    assert node.params == {"num_embeddings": 20, "embedding_dim": 4, "padding_idx": 19}


_REFUSED = [
    (
        "always-dropping",
        lambda m, x: F.dropout(x, 0.5),
        (4, 6),
        r"F.dropout with training=True: it drops in evaluation",
    ),
    (
        "indices",
        lambda m, x: F.max_pool2d(x, 2, return_indices=True)[0],
        (3, 8, 8),
        r"F.max_pool2d_with_indices has no nnstudio layer",
    ),
    ("implicit-dim", lambda m, x: F.softmax(x), (4, 6), r"F.softmax without dim"),
    ("keep-size", lambda m, x: F.adaptive_avg_pool2d(x, (None, 2)), (3, 8, 8), r"output_size=\(None, 2\)"),
    ("same", lambda m, x: F.conv2d(x, m.k2, padding="same"), (3, 8, 8), r"padding='same'"),
    ("computed-weight", lambda m, x: F.linear(x, m.w + m.w), (4, 6), r"F.linear with a weight that is not a module"),
    ("half-affine", lambda m, x: F.layer_norm(x, (6,), m.g), (4, 6), r"a weight but no bias"),
    ("broadcast", lambda m, x: x + m.b6[:4].reshape(4, 1), (4, 6), r"no nnstudio layer|broadcasting has no layer"),
    ("dtype", lambda m, x: F.softmax(x, 1, dtype=torch.float64).float(), (4, 6), r"dtype=torch.float64"),
]


@pytest.mark.parametrize(
    ("function", "shape", "expected"), [case[1:] for case in _REFUSED], ids=[c[0] for c in _REFUSED]
)
def test_forms_no_layer_expresses_are_refused(function, shape: tuple[int, ...], expected: str) -> None:
    model = One(function, shape, **{k: v.clone() for k, v in _PARAMETERS.items()}).eval()
    with pytest.raises(ImportModelError, match=expected):
        import_module(model, [(shape, "float32")])


def test_the_table_names_real_layers_and_lists_each_form_once() -> None:
    registry = default_registry()
    seen: set[object] = set()
    for converter, functions, methods in FORMS:
        if isinstance(converter, Call):
            assert registry.get(converter.layer) is not None, converter.layer
            assert set(converter.params.values()) <= {p.name for p in registry[converter.layer].params}
        for target in (*dict.fromkeys(functions), *(f".{m}" for m in methods)):
            assert target not in seen
            seen.add(target)
