"""`nnstudio train` and `nnstudio evaluate`: exit codes, metrics files, checkpoints, resume and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnstudio.cli import main
from nnstudio.io import load, save
from nnstudio.model.builder import GraphBuilder

ROOT = Path(__file__).resolve().parents[2]


def write_project(tmp_path: Path, training: dict | None = None, dataset: dict | None = None,
                  width: int = 16, name: str = "p") -> Path:
    b = GraphBuilder(name="cli")
    b.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": width}), "ReLU",
                 ("Linear", {"out_features": 2}), "Output")
    b.project.dataset = dataset or {"name": "moons", "params": {"samples": 200}, "val_fraction": 0.2,
                                    "test_fraction": 0.1}
    b.project.training = {"epochs": 2, "batch_size": 32, "optimizer": {"lr": 0.01}, **(training or {})}
    path = tmp_path / f"{name}.nnstudio"
    save(b.project, path)
    return path


def test_train_finishes_with_exit_0_metrics_lines_and_checkpoints(tmp_path, capsys):
    path = write_project(tmp_path, {"instrumentation": {"loss_every": 2}})
    out, metrics = tmp_path / "run", tmp_path / "metrics.jsonl"
    code = main(["train", str(path), "--epochs", "3", "--out", str(out), "--metrics", str(metrics)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "finished after 3 epoch(s)" in captured.out and "val_accuracy" in captured.out
    assert "test_accuracy" in captured.out
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 3
    assert kinds.count("step") >= 3 and all("loss" in r for r in records if r["kind"] == "step")
    assert "epoch 3/3" in captured.err  # plain progress lines when stderr is not a terminal
    last = out / "checkpoints" / "last"
    saved = load(last / "project.nnstudio")
    assert saved.training["epochs"] == 3  # the copy carries the settings actually used
    assert (last / "model.safetensors").exists()


def test_json_output(tmp_path, capsys):
    path = write_project(tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "finished" and result["epochs"] == 2 and "val_loss" in result["metrics"]


@pytest.mark.parametrize(("args", "training", "expected"), [
    (["--lr", "-1"], None, "nnstudio train: training.optimizer.lr: expected a number > 0, got -1.0"),
    (["--batch-size", "0"], None, "nnstudio train: training.batch_size: expected an integer >= 1, got 0"),
    ([], {"loss": {"name": "bce"}}, "nnstudio train: training.loss.name: the task is classification"),
    ([], {"precision": "fp16", "device": "cpu"}, "nnstudio train: training.precision: 'fp16' needs a CUDA GPU"),
])
def test_bad_settings_exit_2_with_one_line_naming_the_setting(tmp_path, capsys, args, training, expected):
    path = write_project(tmp_path, training)
    assert main(["train", str(path), "--out", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err


def test_bad_data_and_shape_mismatch_exit_2(tmp_path, capsys):
    path = write_project(tmp_path, dataset={"name": "csv", "params": {"path": "missing.csv", "target": "y"}})
    assert main(["train", str(path)]) == 2
    assert "missing.csv" in capsys.readouterr().err
    path = write_project(tmp_path, dataset={"name": "blobs", "params": {"classes": 4}})
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert "the dataset has 4 classes" in err and "[N, 2]" in err


def test_missing_project_file_exit_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.nnstudio")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_divergence_exits_1_naming_a_node(tmp_path, capsys):
    path = write_project(tmp_path, {"optimizer": {"name": "sgd"}, "instrumentation": {"loss_every": 1},
                                    "health": {"divergence_factor": 0}})  # the non-finite check alone
    assert main(["train", str(path), "--lr", "1e6", "--epochs", "20", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "training failed: training diverged" in err and "node 'linear" in err


def test_resume_continues_from_a_checkpoint(tmp_path, capsys):
    path = write_project(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "3", "--out", str(run),
                 "--resume", str(run / "checkpoints" / "last")]) == 0
    assert "finished after 3 epoch(s)" in capsys.readouterr().out
    assert json.loads((run / "checkpoints" / "last" / "checkpoint.json").read_text())["epoch"] == 3


def test_resume_from_a_bad_checkpoint_exits_2(tmp_path, capsys):
    path = write_project(tmp_path)
    assert main(["train", str(path), "--resume", str(tmp_path)]) == 2
    assert "not a checkpoint folder" in capsys.readouterr().err


def test_evaluate_prints_test_metrics_and_a_confusion_matrix(tmp_path, capsys):
    path = write_project(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(run / "checkpoints" / "best")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test split, 20 samples") and "accuracy" in out
    assert "confusion matrix (rows: true class, columns: predicted class)" in out
    assert main(["evaluate", str(path), "--checkpoint", str(run / "checkpoints" / "last"), "--json",
                 "--split", "val"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "val" and sum(map(sum, report["confusion_matrix"])) == report["samples"]


def test_evaluate_refuses_a_missing_or_mismatched_checkpoint(tmp_path, capsys):
    path = write_project(tmp_path)
    assert main(["evaluate", str(path), "--checkpoint", str(tmp_path / "none")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run)]) == 0
    other = write_project(tmp_path, width=8, name="other")
    capsys.readouterr()
    assert main(["evaluate", str(other), "--checkpoint", str(run / "checkpoints" / "last")]) == 2
    assert "weights do not match" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_saves_a_checkpoint(tmp_path):
    path = write_project(tmp_path, {"epochs": 100000, "instrumentation": {"loss_every": 1}})
    metrics, out = tmp_path / "m.jsonl", tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "nnstudio", "train", str(path), "--out", str(out),
                                "--metrics", str(metrics)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and '"kind": "step"' not in (metrics.read_text() if metrics.exists() else ""):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "stopping after this step" in stderr and "stopped on request" in stdout
    info = json.loads((out / "checkpoints" / "last" / "checkpoint.json").read_text())
    assert info["step"] >= 1
    assert json.loads(metrics.read_text().splitlines()[-1])["status"] == "stopped"


class Terminal:
    """A text stream that claims to be a terminal, so the progress bar is drawn."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_with_loss_and_eta():
    pytest.importorskip("tqdm")
    from nnstudio.cli.train import Progress
    from nnstudio.training import Trainer
    from tests.training.helpers import make_job

    trainer = Trainer(make_job({"epochs": 3, "instrumentation": {"enabled": True, "loss_every": 1}}))
    terminal = Terminal()
    progress = Progress(trainer, terminal)
    trainer.run()
    progress.close()
    assert progress.bar is not None and progress.bar.n == 9  # 48 samples / 16 = 3 steps × 3 epochs
    assert "epoch 3" in terminal.text and "val_loss=" in terminal.text and "<" in terminal.text  # tqdm's ETA


