"""`nnstudio import`: a class (with a warning that its code runs) or a bundle, into a project + weights."""

from __future__ import annotations

from pathlib import Path

import torch

from nnstudio.cli import main
from nnstudio.io.export import export_model
from nnstudio.io.importing import load_graph_weights
from nnstudio.io.project_file import load
from tests.helpers import mlp

SOURCE = """
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3)
        self.fc = nn.Linear(4 * 6, 3)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class Odd(nn.Module):
    def forward(self, x):
        return x.cumsum(1)
"""


def test_import_class(tmp_path: Path, capsys) -> None:
    (tmp_path / "small.py").write_text(SOURCE)
    code = main(["import", f"{tmp_path / 'small.py'}:Small", "--input-shape", "2,8",
                 "--out", str(tmp_path / "small.nnstudio")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "runs its Python code" in err
    assert f"wrote {tmp_path / 'small.nnstudio'}" in out and "parity" in out
    project = load(tmp_path / "small.nnstudio")
    assert [n.type for n in project.graph.nodes.values()] == ["Input", "Conv1d", "ReLU", "Flatten", "Linear",
                                                             "Output"]
    _, report = load_graph_weights(project, tmp_path / "small.safetensors")
    assert report.ok


def test_import_refusal_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "small.py").write_text(SOURCE)
    code = main(["import", f"{tmp_path / 'small.py'}:Odd", "--input-shape", "5",
                 "--out", str(tmp_path / "odd.nnstudio")])
    err = capsys.readouterr().err
    assert code == 2
    assert "fx node 'cumsum' (small.py:" in err and ".cumsum() has no nnstudio layer" in err
    assert not (tmp_path / "odd.nnstudio").exists()


def test_import_needs_a_project_name(tmp_path: Path, capsys) -> None:
    assert main(["import", "x.py:Net", "--out", str(tmp_path / "net.txt")]) == 2
    assert "must end in .nnstudio" in capsys.readouterr().err


def test_import_bundle(tmp_path: Path, capsys) -> None:
    project = mlp(width=8).project
    export_model(project, "bundle", tmp_path / "run.zip")
    code = main(["import", str(tmp_path / "run.zip"), "--out", str(tmp_path / "again.nnstudio")])
    out = capsys.readouterr().out
    assert code == 0 and "opened bundle" in out and "untrained weights" in out
    compiled, report = load_graph_weights(load(tmp_path / "again.nnstudio"), tmp_path / "again.safetensors")
    assert report.ok
    assert [n.name for n in load(tmp_path / "again.nnstudio").graph.nodes.values()] == \
        [n.name for n in project.graph.nodes.values()]
    x = torch.randn(2, 2)
    assert compiled.module(x).shape == (2, 3)
