"""Exports of graphs that declare their own objective: every format holds the inference graph (Inputs →
Outputs, no losses, Targets or teacher), checkpoints load into the whole network, and the python export's
train.py reproduces the whole objective, frozen nodes and per-node learning rates included.

Tolerance of the train.py comparisons: atol 1e-6 on every weight, as for the graphs without loss nodes
(test_export_python.py): the script takes the same steps with the same random draws, so on the same machine
the gap is rounding at most (0 for the VAE, ~1e-7 for the distillation, whose two param groups and clipped
norms add in a different order).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import torch

from nnstudio.cli.main import main
from nnstudio.compile import build_module
from nnstudio.compile.weights import read_state_dict, save_weights
from nnstudio.io.export import ExportError, export_model
from nnstudio.io.export.formats import FORMATS, missing_modules
from nnstudio.io.importing.bundle import open_bundle
from nnstudio.io.project_file import save
from nnstudio.training import Trainer, prepare
from tests.io.export.fresh_process import run_without_nnstudio
from tests.io.export.objective_graphs import distillation, tokens, vae

GRAPH_FORMATS = [name for name in ("torchscript", "exported-program", "onnx") if not missing_modules(FORMATS[name])]


@pytest.fixture(scope="module")
def trained_distillation(tmp_path_factory):
    """The distillation graph after one epoch: a checkpoint of the whole network, teacher included."""
    folder = tmp_path_factory.mktemp("distillation")
    project = distillation({"epochs": 1})
    result = Trainer(prepare(project), folder / "run").run()
    assert result.ok, result.message
    return project, result.checkpoint


def test_the_vae_exports_its_inference_graph_whose_code_is_mu_in_every_format(tmp_path: Path) -> None:
    project = vae()
    compiled = build_module(project)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        mu = compiled.module.head(compiled.module.enc(x.flatten(1)).relu())[:, :4]
        expected = compiled.module.dec(mu)  # GaussianSample returns mu in eval mode: no noise in any export
    for name in GRAPH_FORMATS:
        result = export_model(project, name, tmp_path / f"vae{FORMATS[name].extension}")
        assert result.max_abs_diff <= 1e-5
    loaded = torch.jit.load(tmp_path / "vae.pt")
    torch.testing.assert_close(loaded(x), expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(loaded(x), loaded(x), rtol=0, atol=0)

    export_model(project, "python", tmp_path / "python")
    text = (tmp_path / "python" / "model.py").read_text()
    assert "class GaussianSample(nn.Module):" in text
    assert "rec" not in re.findall(r"self\.(\w+) =", text) and "clean" not in text  # no loss, no Target
    assert "def forward(self, x):" in text


def test_classmap_and_gaussian_noise_are_copied_into_model_py(tmp_path: Path) -> None:
    result = export_model(tokens(), "python", tmp_path / "tokens")
    text = (tmp_path / "tokens" / "model.py").read_text()
    assert "class ClassMap(nn.Module):" in text and "class GaussianNoise(nn.Module):" in text
    assert "self.relabel = ClassMap(table=[0, 2, 1, 0, 2])" in text and "self.noise = GaussianNoise(std=0.5)" in text
    assert "CrossEntropyTerm" not in text
    assert result.max_abs_diff == 0.0


def test_a_checkpoint_loads_into_the_network_and_the_teacher_stays_out_of_every_export(
        trained_distillation, tmp_path: Path) -> None:
    project, checkpoint = trained_distillation
    compiled = build_module(project)
    inference = set(compiled.module.state_dict())
    assert set(read_state_dict(checkpoint)) == set(compiled.network.state_dict()) > inference  # the teacher too

    export_model(project, "safetensors", tmp_path / "model.safetensors", checkpoint=checkpoint)
    tensors = read_state_dict(tmp_path / "model.safetensors")
    assert set(tensors) == inference and not any(k.startswith("teacher") for k in tensors)
    trained = read_state_dict(checkpoint)
    for key, value in tensors.items():
        assert torch.equal(value, trained[key]), key
    sidecar = json.loads((tmp_path / "model.json").read_text())
    assert sidecar["weights"]["trained"] is True

    export_model(project, "bundle", tmp_path / "run.zip", checkpoint=checkpoint)
    with zipfile.ZipFile(tmp_path / "run.zip") as archive:
        names = archive.namelist()
    assert "exports/python/train.py" in names and "history.json" in names
    opened = open_bundle(tmp_path / "run.zip").compiled()  # as `nnstudio import` loads it: strictly
    for key, value in opened.module.state_dict().items():
        assert torch.equal(value, trained[key]), key

    python = tmp_path / "bundle_python"
    export_model(project, "python", python, checkpoint=checkpoint)
    text = (python / "model.py").read_text()
    assert "teacher" not in text and "class DistilledDigits(nn.Module):" in text
    assert set(torch.load(python / "model.pt", weights_only=True)) == inference
    assert {"teacher_fc.weight", "teacher_norm.running_mean"} <= set(torch.load(python / "initial.pt",
                                                                               weights_only=True))


def test_an_inference_only_weights_file_is_accepted_and_a_foreign_one_refused(trained_distillation,
                                                                               tmp_path: Path) -> None:
    project, checkpoint = trained_distillation
    export_model(project, "safetensors", tmp_path / "model.safetensors", checkpoint=checkpoint)
    again = export_model(project, "torchscript", tmp_path / "again.pt", checkpoint=tmp_path / "model.safetensors")
    assert again.max_abs_diff <= 1e-5
    other = build_module(vae())
    save_weights(other.network, tmp_path / "vae.safetensors")
    with pytest.raises(ExportError, match=r"vae\.safetensors: the weights do not match the graph: missing fc\.weight"):
        export_model(project, "torchscript", tmp_path / "bad.pt", checkpoint=tmp_path / "vae.safetensors")


def _printed(stdout: str, prefix: str) -> dict[str, float]:
    """The metrics train.py printed on the last line starting with `prefix`."""
    line = [line for line in stdout.splitlines() if line.startswith(prefix)][-1]
    words = line.split()[2 if prefix.startswith("epoch") else 1:]
    return {key: float(value) for key, value in zip(words[::2], words[1::2])}


def _train_both(project, tmp_path: Path) -> tuple[Path, dict[str, float], str, list[dict]]:
    """Export, train with `nnstudio train` and with the exported train.py (in a process without nnstudio)."""
    path = tmp_path / "project.nnstudio"
    save(project, path)
    export_model(project, "python", tmp_path / "export")
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--metrics", str(tmp_path / "m.jsonl")]) == 0
    done = run_without_nnstudio("import runpy, sys\nsys.argv = ['train.py']\n"
                                f"runpy.run_path({str(tmp_path / 'export' / 'train.py')!r}, run_name='__main__')\n",
                                tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    return tmp_path / "export", read_state_dict(tmp_path / "run" / "checkpoints" / "last"), done.stdout, records


def _same_run(folder: Path, app: dict[str, torch.Tensor], stdout: str, records: list[dict]) -> None:
    trained = torch.load(folder / "trained.pt", weights_only=True)
    assert set(trained) <= set(app)  # the inference model's tensors; the app's checkpoint may hold a teacher too
    for key, value in trained.items():
        torch.testing.assert_close(value, app[key], rtol=0, atol=1e-6, msg=key)
    last = [r for r in records if r["kind"] == "epoch"][-1]
    printed = _printed(stdout, f"epoch {last['epoch']}/")
    assert printed.keys() == {k for k in last if k.startswith(("train_", "val_"))}  # the app's names
    for key, value in printed.items():
        assert value == pytest.approx(last[key], abs=1e-4), key  # printed with 4 decimals
    test = _printed(stdout, "test ")
    end = records[-1]
    for key, value in test.items():
        assert value == pytest.approx(end[f"test_{key}"], abs=1e-4), key


@pytest.mark.slow
def test_train_py_trains_the_vae_objective_like_nnstudio_train(tmp_path: Path) -> None:
    folder, app, stdout, records = _train_both(vae(), tmp_path)
    text = (folder / "train.py").read_text()
    assert "class Objective(nn.Module):" in text and "rec + 0.01·kl" in text
    assert "class GaussianKL(nn.Module):" in text and "from model import GaussianSample" not in text
    assert 'FIELDS = ("x", "x")' in text  # the Input and the Target both read the images
    assert "epoch 2/2" in stdout and "train_loss_kl" in stdout and "val_loss_rec" in stdout
    _same_run(folder, app, stdout, records)


@pytest.mark.slow
def test_train_py_freezes_nodes_and_scales_learning_rates_like_nnstudio_train(tmp_path: Path) -> None:
    project = distillation()
    folder, app, stdout, records = _train_both(project, tmp_path)
    text = (folder / "train.py").read_text()
    assert 'FROZEN = ("norm", "teacher_fc", "teacher_norm", "teacher_head")' in text  # by node name
    assert 'LR_SCALES = {"head": 0.1}' in text and "torch.optim.SGD(param_groups(objective), " in text
    _same_run(folder, app, stdout, records)
    initial = build_module(project).network.state_dict()
    trained = torch.load(folder / "trained.pt", weights_only=True)
    for key in ("norm.weight", "norm.running_mean", "norm.running_var"):  # frozen, statistics fixed
        assert torch.equal(trained[key], initial[key]), key
    for key in ("teacher_fc.weight", "teacher_norm.running_mean"):  # the app's teacher did not move either
        assert torch.equal(app[key], initial[key]), key
    assert not torch.equal(trained["fc.weight"], initial["fc.weight"])
