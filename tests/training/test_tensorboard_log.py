"""TensorBoard event files: written by `nnstudio train --tensorboard DIR` and the setting, read back with
TensorBoard's own reader, and matching the run's history."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nnstudio.cli import main
from nnstudio.training import Status, Trainer, tensorboard_log
from tests.cli.test_train import write_project
from tests.training.helpers import make_job

SAMPLED = {"enabled": True, "loss_every": 1, "grads_every": 2, "activations_every": 0}


def events(folder: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def test_cli_run_writes_scalars_that_match_the_history_plus_histograms_and_the_graph(tmp_path, capsys):
    path = write_project(tmp_path, {"instrumentation": SAMPLED})
    board, out = tmp_path / "board", tmp_path / "run"
    assert main(["train", str(path), "--epochs", "3", "--out", str(out), "--tensorboard", str(board)]) == 0
    capsys.readouterr()
    from nnstudio.training import load_checkpoint

    history = load_checkpoint(out / "checkpoints" / "last").history
    log = events(board)
    tags = log.Tags()
    for tag in ("epoch/train_loss", "epoch/val_loss", "epoch/val_accuracy", "epoch/lr", "step/loss",
                "grads/global_norm"):
        assert tag in tags["scalars"], tag
        series = history.series(tag)
        written = log.Scalars(tag)
        assert [e.step for e in written] == series.steps
        assert [e.value for e in written] == pytest.approx(series.values, rel=1e-6)
    assert len(log.Scalars("epoch/train_loss")) == 3
    layers = {tag.split("/")[1] for tag in tags["histograms"]}
    assert len(layers) == 2  # both Linear layers, by name
    for tag in tags["histograms"]:
        assert tag.split("/")[0] in ("weights", "gradients")
    weights = [t for t in tags["histograms"] if t.startswith("weights/")]
    assert weights and all(len(log.Histograms(t)) == 3 for t in weights)  # one per epoch
    gradients = [t for t in tags["histograms"] if t.startswith("gradients/")]
    assert {t.removeprefix("gradients/") for t in gradients} == {t.removeprefix("weights/") for t in weights}
    assert tags["graph"] is True
    assert "linear" in log.Graph().SerializeToString().decode("latin-1").lower()


def test_the_setting_alone_logs_inside_the_run_folder_and_leaves_training_unchanged(tmp_path):
    plain = Trainer(make_job({"instrumentation": SAMPLED}), tmp_path / "plain").run()
    logged = Trainer(make_job({"instrumentation": {**SAMPLED, "tensorboard": "tb"}}), tmp_path / "logged").run()
    assert plain.status is logged.status is Status.FINISHED
    assert logged.metrics == plain.metrics  # tracing the graph in eval mode changes nothing in the run
    assert "epoch/train_loss" in events(tmp_path / "logged" / "tb").Tags()["scalars"]
    assert not (tmp_path / "plain" / "tb").exists()


def test_a_graph_that_cannot_be_traced_is_one_note_and_the_rest_is_written(tmp_path, monkeypatch, caplog):
    from torch.utils.tensorboard import SummaryWriter

    def refuse(self, model, *args, **kwargs):
        raise RuntimeError("tracer says no\nsecond line")

    monkeypatch.setattr(SummaryWriter, "add_graph", refuse)
    job = make_job({"instrumentation": {**SAMPLED, "tensorboard": str(tmp_path / "tb")}})
    assert Trainer(job).run().status is Status.FINISHED
    notes = [r.getMessage() for r in caplog.records if "could not be traced" in r.getMessage()]
    assert notes == ["warning: tensorboard: the graph could not be traced (RuntimeError: tracer says no); scalars "
                     "and histograms are still written"]
    log = events(tmp_path / "tb")
    assert "epoch/train_loss" in log.Tags()["scalars"] and log.Tags()["graph"] is False


def test_missing_extra_is_one_line_with_the_install_command_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tensorboard_log, "missing_extra", lambda: f"TensorBoard is not installed; "
                        f"{tensorboard_log.EXTRA}")
    path = write_project(tmp_path)
    code = main(["train", str(path), "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1] == 'nnstudio train: --tensorboard: TensorBoard is not installed; pip install "nnstudio[tensorboard]"'
    assert not (tmp_path / "tb").exists()


def test_the_engine_refuses_the_setting_without_the_extra(monkeypatch):
    monkeypatch.setattr(tensorboard_log, "missing_extra", lambda: "TensorBoard is not installed; x")
    result = Trainer(make_job({"instrumentation": {"tensorboard": "tb"}})).run()
    assert result.status is Status.FAILED
    assert "training.instrumentation.tensorboard: TensorBoard is not installed" in result.message


def test_a_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    path = write_project(tmp_path)
    code = main(["train", str(path), "--out", str(tmp_path / "run"), "--tensorboard", str(blocker / "tb")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"nnstudio train: --tensorboard: cannot make {blocker / 'tb'}") and "\n" not in err
