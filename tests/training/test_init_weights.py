"""Weights from anywhere: every source kind, partial matches, the report, and the errors that name the path."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from nnstudio.compile import build_module
from nnstudio.compile.weights import WeightsError, save_weights
from nnstudio.training import Trainer, TrainingInputError
from nnstudio.training import init_weights as iw
from nnstudio.training.init_weights import apply_init_weights, load_matching, read_weight_source
from nnstudio.training.job import prepare
from tests.training.helpers import blobs, make_job, mlp_project

KEYS = {"linear.weight", "linear.bias", "linear_1.weight", "linear_1.bias"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A real (one-epoch) run folder: checkpoints/best and checkpoints/last."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert Trainer(make_job({"epochs": 1}), out).run().checkpoint is not None
    return out


def best(run_dir: Path) -> dict[str, torch.Tensor]:
    return read_weight_source(run_dir / "checkpoints" / "best" / "model.safetensors")[0]


def fresh(width: int = 16, **kwargs):
    return build_module(mlp_project(width=width, **kwargs))


def assert_loaded(compiled, tensors: dict[str, torch.Tensor], keys=KEYS) -> None:
    state = compiled.network.state_dict()
    for key in keys:
        torch.testing.assert_close(state[key], tensors[key].to(state[key].dtype))


# ---- every source kind -----------------------------------------------------------------------------------

def test_safetensors_file(tmp_path):
    source = fresh()
    save_weights(source.module, tmp_path / "w.safetensors")
    tensors, description = read_weight_source(tmp_path / "w.safetensors")
    assert set(tensors) == KEYS and description == str(tmp_path / "w.safetensors")
    target = fresh()
    report = load_matching(target.network, tensors, target, source=description)
    assert report.matched_count == report.model_count == 4 and not report.reasons()
    assert_loaded(target, source.module.state_dict())


def test_uppercase_safetensors_suffix(tmp_path):
    save_weights(fresh().module, tmp_path / "W.SAFETENSORS")
    assert set(read_weight_source(tmp_path / "W.SAFETENSORS")[0]) == KEYS


@pytest.mark.parametrize(("name", "wrap"), [
    ("w.pt", lambda state: state),
    ("w.pth", lambda state: {"state_dict": state, "epoch": 3}),
    ("w.bin", lambda state: {"model": state}),
])
def test_torch_files(tmp_path, name, wrap):
    state = fresh().module.state_dict()
    torch.save(wrap(state), tmp_path / name)
    tensors, _ = read_weight_source(tmp_path / name)
    target = fresh()
    assert load_matching(target.network, tensors, target).matched_count == 4
    assert_loaded(target, state)


def test_lightning_style_prefix_is_stripped(tmp_path):
    state = fresh().module.state_dict()
    torch.save({"state_dict": {f"model.module.{k}": v for k, v in state.items()}}, tmp_path / "w.ckpt")
    target = fresh()
    report = load_matching(target.network, read_weight_source(tmp_path / "w.ckpt")[0], target)
    assert report.matched_count == 4 and report.stripped_prefix == "model.module."
    assert "'model.module.'" in report.text()
    assert_loaded(target, state)


def test_checkpoint_folder(run_dir):
    tensors, description = read_weight_source(run_dir / "checkpoints" / "last")
    assert description == f"checkpoint folder {run_dir / 'checkpoints' / 'last'} (epoch 1)"
    assert set(tensors) == KEYS


def test_run_folder_prefers_best_then_last(run_dir, tmp_path):
    tensors, description = read_weight_source(run_dir)
    assert description == f"run folder {run_dir}: checkpoints/best (epoch 1)"
    torch.testing.assert_close(tensors, best(run_dir))
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "checkpoints" / "best")
    _, description = read_weight_source(copy)
    assert description == f"run folder {copy}: checkpoints/last (epoch 1), as it has no best checkpoint"


def test_any_folder_with_model_safetensors(tmp_path):
    save_weights(fresh().module, tmp_path / "model.safetensors")
    tensors, description = read_weight_source(tmp_path)
    assert set(tensors) == KEYS and description == f"folder {tmp_path}"


def test_bundle_zip_with_any_case_suffix(run_dir, tmp_path):
    from nnstudio.io.export import export_model

    project = mlp_project(training={"epochs": 1})
    result = export_model(project, "bundle", tmp_path / "model.ZIP", checkpoint=run_dir / "checkpoints" / "best",
                          batch=(torch.randn(4, 2),))
    tensors, description = read_weight_source(result.paths[0])
    assert description == f"bundle {result.paths[0]} (mlp, trained)"
    torch.testing.assert_close(tensors, best(run_dir))
    assert list(tmp_path.iterdir()) == [result.paths[0]]  # read in memory, never extracted


def test_exported_python_folder(run_dir, tmp_path):
    from nnstudio.io.export import export_model

    project = mlp_project(training={"epochs": 1})
    export_model(project, "python", tmp_path / "py", checkpoint=run_dir / "checkpoints" / "best",
                 batch=(torch.randn(4, 2),))
    tensors, description = read_weight_source(tmp_path / "py")
    assert description == f"exported Python folder {tmp_path / 'py'} (model.pt)"
    torch.testing.assert_close(tensors, best(run_dir))


# ---- matching --------------------------------------------------------------------------------------------

def test_partial_match_keeps_the_rest_as_initialised(run_dir):
    """A wider first layer: its weights keep their initialisation; the output layer's bias still loads."""
    target = fresh(width=8)
    before = {k: v.clone() for k, v in target.network.state_dict().items()}
    tensors = {**best(run_dir), "extra.weight": torch.zeros(2)}
    report = load_matching(target.network, tensors, target, source="src")
    assert report.matched == {"linear_1": ["linear_1.bias"]}
    assert [k for k, _, _ in report.shape_differs] == ["linear.weight", "linear.bias", "linear_1.weight"]
    assert report.not_in_model == ["extra.weight"]
    state = target.network.state_dict()
    torch.testing.assert_close(state["linear_1.bias"], tensors["linear_1.bias"])
    for key in ("linear.weight", "linear.bias", "linear_1.weight"):
        torch.testing.assert_close(state[key], before[key])
    reasons = dict(report.reasons())
    assert reasons["linear.weight"] == "shape differs (model [8, 2], file [16, 2])"
    assert reasons["extra.weight"] == "in the file, not in the model"
    assert report.summary() == ("loaded 1 of 4 tensors (1 node(s)) from src; 3 kept as initialised; "
                                "1 in the file not used")