def test_threads_option_is_applied(tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["train", str(write_project(tmp_path)), "--threads", "1", "--out", str(tmp_path / "r")]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def trained(tmp_path: Path, capsys, **training) -> tuple[Path, Path]:
    """A project trained for one epoch at lr 0.01; returns it and its run folder."""
    path = write_project(tmp_path, {"optimizer": {"name": "sgd", "lr": 0.01}, **training})
    run = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    return path, run


def test_resume_with_lr_applies_the_new_rate_and_says_so(tmp_path, capsys):
    import torch

    path, run = trained(tmp_path, capsys)
    last = run / "checkpoints" / "last"
    assert main(["train", str(path), "--epochs", "2", "--out", str(run), "--resume", str(last),
                 "--lr", "0.05"]) == 0
    assert "learning rate overridden: 0.05 (checkpoint had 0.01)" in capsys.readouterr().err.splitlines()
    state = torch.load(last / "trainer_state.pt", weights_only=True)
    assert [group["lr"] for group in state["optimizer"]["param_groups"]] == [0.05]
    epochs = [r for r in json.loads((last / "history.json").read_text())["records"] if r["kind"] == "epoch"]
    assert [r["lr"] for r in epochs] == [0.01, 0.05]


def test_resume_lr_is_refused_for_a_recipe_with_rates_of_its_own(tmp_path, capsys):
    from nnstudio.examples import example_path

    run = tmp_path / "gan"
    assert main(["train", str(example_path("gan_ring")), "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", str(example_path("gan_ring")), "--epochs", "2", "--out", str(run), "--lr", "0.1",
                 "--resume", str(run / "checkpoints" / "last")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["nnstudio train: --lr: the gan recipe keeps its own learning rates in the checkpoint; resume "
                   "without --lr"]


@pytest.mark.parametrize("where", ["file", "under_a_file"])
def test_an_unwritable_out_exits_2_before_anything_trains(tmp_path, capsys, where):
    path = write_project(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    out = blocker if where == "file" else blocker / "run"
    metrics = tmp_path / "m.jsonl"
    assert main(["train", str(path), "--out", str(out), "--metrics", str(metrics)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"nnstudio train: {out}")
    assert ("not a folder" if where == "file" else "cannot write checkpoints there (Not a directory)") in err[0]
    assert not metrics.exists()  # nothing started


@pytest.mark.parametrize(("damage", "expected"), [
    ("state", "trainer_state.pt: epoch: expected an integer from 0 to 1000000, got 1000001"),
    ("history", "history.json: unreadable"),
])
def test_a_checkpoint_that_cannot_be_resumed_exits_2_with_one_line(tmp_path, capsys, damage, expected):
    import torch

    path, run = trained(tmp_path, capsys)
    last = run / "checkpoints" / "last"
    if damage == "state":
        state = torch.load(last / "trainer_state.pt", weights_only=True)
        torch.save({**state, "epoch": 10**6 + 1, "step": -5}, last / "trainer_state.pt")
    else:
        (last / "history.json").write_text('{"format": "nnstudio.history", "records": [')
    assert main(["train", str(path), "--out", str(run), "--resume", str(last), "--epochs", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"nnstudio train: {last}") and expected in err[0], err


def test_a_crafted_epoch_within_the_bounds_is_refused_by_the_run_s_epochs(tmp_path, capsys):
    import torch

    path, run = trained(tmp_path, capsys)
    last = run / "checkpoints" / "last"
    state = torch.load(last / "trainer_state.pt", weights_only=True)
    torch.save({**state, "epoch": 10**6, "step": 10**6}, last / "trainer_state.pt")
    assert main(["train", str(path), "--out", str(run), "--resume", str(last), "--epochs", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nnstudio train: {last / 'trainer_state.pt'}: epoch: 1000000 is past the 3 epoch(s) this run "
                   "is set to (training.epochs); resume with --epochs 1000000 or more"]


def test_resume_past_the_configured_epochs_exits_2(tmp_path, capsys):
    path, run = trained(tmp_path, capsys)
    last = run / "checkpoints" / "last"
    assert main(["train", str(path), "--out", str(run), "--resume", str(last), "--epochs", "2"]) == 0
    capsys.readouterr()
    assert main(["train", str(path), "--out", str(run), "--resume", str(last), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nnstudio train: {last / 'trainer_state.pt'}: epoch: 2 is past the 1 epoch(s) this run is set "
                   "to (training.epochs); resume with --epochs 2 or more"]


def test_resume_recovers_a_last_that_an_interrupted_save_left_missing(tmp_path, capsys):
    path, run = trained(tmp_path, capsys)
    last = run / "checkpoints" / "last"
    last.rename(run / "checkpoints" / ".last.new-999999999")  # a crash between the two renames of a swap
    assert main(["train", str(path), "--epochs", "2", "--out", str(run), "--resume", str(last)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"warning: {last}: recovered from .last.new-999999999 (the checkpoint being saved), left by a save " \
           "that was interrupted" in err
    assert json.loads((last / "checkpoint.json").read_text())["epoch"] == 2
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]


def test_distributed_errors_are_ours_and_come_first(tmp_path, capsys, monkeypatch):
    from nnstudio.examples import example_path
    from nnstudio.training.distributed import ENV_VARS

    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    assert main(["train", str(example_path("gan_ring")), "--distributed"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnstudio train: training.recipe: the gan recipe does not run "
                                               "under --distributed"), err
    path = write_project(tmp_path)
    assert main(["train", str(path), "--distributed", "--dist-timeout", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "nnstudio train: --dist-timeout: expected a number of seconds > 0, got '0'"]
