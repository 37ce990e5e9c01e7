"""`nnstudio export` and `nnstudio import` on the command line: exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnstudio.cli import main
from nnstudio.compile import build_module
from nnstudio.compile.weights import save_weights
from nnstudio.io import save
from nnstudio.io.export import job as job_module
from tests.helpers import mlp


@pytest.fixture()
def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "mlp.nnstudio"
    save(mlp(width=8).project, path)
    return path


def test_export_with_checkpoint(project_file: Path, tmp_path: Path, capsys) -> None:
    compiled = build_module(mlp(width=8).project)
    save_weights(compiled.module, tmp_path / "w.safetensors")
    code = main(["export", str(project_file), "--checkpoint", str(tmp_path / "w.safetensors"),
                 "--format", "torchscript", "--out", str(tmp_path / "m.pt")])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {tmp_path / 'm.pt'}" in out and "parity: largest difference" in out
    x = torch.randn(3, 2)
    torch.testing.assert_close(torch.jit.load(str(tmp_path / "m.pt"))(x), compiled.module.eval()(x))


def test_export_without_checkpoint_says_untrained(project_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["export", str(project_file), "-f", "safetensors", "-o", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "untrained" in out and (tmp_path / "w.safetensors").exists() and (tmp_path / "w.json").exists()


def test_unknown_format_exit_2(project_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["export", str(project_file), "-f", "tflite", "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnstudio export: unknown export format 'tflite'; choose one of torchscript")
    assert len(err.splitlines()) == 1


def test_mismatched_checkpoint_exit_2(project_file: Path, tmp_path: Path, capsys) -> None:
    save_weights(build_module(mlp(width=4).project).module, tmp_path / "w.safetensors")
    code = main(["export", str(project_file), "-c", str(tmp_path / "w.safetensors"), "-f", "onnx",
                 "-o", str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err
    assert code == 2 and "do not match the graph" in err and "linear.weight (model [8, 2], file [4, 2])" in err
    assert not (tmp_path / "m.onnx").exists()


def test_unwritable_destination_exit_2(project_file: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(project_file), "-f", "torchscript", "-o", str(tmp_path / "no" / "m.pt")])
    assert code == 2 and "the folder" in capsys.readouterr().err


def test_missing_extra_exit_2(project_file: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    assert main(["export", str(project_file), "-f", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    assert 'pip install "nnstudio[onnx]"' in capsys.readouterr().err


def test_malicious_checkpoint_exit_2_and_never_runs(project_file: Path, tmp_path: Path, capsys) -> None:
    marker = tmp_path / "ran.txt"
    # A pickle that would create `marker` when loaded unsafely, written by a separate interpreter.
    subprocess.run([sys.executable, "-c", (
        "import torch\n"
        "class P:\n"
        f"    def __reduce__(self): return (open, ({str(marker)!r}, 'w'))\n"
        f"torch.save({{'linear.weight': P()}}, {str(tmp_path / 'evil.pt')!r})\n")], check=True)
    code = main(["export", str(project_file), "-c", str(tmp_path / "evil.pt"), "-f", "torchscript",
                 "-o", str(tmp_path / "m.pt")])
    assert code == 2 and "refused to load" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "m.pt").exists()


class _Shifted(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1.0 if torch.jit.is_scripting() else x


def test_parity_failure_exit_1(project_file: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    real = job_module.build_module

    def build(project):
        compiled = real(project)
        compiled.module.relu = _Shifted()
        return compiled

    monkeypatch.setattr(job_module, "build_module", build)
    assert main(["export", str(project_file), "-f", "torchscript", "-o", str(tmp_path / "m.pt")]) == 1
    err = capsys.readouterr().err
    assert "node 'relu'" in err and "differs from the app's" in err
    assert not (tmp_path / "m.pt").exists()


def test_export_help_lists_formats(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    for name in ("torchscript", "exported-program", "onnx", "safetensors", "python", "bundle"):
        assert name in out


def test_invalid_graph_exit_1(tmp_path: Path, capsys) -> None:
    b = mlp()
    b.add("Linear", "stray")
    save(b.project, tmp_path / "bad.nnstudio")
    code = main(["export", str(tmp_path / "bad.nnstudio"), "-f", "torchscript", "-o", str(tmp_path / "m.pt")])
    assert code == 1 and "stray.in: required input is not connected" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()
