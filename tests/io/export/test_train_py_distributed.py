"""The exported train.py under torchrun: 2 gloo processes train what one process does on the global batch."""

from __future__ import annotations

import sys

import pytest
import torch

from nnstudio.io.export import export_model
from nnstudio.io.project_file import load
from nnstudio.training import prepare
from tests.training.distributed_helpers import (
    SGD,
    finish,
    objective_project,
    reference_run,
    torchrun,
    write_project,
)


@pytest.mark.slow
def test_train_py_under_torchrun_trains_the_global_batch(tmp_path):
    """Tolerance and its reasoning: see tests/training/test_distributed.py (atol 1e-5; ~1e-7 observed)."""
    project = load(write_project(tmp_path))
    folder = tmp_path / "export"
    export_model(project, "python", folder)
    code, out, err = finish(torchrun(["train.py"], folder))
    assert code == 0, err
    assert out.count("epoch 3/3") == 1 and out.count("saved ") == 1  # rank 0 alone prints and saves
    trained = torch.load(folder / "trained.pt", weights_only=True)
    reference = reference_run(prepare(project), world=2, epochs=3, lr=SGD["lr"], momentum=SGD["momentum"])
    assert trained.keys() == reference.state.keys()
    for key, value in reference.state.items():
        torch.testing.assert_close(trained[key], value, rtol=0, atol=1e-5, msg=key)


@pytest.mark.slow
def test_train_py_of_a_multi_loss_graph_under_torchrun_trains_the_global_batch(tmp_path):
    """ce + 0.5·distill + 0.01·sparse, whose teacher gets no gradient: the Objective under DDP (which must
    find those unused parameters) matches one process on the global batches, with the same tolerance."""
    project = objective_project()
    folder = tmp_path / "export"
    export_model(project, "python", folder)
    assert "UNUSED_PARAMETERS = True" in (folder / "train.py").read_text()
    code, out, err = finish(torchrun(["train.py"], folder))
    assert code == 0, err
    assert out.count("epoch 3/3") == 1 and "train_loss_distill" in out
    trained = torch.load(folder / "trained.pt", weights_only=True)
    reference = reference_run(prepare(project), world=2, epochs=3, lr=SGD["lr"], momentum=SGD["momentum"])
    assert trained.keys() == reference.model.state_dict().keys()  # the inference model: no teacher
    for key, value in trained.items():
        torch.testing.assert_close(value, reference.state[key], rtol=0, atol=1e-5, msg=key)


def test_train_py_refuses_a_global_batch_that_does_not_split(tmp_path, monkeypatch):
    project = load(write_project(tmp_path, {"batch_size": 15}))
    export_model(project, "python", tmp_path / "export")
    text = (tmp_path / "export" / "train.py").read_text()
    namespace: dict = {"__name__": "exported_train", "__file__": str(tmp_path / "export" / "train.py")}
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.syspath_prepend(str(tmp_path / "export"))
    try:
        exec(compile(text, "train.py", "exec"), namespace)  # defines the functions; __main__ is not run
    finally:
        sys.modules.pop("model", None)  # the export's model.py, imported by train.py
    with pytest.raises(SystemExit, match="BATCH_SIZE 15 is the global batch"):
        namespace["start_distributed"](torch.device("cpu"))
