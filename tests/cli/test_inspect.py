import json
import subprocess
import sys

from nnstudio.cli import main
from nnstudio.io import save
from tests.helpers import mlp


def test_validate_valid_exit_0(tmp_path, capsys):
    path = tmp_path / "ok.nnstudio"
    save(mlp().project, path)
    assert main(["validate", "--graph-only", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid, graph (5 nodes, 4 edges)\n"
    assert main(["validate", "example:spirals"]) == 0
    assert "example:spirals: valid, ready to train" in capsys.readouterr().out


def test_validate_invalid_exit_1_one_line_per_problem(tmp_path, capsys):
    b = mlp()
    b.add("Linear", "stray")
    b.add("ReLU", "also_stray")
    path = tmp_path / "bad.nnstudio"
    save(b.project, path)
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert f"{path}: node 'stray' (Linear): in: required input is not connected" in lines
    assert len(lines) == 4  # two unconnected inputs, two unreachable nodes


def test_validate_json(tmp_path, capsys):
    b = mlp()
    b.add("Linear", "stray")
    path = tmp_path / "bad.nnstudio"
    save(b.project, path)
    assert main(["validate", "--json", str(path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert {"code", "severity", "message", "node_id", "port", "param", "related"} <= data["diagnostics"][0].keys()


def test_unreadable_file_exit_2_one_line(tmp_path, capsys):
    path = tmp_path / "broken.nnstudio"
    path.write_text("{not json")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not valid JSON" in err and "Traceback" not in err
    assert main(["validate", str(tmp_path / "absent.nnstudio")]) == 2


def test_summary_and_code_for_example(capsys):
    assert main(["summary", "example:spirals"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 4,482" in out and "FLOPs per sample" in out
    assert main(["code", "example:spirals"]) == 0
    assert "def forward" in capsys.readouterr().out


def test_unknown_example_is_bad_input(capsys):
    assert main(["summary", "example:nope"]) == 2
    assert "no example named 'nope'" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "nnstudio", "validate", "example:spirals"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
