"""The bundle: one archive with the project, trained weights, history, environment and every export,
which nnstudio opens again without running anything from it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from nnstudio.io.export import export_model
from nnstudio.io.export.parity import TOLERANCE
from nnstudio.io.importing import BundleError, open_bundle
from nnstudio.training import Trainer, prepare
from tests.io.export.fresh_process import CHECK_ARTEFACTS, json_result, run_without_nnstudio
from tests.io.export.test_export_python import trainable_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project trained for two epochs by the real engine, with its checkpoint folder."""
    out = tmp_path_factory.mktemp("run")
    project = trainable_project()
    project.training = {**project.training, "epochs": 2}
    job = prepare(project)
    result = Trainer(job, out_dir=out).run()
    assert result.checkpoint is not None
    return project, result.checkpoint, job.compiled.module.eval()


@pytest.fixture(scope="module")
def bundle(trained, tmp_path_factory):
    project, checkpoint, _ = trained
    path = tmp_path_factory.mktemp("bundle") / "run.zip"
    return path, export_model(project, "bundle", path, checkpoint=checkpoint)


@pytest.mark.slow
def test_bundle_holds_everything(bundle, trained) -> None:
    path, result = bundle
    assert result.paths == [path] and result.max_abs_diff <= TOLERANCE
    names = set(zipfile.ZipFile(path).namelist())
    assert {"manifest.json", "project.nnstudio", "model.safetensors", "model.json", "history.json",
            "checkpoint.json", "environment.json", "exports/model.pt", "exports/model.pt2", "exports/model.onnx",
            "exports/python/model.py", "exports/python/train.py", "exports/python/data.npz"} <= names
    with zipfile.ZipFile(path) as archive:
        environment = json.loads(archive.read("environment.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert environment["torch_version"] == torch.__version__
    assert environment["seeds"] == {"init": 0, "training": 7}
    assert environment["training_device"] == "cpu"
    assert manifest["trained"] is True
    assert all(entry["max_abs_diff"] <= TOLERANCE for entry in manifest["contents"] if "max_abs_diff" in entry)


@pytest.mark.slow
def test_bundle_exports_load_without_nnstudio(bundle, trained, tmp_path: Path) -> None:
    path, _ = bundle
    _, _, module = trained
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "exports"
    for name in ("model.safetensors", "model.json"):
        (tmp_path / name).rename(folder / name)
    inputs = [torch.randn(6, 2)]
    with torch.no_grad():
        torch.save([module(*inputs)], folder / "expected.pt")
    torch.save(inputs, folder / "inputs.pt")
    gaps = json_result(run_without_nnstudio(CHECK_ARTEFACTS, folder))
    assert set(gaps) == {"torchscript", "exported-program", "onnx", "python", "safetensors"}
    assert max(gaps.values()) <= TOLERANCE


def test_open_bundle_rebuilds_the_trained_model(bundle, trained) -> None:
    path, _ = bundle
    _, _, module = trained
    opened = open_bundle(path)
    assert opened.manifest["format"] == "nnstudio.bundle"
    assert opened.history is not None
    x = torch.randn(5, 2)
    with torch.no_grad():
        torch.testing.assert_close(opened.compiled().module.eval()(x), module(x))


def test_open_bundle_refuses_what_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "plain.zip").write_bytes(b"not a zip at all")
    with pytest.raises(BundleError, match="not a zip archive"):
        open_bundle(tmp_path / "plain.zip")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BundleError, match="has no manifest.json"):
        open_bundle(tmp_path / "other.zip")
    with zipfile.ZipFile(tmp_path / "wrong.zip", "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something.else"}))
    with pytest.raises(BundleError, match="not an nnstudio bundle"):
        open_bundle(tmp_path / "wrong.zip")
    with pytest.raises(BundleError, match="no such file"):
        open_bundle(tmp_path / "missing.zip")
