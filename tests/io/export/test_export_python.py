"""The python export: a readable model.py, and a train.py that retraces the app's own training run."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from nnstudio.examples import EXAMPLES
from nnstudio.io.export import export_model
from nnstudio.io.export.python_train import render_train
from nnstudio.io.project_file import load
from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Trainer, prepare
from nnstudio.training.factories import make_loss, make_optimizer
from nnstudio.training.schedules import make_schedule
from nnstudio.training.settings import SCHEDULES
from tests.io.export.fresh_process import run_without_nnstudio

TRAINING = {"epochs": 3, "batch_size": 32, "seed": 7,
            "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "schedule": {"name": "step", "step_size": 1, "gamma": 0.5},
            "regularization": {"l2": 1e-4, "clip": "norm", "max_norm": 2.0},
            "loss": {"label_smoothing": 0.05},
            "instrumentation": {"enabled": False}}


def trainable_project():
    b = GraphBuilder(name="Dropout MLP")
    b.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 16}), "ReLU", ("Dropout", {"p": 0.3}),
                 ("Linear", {"out_features": 2}), "Output")
    b.project.dataset = {"name": "spirals", "params": {"samples": 160}, "test_fraction": 0.1}
    b.project.training = dict(TRAINING)
    return b.project


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("python") / "dropout_mlp"
    project = trainable_project()
    result = export_model(project, "python", folder)
    return project, folder, result


@pytest.mark.slow
def test_train_py_retraces_the_engine(exported, tmp_path: Path) -> None:
    project, folder, _result = exported
    assert {p.name for p in folder.iterdir()} >= {"model.py", "model.pt", "train.py", "data.npz", "initial.pt",
                                                 "README.md", "project.nnstudio"}
    job = prepare(project)
    run = Trainer(job).run()
    assert run.status.value == "finished"

    done = run_without_nnstudio("import runpy, sys\nsys.argv = ['train.py']\n"
                                f"runpy.run_path({str(folder / 'train.py')!r}, run_name='__main__')\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "epoch 3/3" in done.stdout and "test  loss" in done.stdout
    trained = torch.load(folder / "trained.pt", weights_only=True)
    ours = job.compiled.module.state_dict()
    assert trained.keys() == ours.keys()
    for key in ours:
        torch.testing.assert_close(trained[key], ours[key].cpu(), rtol=0, atol=1e-6, msg=key)


def _load_script(path: Path):
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"train_{path.stat().st_mtime_ns}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))
        sys.modules.pop("model", None)


def _lrs(optimizer, scheduler, per_step: bool, steps: int) -> list[float]:
    seen = []
    for _ in range(steps):
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(1.0)
        else:
            scheduler.step()
        seen.append(optimizer.param_groups[0]["lr"])
    return seen


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_train_py_builds_the_same_optimizer_loss_and_schedule(exported, tmp_path: Path, schedule: str) -> None:
    project, folder, _ = exported
    project = load(folder / "project.nnstudio")
    project.training = {**TRAINING, "optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.1},
                        "schedule": {"name": schedule, "min_lr": 1e-4}, "loss": {"class_weights": [1.0, 2.0]}}
    job = prepare(project)
    script = folder / f"train_{schedule}.py"
    script.write_text(render_train("t", job), encoding="utf-8")
    train = _load_script(script)
    model = train.Model()
    theirs = train.make_optimizer(model)
    ours = make_optimizer(list(model.parameters()), job.settings.optimizer)
    assert type(theirs) is type(ours) and theirs.defaults == ours.defaults
    assert repr(train.make_loss()) == repr(make_loss(job.settings.loss, job.task))
    torch.testing.assert_close(train.make_loss().weight, torch.tensor([1.0, 2.0]))
    steps = 4
    scheduler = train.make_scheduler(theirs, steps)
    reference = make_schedule(ours, job.settings.schedule, job.settings.epochs, steps)
    if reference.scheduler is None:
        assert scheduler is None
        return
    assert type(scheduler) is type(reference.scheduler)
    assert reference.per_step == train.SCHEDULE_PER_STEP
    count = steps * job.settings.epochs if reference.per_step else job.settings.epochs
    assert _lrs(theirs, scheduler, reference.per_step, count) == pytest.approx(
        _lrs(ours, reference.scheduler, reference.per_step, count))


def test_model_py_reads_like_hand_written_code(tmp_path: Path) -> None:
    export_model(load(EXAMPLES["spirals"].path), "python", tmp_path / "spirals")
    text = (tmp_path / "spirals" / "model.py").read_text()
    tree = ast.parse(text)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("nnstudio" in ast.unparse(n) for n in imports)
    assert "class SpiralsMLP(nn.Module):" in text and "Model = SpiralsMLP" in text
    assert "self.fc1 = nn.Linear(in_features=2, out_features=64, bias=True)" in text
    assert "def forward(self, points):" in text and "fc1 = self.fc1(points)" in text
    assert "= None" not in text.split("def forward", 1)[1].split("Model =", 1)[0]


def test_custom_module_sources_are_copied(tmp_path: Path) -> None:
    export_model(load(EXAMPLES["transformer"].path), "python", tmp_path / "transformer")
    text = (tmp_path / "transformer" / "model.py").read_text()
    assert "class SinusoidalPositionalEncoding(nn.Module):" in text or \
        "class LearnedPositionalEncoding(nn.Module):" in text
    assert "import math" in text


def test_project_without_data_gets_no_train_py(tmp_path: Path) -> None:
    project = load(EXAMPLES["spirals"].path)
    project.dataset = {}
    result = export_model(project, "python", tmp_path / "spirals")
    assert any("train.py was not written" in m and "no dataset" in m for m in result.messages)
    assert not (tmp_path / "spirals" / "train.py").exists()
    assert "Train it again" not in (tmp_path / "spirals" / "README.md").read_text()


def test_train_py_follows_the_checkpoints_run(tmp_path: Path) -> None:
    """A run with overridden settings keeps its project in the checkpoint; train.py reproduces that run."""
    from nnstudio.compile import build_module
    from nnstudio.compile.weights import save_weights
    from nnstudio.io import save

    project = trainable_project()
    run = load_project_copy(project)
    run.training = {**run.training, "epochs": 11, "batch_size": 16}
    folder = tmp_path / "ckpt"
    folder.mkdir()
    save_weights(build_module(project).module, folder / "model.safetensors")
    save(run, folder / "project.nnstudio")
    result = export_model(project, "python", tmp_path / "out", checkpoint=folder)
    text = (tmp_path / "out" / "train.py").read_text()
    assert "EPOCHS = 11\n" in text and "BATCH_SIZE = 16\n" in text
    assert any("from the run" in m for m in result.messages)
    assert project.training["epochs"] == 3, "the caller's project is left alone"


def load_project_copy(project):
    from nnstudio.io.project_file import dumps, loads

    return loads(dumps(project))