def test_missing_tensors_are_reported_not_in_the_file(run_dir):
    tensors = {k: v for k, v in best(run_dir).items() if k.startswith("linear.")}
    target = fresh()
    report = load_matching(target.network, tensors, target)
    assert report.not_in_file == ["linear_1.weight", "linear_1.bias"]
    assert dict(report.reasons())["linear_1.bias"] == "not in the file"
    assert "not in the file (kept as initialised): linear_1.weight, linear_1.bias" in report.text()


def test_matched_are_grouped_by_node_and_json_names_the_node(run_dir):
    target = fresh()
    report = load_matching(target.network, best(run_dir), target)
    ids = {name: node.id for node in mlp_project().graph.nodes.values() for name in [node.name]}
    assert report.matched == {"linear": ["linear.weight", "linear.bias"],
                              "linear_1": ["linear_1.weight", "linear_1.bias"]}
    data = report.to_json()
    assert data["matched_count"] == 4 and data["unmatched"] == []
    assert {m["node"] for m in data["matched"]} == {"linear", "linear_1"}
    assert all(m["node_id"] is not None for m in data["matched"])
    assert len(ids) >= 2
    assert "matched: linear (weight, bias), linear_1 (weight, bias)" in report.text()


class Normed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(3)


def test_copies_in_place_with_dtype_cast_and_refuses_unconvertible_dtypes():
    net = Normed()
    weight = net.norm.weight
    tensors = {"norm.weight": torch.full((3,), 2.0, dtype=torch.float64),
               "norm.bias": torch.ones(3, dtype=torch.float16),
               "norm.running_mean": torch.arange(3),  # ints into floats: fine
               "norm.num_batches_tracked": torch.tensor(1.5)}  # fractions into an integer: no
    report = load_matching(net, tensors)
    assert net.norm.weight is weight and weight.requires_grad and weight.dtype == torch.float32
    torch.testing.assert_close(weight.detach(), torch.full((3,), 2.0))
    torch.testing.assert_close(net.norm.running_mean, torch.tensor([0.0, 1.0, 2.0]))
    assert report.matched == {"norm": ["norm.weight", "norm.bias", "norm.running_mean"]}
    assert report.dtype_differs == [("norm.num_batches_tracked", "int64", "float32")]
    assert "dtype not convertible (model int64, file float32)" in dict(report.reasons()).values()
    assert net.norm.num_batches_tracked.item() == 0


def test_zero_matches_by_name_is_an_error_with_a_hint(tmp_path):
    save_file({"encoder.weight": torch.zeros(16, 2)}, tmp_path / "other.safetensors")
    tensors, description = read_weight_source(tmp_path / "other.safetensors")
    target = fresh()
    with pytest.raises(WeightsError) as caught:
        load_matching(target.network, tensors, target, source=description)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "other.safetensors"))
    assert "names must match node names" in message and "encoder.weight" in message and "linear.weight" in message


