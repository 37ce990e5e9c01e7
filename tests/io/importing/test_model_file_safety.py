"""Opening a model file never runs code: a pickle whose payload would create a marker file is refused
by every way nnstudio opens weights, and the marker never appears."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.compile.weights import WeightsError, read_state_dict, save_weights
from nnstudio.io.export import ExportError, export_model
from nnstudio.io.importing import BundleError, load_graph_weights, open_bundle
from tests.helpers import mlp


class Payload:
    """Unpickling this calls open(marker, 'w'): proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _evil_torch_file(path: Path, marker: Path) -> Path:
    torch.save({"linear.weight": torch.zeros(2, 2), "extra": Payload(marker)}, path)
    return path


def _evil_plain_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"state_dict": Payload(marker)}))
    return path


@pytest.fixture()
def marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran.txt"


def test_the_payload_is_real(tmp_path: Path, marker: Path) -> None:
    """Guards the other tests: unpickling the file unsafely really would create the marker."""
    path = _evil_torch_file(tmp_path / "evil.pt", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("make", [_evil_torch_file, _evil_plain_pickle])
def test_read_state_dict_refuses_pickled_code(tmp_path: Path, marker: Path, make) -> None:
    path = make(tmp_path / "evil.pt", marker)
    with pytest.raises(WeightsError, match="refused to load"):
        read_state_dict(path)
    assert not marker.exists()


def test_export_checkpoint_refuses_pickled_code(tmp_path: Path, marker: Path) -> None:
    project = mlp().project
    path = _evil_torch_file(tmp_path / "evil.pt", marker)
    with pytest.raises(ExportError, match="refused to load") as caught:
        export_model(project, "torchscript", tmp_path / "m.pt", checkpoint=path)
    assert caught.value.bad_input
    with pytest.raises(WeightsError, match="refused to load"):
        load_graph_weights(project, path)
    assert not marker.exists() and not (tmp_path / "m.pt").exists()


def test_checkpoint_folder_with_a_pickle_named_safetensors(tmp_path: Path, marker: Path) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    _evil_torch_file(folder / "model.safetensors", marker)
    with pytest.raises(ExportError, match="not a readable safetensors file"):
        export_model(mlp().project, "torchscript", tmp_path / "m.pt", checkpoint=folder)
    assert not marker.exists()


def _architecture(folder: Path) -> str:
    """The project document, as the safetensors sidecar carries it."""
    return json.dumps(json.loads((folder / "model.json").read_text())["architecture"])


def test_bundle_never_unpickles(tmp_path: Path, marker: Path) -> None:
    project = mlp().project
    export_model(project, "safetensors", tmp_path / "model.safetensors")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "nnstudio.bundle", "version": 1}))
        archive.write(tmp_path / "model.safetensors", "model.safetensors")
        archive.writestr("project.nnstudio", _architecture(tmp_path))
        archive.write(_evil_torch_file(tmp_path / "evil.pt", marker), "exports/model.pt")
    opened = open_bundle(good)  # the TorchScript file inside is never opened
    assert opened.state.keys() == build_module(project).module.state_dict().keys()

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "nnstudio.bundle", "version": 1}))
        archive.writestr("project.nnstudio", _architecture(tmp_path))
        archive.write(tmp_path / "evil.pt", "model.safetensors")
    with pytest.raises(BundleError, match="not a readable safetensors file"):
        open_bundle(bad)
    assert not marker.exists()


def test_safe_torch_files_still_load(tmp_path: Path) -> None:
    module = build_module(mlp().project).module
    torch.save({"state_dict": module.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    assert read_state_dict(tmp_path / "ckpt.pt").keys() == module.state_dict().keys()
    save_weights(module, tmp_path / "w.safetensors")
    assert read_state_dict(tmp_path / "w.safetensors").keys() == module.state_dict().keys()
