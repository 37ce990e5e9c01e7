"""Bad input and failed exports: clear errors that name the place, and nothing written at the destination."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from nnstudio.compile import build_module
from nnstudio.compile.weights import save_weights
from nnstudio.io.export import ExportError, MissingExtraError, export_model
from nnstudio.io.export import job as job_module
from nnstudio.io.export.staging import Staging
from nnstudio.model.builder import GraphBuilder
from tests.helpers import mlp, residual


@pytest.fixture(scope="module")
def project():
    return mlp(width=8).project


def test_unknown_format_lists_the_formats(project, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as caught:
        export_model(project, "keras", tmp_path / "m.h5")
    assert caught.value.bad_input
    assert "'keras'" in str(caught.value)
    for name in ("torchscript", "exported-program", "onnx", "safetensors", "python", "bundle"):
        assert name in str(caught.value)


def test_checkpoint_that_does_not_match_lists_the_keys(project, tmp_path: Path) -> None:
    other = GraphBuilder()
    other.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 5}), "ReLU",
                     ("Linear", {"out_features": 3}), ("Linear", {"out_features": 3}), "Output")
    weights = tmp_path / "other.safetensors"
    save_weights(build_module(other.project).module, weights)
    with pytest.raises(ExportError) as caught:
        export_model(project, "torchscript", tmp_path / "m.pt", checkpoint=weights)
    message = str(caught.value)
    assert caught.value.bad_input and "do not match the graph" in message
    assert "mismatched linear.weight (model [8, 2], file [5, 2])" in message
    assert "unexpected linear_2." in message and "linear_2.weight" in message
    assert not (tmp_path / "m.pt").exists()


def test_missing_checkpoint_file(project, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        export_model(project, "torchscript", tmp_path / "m.pt", checkpoint=tmp_path / "nope.safetensors")


def test_checkpoint_folder_without_weights(project, tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(ExportError, match="has no model.safetensors"):
        export_model(project, "torchscript", tmp_path / "m.pt", checkpoint=tmp_path / "ckpt")


def test_trained_weights_are_exported(project, tmp_path: Path) -> None:
    compiled = build_module(project)
    with torch.no_grad():
        for p in compiled.module.parameters():
            p.add_(1.0)
    save_weights(compiled.module, tmp_path / "w.safetensors")
    result = export_model(project, "torchscript", tmp_path / "m.pt", checkpoint=tmp_path / "w.safetensors")
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    x = torch.randn(4, 2)
    torch.testing.assert_close(loaded(x), compiled.module.eval()(x))
    assert not any("untrained" in m for m in result.messages)


@pytest.mark.parametrize("make_out", [
    lambda tmp: tmp / "missing" / "m.pt",
    lambda tmp: tmp / "a_file" / "m.pt",
])
def test_unwritable_destination(project, tmp_path: Path, make_out) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(ExportError) as caught:
        export_model(project, "torchscript", make_out(tmp_path))
    assert caught.value.bad_input and "cannot write" in str(caught.value)


def test_destination_that_is_a_folder(project, tmp_path: Path) -> None:
    (tmp_path / "m.pt").mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        export_model(project, "torchscript", tmp_path / "m.pt")


def test_python_export_does_not_replace_a_foreign_folder(project, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not an earlier nnstudio export"):
        export_model(project, "python", target)
    assert (target / "notes.txt").read_text() == "keep me"
    export_model(project, "python", tmp_path / "out")
    export_model(project, "python", tmp_path / "out")  # an earlier export may be replaced
    assert (tmp_path / "out" / "model.py").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_missing_onnx_extra_says_what_to_install(project, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(MissingExtraError) as caught:
        export_model(project, "onnx", tmp_path / "m.onnx")
    message = str(caught.value)
    assert "onnxruntime" in message and 'pip install "nnstudio[onnx]"' in message
    assert caught.value.bad_input
    result = export_model(project, "bundle", tmp_path / "b.zip")  # the bundle leaves ONNX out, and says so
    assert any("no ONNX export inside" in m and "nnstudio[onnx]" in m for m in result.messages)


def test_extension_is_added_when_missing(project, tmp_path: Path) -> None:
    result = export_model(project, "safetensors", tmp_path / "model")
    assert result.paths == [tmp_path / "model.safetensors", tmp_path / "model.json"]
    assert any("added the .safetensors extension" in m for m in result.messages)
    assert (tmp_path / "model.safetensors").stat().st_mode & 0o044, "exports are readable like any new file"


# --- failures inside the exporter: named nodes, nothing written ---------------------------
class ScriptedDiffers(nn.Module):
    """Computes something else once scripted: the parity check must catch it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_scripting():
            return x + 1.0
        return x


