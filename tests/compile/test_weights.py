import pickle

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.compile.weights import WeightsError, load_weights, read_state_dict, save_weights
from tests.helpers import mlp


def test_safetensors_round_trip(tmp_path):
    project = mlp().project
    model = build_module(project).module
    path = tmp_path / "w.safetensors"
    save_weights(model, path, {"note": "test"})
    project.init.seed = 99
    other = build_module(project).module
    assert load_weights(other, path).ok
    assert torch.equal(other.linear.weight, model.linear.weight)


def test_torch_state_dict_file_loads_with_weights_only(tmp_path):
    model = build_module(mlp().project).module
    torch.save({"state_dict": model.state_dict()}, tmp_path / "w.pt")
    assert set(read_state_dict(tmp_path / "w.pt")) == set(model.state_dict())


def test_mismatch_is_reported_by_key(tmp_path):
    save_weights(build_module(mlp(width=16).project).module, tmp_path / "w.safetensors")
    target = build_module(mlp(width=8).project).module
    with pytest.raises(WeightsError, match=r"mismatched linear.weight \(model \[8, 2\], file \[16, 2\]\)"):
        load_weights(target, tmp_path / "w.safetensors")
    report = load_weights(target, tmp_path / "w.safetensors", strict=False)
    assert {k for k, _, _ in report.mismatched} >= {"linear.weight", "linear.bias", "linear_1.weight"}


class _Payload:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(MARKER),))


MARKER = ""


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    global MARKER
    MARKER = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    with open(path, "wb") as stream:
        pickle.dump({"weight": _Payload()}, stream)
    torch.save({"w": _Payload()}, tmp_path / "evil_zip.pt")
    for candidate in (path, tmp_path / "evil_zip.pt"):
        with pytest.raises(WeightsError, match="refused to load|not a readable torch file"):
            read_state_dict(candidate)
    assert not (tmp_path / "pwned").exists()


def test_garbage_and_unknown_suffix(tmp_path):
    (tmp_path / "w.safetensors").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        read_state_dict(tmp_path / "w.safetensors")
    (tmp_path / "w.h5").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="unknown weights format"):
        read_state_dict(tmp_path / "w.h5")
