"""`nnstudio code`: the whole module (imports, __init__, forward), which runs as printed."""

from __future__ import annotations

from pathlib import Path

from nnstudio.cli import main
from nnstudio.compile import build_module
from nnstudio.examples import EXAMPLES
from nnstudio.io.project_file import load
from tests.io.export.test_module_source import run_listing


def test_code_prints_a_module_that_runs(capsys) -> None:
    assert main(["code", "example:residual_cnn"]) == 0
    text = capsys.readouterr().out
    assert "def __init__(self) -> None:" in text and "nn.BatchNorm2d(" in text and "def forward(self" in text
    project = load(EXAMPLES["residual_cnn"].path)
    run_listing(text, project, build_module(project))


def test_code_of_a_file_that_is_not_there_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["code", str(tmp_path / "missing.nnstudio")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.nnstudio" in err