class DataDependent(nn.Module):
    """Branches on a tensor's value, which torch.export cannot capture."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2.0
        return x


def _swap(monkeypatch, attribute: str, module: nn.Module) -> None:
    real = job_module.build_module

    def build(project):
        compiled = real(project)
        setattr(compiled.module, attribute, module)
        return compiled

    monkeypatch.setattr(job_module, "build_module", build)


def test_parity_gap_names_the_node_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    _swap(monkeypatch, "act", ScriptedDiffers())
    with pytest.raises(ExportError) as caught:
        export_model(residual().project, "torchscript", tmp_path / "m.pt")
    message = str(caught.value)
    assert "differs from the app's by" in message and "node 'act'" in message
    assert caught.value.node == "act" and not caught.value.bad_input
    assert list(tmp_path.iterdir()) == []


def test_unexportable_op_names_the_node(tmp_path: Path, monkeypatch) -> None:
    _swap(monkeypatch, "fc2", DataDependent())
    with pytest.raises(ExportError) as caught:
        export_model(residual().project, "exported-program", tmp_path / "m.pt2")
    assert "failed at node 'fc2'" in str(caught.value)
    assert caught.value.node == "fc2"
    assert list(tmp_path.iterdir()) == []


def test_function_nodes_are_named_too(tmp_path: Path, monkeypatch) -> None:
    """An Add node has no module; its fx node is still traced back to the graph node 'join'."""
    from nnstudio.io.export.nodes import fx_owners

    project = residual().project
    compiled = build_module(project)
    owners = fx_owners(compiled, project.graph)
    adds = [n.name for n in compiled.module.graph.nodes if n.op == "call_function"]
    assert adds and all(owners[name] == "join" for name in adds)


def test_checkpoint_trained_with_a_different_graph_is_flagged(tmp_path: Path) -> None:
    """The weights fit (same Linear sizes) but the run used Tanh where the project now has ReLU."""
    from nnstudio.io import save

    trained = GraphBuilder()
    trained.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 8}), ("Tanh", {}),
                       ("Linear", {"out_features": 3}), "Output")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    save_weights(build_module(trained.project).module, folder / "model.safetensors")
    save(trained.project, folder / "project.nnstudio")
    result = export_model(mlp(width=8).project, "safetensors", tmp_path / "w.safetensors", checkpoint=folder)
    assert any(m.startswith("warning: the weights fit, but the checkpoint was trained with a different graph")
               for m in result.messages)
    same = export_model(trained.project, "safetensors", tmp_path / "v.safetensors", checkpoint=folder)
    assert not any(m.startswith("warning") for m in same.messages)


class Unscriptable(nn.Module):
    """TorchScript refuses *args, so the exporter falls back to tracing."""

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        return x * 2.0


class BakesTheBatch(nn.Module):
    """Not scriptable, and its trace unrolls a loop over the batch: wrong for any other batch size."""

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        return torch.stack([row * 2.0 for row in x.unbind(0)])


def test_torchscript_falls_back_to_tracing(tmp_path: Path, monkeypatch) -> None:
    _swap(monkeypatch, "act", Unscriptable())
    result = export_model(residual().project, "torchscript", tmp_path / "m.pt")
    assert any("scripting failed" in m and "traced instead" in m for m in result.messages)


def test_a_trace_that_fixed_the_batch_size_is_refused(tmp_path: Path, monkeypatch) -> None:
    _swap(monkeypatch, "act", BakesTheBatch())
    with pytest.raises(ExportError) as caught:
        export_model(residual().project, "torchscript", tmp_path / "m.pt")
    assert caught.value.node == "act" and "node 'act'" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_final_move_is_an_export_error(project, tmp_path: Path, monkeypatch) -> None:
    def refuse(self):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(Staging, "commit", refuse)
    with pytest.raises(ExportError, match=f"could not be moved to {tmp_path}: Permission denied"):
        export_model(project, "safetensors", tmp_path / "weights.safetensors")
    assert list(tmp_path.iterdir()) == []  # the staging folder is gone too


@pytest.mark.parametrize("out", ["/", ".", ".."])
@pytest.mark.parametrize("fmt", ["torchscript", "python"])
def test_a_destination_with_no_name_is_bad_input(project, fmt: str, out: str) -> None:
    with pytest.raises(ExportError, match="names an existing folder") as caught:
        export_model(project, fmt, out)
    assert caught.value.bad_input
