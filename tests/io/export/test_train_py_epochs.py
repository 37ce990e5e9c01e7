"""train.py --epochs N trains like `nnstudio train --epochs N`, schedule included; LAMB is carried into it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nnstudio.io.export import export_model
from nnstudio.training import Trainer, prepare
from nnstudio.training.schedules import make_schedule
from tests.io.export.test_export_python import TRAINING, _load_script, _lrs, trainable_project


def _app_run(project, epochs: int) -> dict[str, torch.Tensor]:
    """What `nnstudio train --epochs N` trains: the project with training.epochs overridden."""
    project.training = {**project.training, "epochs": epochs}
    job = prepare(project)
    assert Trainer(job).run().status.value == "finished"
    return {k: v.cpu() for k, v in job.compiled.module.state_dict().items()}


def _exported(tmp_path: Path, training: dict):
    project = trainable_project()
    project.training = {**TRAINING, **training}
    folder = tmp_path / "export"
    export_model(project, "python", folder)
    return project, _load_script(folder / "train.py")


def _same_weights(theirs: dict[str, torch.Tensor], ours: dict[str, torch.Tensor]) -> None:
    assert theirs.keys() == ours.keys()
    for key in ours:
        torch.testing.assert_close(theirs[key], ours[key], rtol=0, atol=1e-6, msg=key)


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle"])
def test_train_py_sizes_its_schedule_for_the_epochs_it_runs(tmp_path: Path, schedule: str) -> None:
    project, train = _exported(tmp_path, {"schedule": {"name": schedule, "min_lr": 1e-4}})
    assert train.EPOCHS == 3
    model = train.Model()
    steps = 5
    reference = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    ours = make_schedule(reference, prepare(project).settings.schedule, 1, steps).scheduler
    theirs = train.make_optimizer(model)
    scheduler = train.make_scheduler(theirs, steps, 1)
    assert _lrs(theirs, scheduler, True, steps) == pytest.approx(_lrs(reference, ours, True, steps))
    # End to end: one epoch of train.py (--epochs 1) takes the steps `nnstudio train --epochs 1` takes.
    trained = train.train(1, "cpu")
    _same_weights(trained.state_dict(), _app_run(project, 1))


def test_train_py_carries_lamb(tmp_path: Path) -> None:
    optimizer = {"name": "lamb", "lr": 0.01, "weight_decay": 0.01}
    project, train = _exported(tmp_path, {"optimizer": optimizer, "epochs": 1, "schedule": {"name": "constant"}})
    text = Path(train.__file__).read_text(encoding="utf-8")
    assert "class Lamb(Optimizer):" in text and "nnstudio" not in text.split("import", 1)[1].split("HERE =")[0]
    made = train.make_optimizer(train.Model())
    assert type(made).__name__ == "Lamb" and made.defaults["weight_decay"] == 0.01
    _same_weights(train.train(1, "cpu").state_dict(), _app_run(project, 1))
