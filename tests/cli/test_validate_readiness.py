"""Issue 15: `validate` runs the checks `train` runs before training (settings, data against the graph),
`--graph-only` checks the structure alone, and graph and load errors share one format naming the file."""

import json

import pytest

from nnstudio.cli import main
from nnstudio.examples import example_path

DIGITS = json.loads(example_path("digits_cnn").read_text())


def _variant(tmp_path, change) -> str:
    document = json.loads(json.dumps(DIGITS))
    change(document)
    path = tmp_path / "variant.nnstudio"
    path.write_text(json.dumps(document))
    return str(path)


def _node(document, name):
    return next(n for n in document["graph"]["nodes"] if n["name"] == name)


def _negative_lr(d):
    d["training"]["optimizer"]["lr"] = -0.1


def _five_classes(d):
    _node(d, "fc2")["params"]["out_features"] = 5


def _bce(d):
    d["training"]["loss"] = {"name": "bce_with_logits"}


def _wrong_input(d):
    _node(d, "image")["params"]["shape"] = [1, 16, 16]


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (_negative_lr, "training.optimizer.lr: expected a number > 0, got -0.1"),
        (
            _five_classes,
            "node 'logits' (Output): gives [N, 5] but 'cross_entropy' needs one output per class: the "
            "dataset has 10 classes, so the Output should give [N, 10]",
        ),
        (
            _bce,
            "training.loss.name: the task is classification: 'bce_with_logits' scores one yes/no output per "
            "target, not a choice among classes; use 'cross_entropy'",
        ),
        (
            _wrong_input,
            "node 'image' (Input): dataset: samples are [N, 1, 8, 8] but Input 'image' expects "
            "[N, 1, 16, 16]; change the Input's shape or the dataset",
        ),
    ],
)
def test_projects_that_cannot_train_are_not_valid(tmp_path, capsys, change, line):
    path = _variant(tmp_path, change)
    assert main(["validate", path]) == 1
    assert capsys.readouterr().out == f"{path}: {line}\n"
    assert main(["validate", "--graph-only", path]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: valid, graph")


def test_the_same_problem_train_reports(tmp_path, capsys):
    path = _variant(tmp_path, _negative_lr)
    assert main(["train", path, "--out", str(tmp_path / "run")]) == 2
    assert "training.optimizer.lr: expected a number > 0, got -0.1" in capsys.readouterr().err


def test_json_carries_the_training_problems(tmp_path, capsys):
    assert main(["validate", "--json", _variant(tmp_path, _negative_lr)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["diagnostics"][0]["code"] == "training-setting"


def test_load_and_graph_errors_share_the_format(tmp_path, capsys):
    """The same bad param, found by the loader (a range) and by validation (a cross-param rule)."""
    path = _variant(tmp_path, lambda d: _node(d, "fc1")["params"].update(out_features=10**12))
    assert main(["validate", path]) == 2
    assert capsys.readouterr().err == (
        f"nnstudio validate: {path}: node 'fc1' (Linear): out_features: expected an "
        "integer in [1, 16777216], got 1000000000000\n"
    )
    path = _variant(tmp_path, lambda d: _node(d, "image")["params"].update(shape=[1, 2, 2]))
    assert main(["validate", path]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: node 'pool2' (MaxPool2d): ")


def test_every_load_problem_is_one_line_of_its_own(tmp_path, capsys):
    def two_bad(d):
        _node(d, "fc1")["params"]["out_features"] = 0
        _node(d, "conv1")["params"]["kernel_size"] = "big"

    path = _variant(tmp_path, two_bad)
    assert main(["validate", path]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"nnstudio validate: {path}: node '") for line in lines)
