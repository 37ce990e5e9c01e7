"""Importing PyTorch classes: known modules and functions become nodes with their weights, the result
computes what the original computes, and everything else is refused with the line that uses it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.compile.objective import NODE_META_KEY
from nnstudio.examples import EXAMPLES
from nnstudio.io.export import export_model
from nnstudio.io.importing import (
    ImportModelError,
    import_model,
    import_module,
    load_graph_weights,
    parse_input_shape,
    save_import,
)
from nnstudio.io.importing.source import instantiate
from nnstudio.io.project_file import load
from nnstudio.training.recipes.registry import export_model as recipe_export_model

MODELS = '''
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        x = self.features(x)
        x = x + F.relu(self.conv2(x))
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(self.drop(x)), dim=1)


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True, bidirectional=True)
        self.attn = nn.MultiheadAttention(64, 4, batch_first=True)
        self.norm = nn.LayerNorm(64)
        self.gru = nn.GRU(64, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        out, _ = self.lstm(self.emb(tokens))
        out = self.norm(out + self.attn(out, out, out, need_weights=False)[0])
        _, last = self.gru(out)
        return self.head(last[-1])


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 6)
        self.b = nn.Linear(4, 6)

    def forward(self, x, y):
        joined = torch.cat([self.a(x), self.b(y)], dim=1)
        return joined.mean(dim=1, keepdim=True), torch.sigmoid(joined)


class Clamped(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.clamp(self.fc(x), min=0.5)


class OwnParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return self.fc(x) * self.scale


class OwnBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("offset", torch.ones(4))

    def forward(self, x):
        return self.fc(x) + self.offset


class SharedParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 4))

    def forward(self, x):
        return F.linear(F.linear(x, self.w), self.w)


class Branching(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


class SamePadding(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding="same")

    def forward(self, x):
        return self.conv(x)


class FlattensBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x).view(-1)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(self.act(self.fc(x))))


class NeedsArguments(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)


NOT_A_MODULE = 3
'''


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "models.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


def test_cnn_with_residual_and_view(models: Path, tmp_path: Path) -> None:
    result = import_model(f"{models}:Net", [parse_input_shape("1,8,8")])
    types = [(n.name, n.type) for n in result.project.graph.nodes.values()]
    assert types == [("x", "Input"), ("features_0", "Conv2d"), ("features_1", "BatchNorm2d"),
                     ("features_2", "ReLU"), ("features_3", "MaxPool2d"), ("conv2", "Conv2d"), ("relu", "ReLU"),
                     ("add", "Add"), ("view", "Reshape"), ("drop", "Dropout"), ("fc", "Linear"),
                     ("log_softmax", "LogSoftmax"), ("output", "Output")]
    nodes = {n.name: n for n in result.project.graph.nodes.values()}
    assert nodes["features_0"].params["padding"] == 1 and nodes["features_0"].params["out_channels"] == 8
    assert nodes["view"].params["shape"] == [128] and nodes["log_softmax"].params["dim"] == 0
    assert result.max_abs_diff <= 1e-5


def test_saved_import_computes_what_the_model_computes(models: Path, tmp_path: Path) -> None:
    model = instantiate(f"{models}:Net")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # weights a fresh model would not have: they must travel
    result = import_module(model, [parse_input_shape("1,8,8")], "Net")
    project_path, weights_path = save_import(result, tmp_path / "net.nnstudio")
    assert weights_path == tmp_path / "net.safetensors"
    compiled, report = load_graph_weights(load(project_path), weights_path)
    assert report.ok
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(compiled.module.eval()(x), model.eval()(x))


def test_sequence_model_with_recurrent_and_attention(models: Path) -> None:
    result = import_model(f"{models}:Seq", [parse_input_shape("12:int64")])
    nodes = {n.name: n for n in result.project.graph.nodes.values()}
    assert nodes["tokens"].params == {"shape": [12], "dtype": "int64", "field": "x"}
    assert nodes["lstm"].type == "LSTM" and nodes["lstm"].params["bidirectional"] is True
    assert nodes["lstm"].params["output"] == "sequence"
    assert nodes["gru"].type == "GRU" and nodes["gru"].params["output"] == "last"
    assert nodes["attn"].type == "MultiheadAttention" and nodes["attn"].params["num_heads"] == 4
    assert nodes["norm"].type == "LayerNorm" and nodes["norm"].params["dims"] == 1
    assert result.max_abs_diff <= 1e-5


def test_several_inputs_and_outputs(models: Path) -> None:
    result = import_model(f"{models}:TwoHeads", [parse_input_shape("4"), parse_input_shape("4")])
    types = sorted(n.type for n in result.project.graph.nodes.values())
    assert types == ["Concat", "Input", "Input", "Linear", "Linear", "Output", "Output", "Reduce", "Sigmoid"]
    reduce = next(n for n in result.project.graph.nodes.values() if n.type == "Reduce")
    assert reduce.params == {"op": "mean", "dim": 0, "keepdim": True}


def test_module_path_reference(models: Path, monkeypatch) -> None:
    package = models.parent / "userpkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(models.read_text())
    monkeypatch.syspath_prepend(str(models.parent))
    result = import_model("userpkg.nets:TwoHeads", [parse_input_shape("4"), parse_input_shape("4")])
    assert result.project.metadata.name == "TwoHeads"


def test_first_linear_gives_the_input_size(models: Path, tmp_path: Path) -> None:
    (tmp_path / "mlp.py").write_text("from torch import nn\n\n\nclass MLP(nn.Sequential):\n"
                                     "    def __init__(self):\n"
                                     "        super().__init__(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 1))\n")
    result = import_model(f"{tmp_path / 'mlp.py'}:MLP")
    first = next(iter(result.project.graph.nodes.values()))
    assert first.type == "Input" and first.params["shape"] == [5]
    with pytest.raises(ImportModelError, match="give --input-shape"):
        import_model(f"{models}:SamePadding")


@pytest.mark.parametrize(("name", "shape", "expected"), [
    ("Clamped", "4", r"fx node 'clamp' \(models.py:\d+: return torch.clamp\(self.fc\(x\), min=0.5\)\): clamping "
                     r"with only one bound"),
    ("OwnBuffer", "4", r"fx node 'add' .*self.offset is a constant tensor \(a buffer\), not a parameter"),
    ("SharedParameter", "4", r"self.w is used by 2 nodes \('linear', 'linear_1'\), sharing its weights"),
    ("Branching", "4", r"torch.fx cannot trace Branching"),
    ("SamePadding", "1,8,8", r"fx node 'conv' .*Conv2d cannot rebuild it exactly \(differs in padding"),
    ("FlattensBatch", "4", r"fx node 'view' .*the first size must be the batch size"),
    ("Shared", "4", r"fx node 'fc_1' .*self.fc is called 2 times, sharing its weights"),
    ("NeedsArguments", "4", r"must be constructible without arguments"),
    ("NOT_A_MODULE", "4", r"is not a torch.nn.Module class"),
    ("Missing", "4", r"has no 'Missing'"),
])
def test_refusals_say_what_and_where(models: Path, name: str, shape: str, expected: str) -> None:
    with pytest.raises(ImportModelError, match=expected):
        import_model(f"{models}:{name}", [parse_input_shape(shape)])


def test_bad_references_and_shapes(models: Path, tmp_path: Path) -> None:
    with pytest.raises(ImportModelError, match="expected FILE.py:ClassName"):
        import_model("just_a_name")
    with pytest.raises(ImportModelError, match="no such file"):
        import_model(f"{tmp_path / 'nope.py'}:Net")
    with pytest.raises(ImportModelError, match="fails on inputs of the given shape"):
        import_model(f"{models}:Net", [parse_input_shape("3,8,8")])
    with pytest.raises(ImportModelError, match="takes 2 input"):
        import_model(f"{models}:TwoHeads", [parse_input_shape("4")])
    for text in ("", "a,b", "0,3", "4:float16"):
        with pytest.raises(ImportModelError, match="--input-shape"):
            parse_input_shape(text)
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ImportModelError, match="importing it failed: RuntimeError: boom"):
        import_model(f"{tmp_path / 'broken.py'}:Net")


NOT_IMPORTABLE = {"vae_digits": "the importer has no layer for torch.split, which the Split node exports as"}


@pytest.mark.parametrize("example", [
    pytest.param(name, marks=pytest.mark.xfail(reason=NOT_IMPORTABLE[name], raises=ImportModelError, strict=True))
    if name in NOT_IMPORTABLE else name for name in EXAMPLES])
def test_exported_python_imports_back_to_the_same_graph(example: str, tmp_path: Path) -> None:
    """The same graph, that is the part export writes: an objective's losses, Targets and teacher are left out."""
    project = load(EXAMPLES[example].path)
    project.dataset = {}  # model.py is all this test needs
    export_model(project, "python", tmp_path / "out")
    compiled = recipe_export_model(build_module(project), project)  # a GAN's: the generator
    shapes = [(tuple(compiled.analysis.shapes.of(n).shape), compiled.analysis.shapes.of(n).dtype)
              for n in compiled.input_nodes]
    result = import_model(f"{tmp_path / 'out' / 'model.py'}:Model", shapes)
    exported = {fx_node.meta.get(NODE_META_KEY) for fx_node in compiled.module.graph.nodes} | set(compiled.output_nodes)
    original = [(n.name, n.type, compiled.analysis.structure.params[n.id]) for n in project.graph.nodes.values()
                if n.id in exported]
    imported = build_module(result.project)
    back = [(n.name, n.type, imported.analysis.structure.params[n.id]) for n in result.project.graph.nodes.values()]

    def unbound(entries):  # model.py knows no dataset fields: a GAN generator's noise Input comes back as x
        return [(t, {k: v for k, v in params.items() if k != "field"}) for _, t, params in entries]

    assert unbound(back) == unbound(original)
    assert result.max_abs_diff == 0.0
