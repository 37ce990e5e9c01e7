"""Loading weights into a graph: files and checkpoint folders, with a report of what does not fit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from nnstudio.compile import build_module
from nnstudio.compile.weights import WeightsError, save_weights
from nnstudio.io.importing import load_graph_weights, open_checkpoint
from tests.helpers import mlp


def test_matching_weights_load_exactly(tmp_path: Path) -> None:
    project = mlp(width=8).project
    source = build_module(project).module
    with torch.no_grad():
        for p in source.parameters():
            p.mul_(-2.0)
    save_weights(source, tmp_path / "w.safetensors")
    torch.save(source.state_dict(), tmp_path / "w.pt")
    for path in (tmp_path / "w.safetensors", tmp_path / "w.pt"):
        compiled, report = load_graph_weights(project, path)
        assert report.ok and report.describe() == "all weights match"
        for key, value in source.state_dict().items():
            torch.testing.assert_close(compiled.module.state_dict()[key], value)


def test_mismatch_is_reported_by_key(tmp_path: Path) -> None:
    save_weights(build_module(mlp(width=8).project).module, tmp_path / "w.safetensors")
    wider = mlp(width=16, classes=3).project
    with pytest.raises(WeightsError) as caught:
        load_graph_weights(wider, tmp_path / "w.safetensors")
    assert "mismatched linear.weight (model [16, 2], file [8, 2])" in str(caught.value)

    compiled, report = load_graph_weights(wider, tmp_path / "w.safetensors", strict=False)
    assert [k for k, _, _ in report.mismatched] == ["linear.weight", "linear.bias", "linear_1.weight"]
    assert report.missing == [] and report.unexpected == []
    # The one tensor that fits is loaded; the others keep their fresh values.
    torch.testing.assert_close(compiled.module.state_dict()["linear_1.bias"],
                               load_file(tmp_path / "w.safetensors")["linear_1.bias"])


def test_missing_and_unexpected_keys(tmp_path: Path) -> None:
    state = build_module(mlp(width=8).project).module.state_dict()
    state.pop("linear.bias")
    state["surprise.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"missing linear.bias; unexpected surprise.weight"):
        load_graph_weights(mlp(width=8).project, tmp_path / "w.pt")


def test_checkpoint_folder(tmp_path: Path) -> None:
    project = mlp(width=8).project
    folder = tmp_path / "ckpt"
    folder.mkdir()
    save_weights(build_module(project).module, folder / "model.safetensors")
    (folder / "history.json").write_text('{"records": []}')
    checkpoint = open_checkpoint(folder)
    assert checkpoint.weights == folder / "model.safetensors"
    assert checkpoint.read_json("history.json") == {"records": []}
    assert checkpoint.member("checkpoint.json") is None
    _, report = load_graph_weights(project, folder)
    assert report.ok
    with pytest.raises(WeightsError, match="no such file"):
        open_checkpoint(tmp_path / "missing")