def test_zero_matches_by_shape_is_an_error_naming_the_shapes(run_dir):
    target = build_module(mlp_project(inputs=5, outputs=4, width=8))
    with pytest.raises(WeightsError, match=r"^src: no tensor fits the model; .*linear.weight shape differs "
                                           r"\(model \[8, 5\], file \[16, 2\]\)"):
        load_matching(target.network, best(run_dir), target, source="src")


# ---- errors ----------------------------------------------------------------------------------------------

def corrupt(tmp_path: Path, name: str, data: bytes = b"not weights at all") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


class Payload:
    pass


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p / "missing.safetensors", "no such file or folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "empty folder, no weights in it"),
    (lambda p: (p / "junk").mkdir() or ((p / "junk" / "a.txt").write_text("x") and p / "junk"),
     "no weights in this folder (looked for model.safetensors, checkpoints/best"),
    (lambda p: (p / "run" / "checkpoints").mkdir(parents=True) or p / "run", "run folder without a checkpoint"),
    (lambda p: corrupt(p, "w.safetensors"), "not a readable safetensors file"),
    (lambda p: corrupt(p, "w.pt"), "not a readable torch file (neither a zip archive nor a pickle)"),
    (lambda p: corrupt(p, "w.pth", b"PK\x03\x04truncated"), "not a readable torch file"),
    (lambda p: corrupt(p, "w.zip"), "not a readable zip archive, so not a bundle"),
    (lambda p: corrupt(p, "notes.txt"), "not a weights source; give a .safetensors or torch file"),
])
def test_bad_sources_are_one_line_errors_naming_the_path(tmp_path, make, expected):
    path = make(tmp_path)
    with pytest.raises(WeightsError) as caught:
        read_weight_source(path)
    message = str(caught.value)
    assert str(path) in message and expected in message and "\n" not in message, message


def test_torch_file_with_code_is_refused(tmp_path):
    torch.save({"linear.weight": torch.zeros(1), "payload": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match="refused to load"):
        read_weight_source(tmp_path / "evil.pt")


def test_zip_without_weights_and_empty_weights(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(WeightsError, match=r"a\.zip: not an nnstudio bundle \(no model.safetensors"):
        read_weight_source(tmp_path / "a.zip")
    save_file({}, tmp_path / "none.safetensors")
    with pytest.raises(WeightsError, match=r"none\.safetensors: holds no tensors"):
        read_weight_source(tmp_path / "none.safetensors")


def test_bundle_members_are_bounded(tmp_path, monkeypatch):
    save_weights(fresh().module, tmp_path / "model.safetensors")
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        archive.write(tmp_path / "model.safetensors", "model.safetensors")
    monkeypatch.setattr(iw, "MAX_BUNDLE_WEIGHTS", 64)
    with pytest.raises(WeightsError, match=r"b\.zip: model\.safetensors is [\d.,]+ (bytes|KiB), over the 64 bytes"):
        read_weight_source(tmp_path / "b.zip")


# ---- the project setting and prepare() -------------------------------------------------------------------

def test_apply_init_weights_resolves_relative_to_the_project_folder(run_dir, tmp_path):
    project = mlp_project()
    compiled = build_module(project)
    assert apply_init_weights(project, compiled, tmp_path) is None  # not set: nothing loaded
    shutil.copyfile(run_dir / "checkpoints" / "best" / "model.safetensors", tmp_path / "start.safetensors")
    project.init.weights = "start.safetensors"
    report = apply_init_weights(project, compiled, tmp_path)
    assert report is not None and report.matched_count == 4
    assert_loaded(compiled, best(run_dir))


def test_prepare_loads_init_weights_and_keeps_the_report(run_dir):
    project = mlp_project(training={"epochs": 1})
    project.init.weights = str(run_dir)
    job = prepare(project, data=blobs())
    assert job.init_report is not None and job.init_report.matched_count == 4
    assert_loaded(job.compiled, best(run_dir))
    assert prepare(mlp_project(training={"epochs": 1}), data=blobs()).init_report is None


def test_prepare_reports_bad_init_weights_as_a_training_input_error(tmp_path):
    project = mlp_project(training={"epochs": 1})
    project.init.weights = "nowhere.safetensors"
    with pytest.raises(TrainingInputError) as caught:
        prepare(project, base_dir=tmp_path, data=blobs())
    problem = caught.value.problems[0]
    assert problem.message == f"init.weights: {tmp_path / 'nowhere.safetensors'}: no such file or folder"
    assert problem.param == "init.weights"
