"""`nnstudio summary` on a graph with a frozen teacher: the table's Training column and the parameter split."""

from __future__ import annotations

import json

from nnstudio.cli import main
from nnstudio.io import save
from tests.compile.test_summary_training import STUDENT, TEACHER, teacher_student


def test_summary_prints_trainable_and_frozen_parameters(tmp_path, capsys):
    path = tmp_path / "distil.nnstudio"
    save(teacher_student(scaled={"student": 0.1}).project, path)
    assert main(["summary", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "Training"
    assert any(line.startswith("teacher_bn ") and line.endswith("frozen, training only") for line in lines)
    assert f"Total params: {STUDENT + TEACHER:,} (trainable {STUDENT:,}, frozen {TEACHER:,})" in lines[-3]
    assert lines[-2].startswith(f"Inference model: {STUDENT:,} params")
    assert lines[-1].startswith("FLOPs per sample: ")


def test_summary_json_has_the_split(tmp_path, capsys):
    path = tmp_path / "distil.nnstudio"
    save(teacher_student().project, path)  # the frozen settings travel in the file
    assert main(["summary", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["trainable_params"], data["frozen_params"]) == (STUDENT, TEACHER)
