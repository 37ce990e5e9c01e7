"""Distributed training: the sampler, launch errors, stop agreement and exact resume (one rank, in process),
and real 2-process gloo runs under torchrun compared with a one-process run on the same global batches.

Tolerance of the 2-process comparison: atol 1e-5 on every weight. DDP averages the ranks' gradients and each
rank averages its loss over an equal-sized half of the global batch, so the arithmetic is the one-process
arithmetic up to the order of float additions (about 1e-7 relative per step). Over these few dozen SGD steps
the observed gap is ~1e-7, two orders of magnitude inside the bound. (Adam is left out on purpose: it divides
each gradient entry by its own running magnitude, which turns rounding noise in a near-zero entry into a
full-size step, so its bound would have to be loose.)
"""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest
import torch
from torch.utils.data import DistributedSampler

from nnstudio.cli.main import main
from nnstudio.compile.weights import read_state_dict
from nnstudio.io.project_file import load, save
from nnstudio.training import Event, Status, Trainer, load_checkpoint, prepare
from nnstudio.training.distributed import (
    ENV_VARS,
    RANKS_FILE,
    STOP_CHECK_EVERY,
    DistributedTrainer,
    LaunchError,
    batch_problem,
    launch_env,
    session,
    shard_order,
)
from nnstudio.training.objective import field_args
from tests.training.distributed_helpers import (
    ROOT,
    SGD,
    finish,
    objective_project,
    reference_run,
    torchrun,
    write_project,
)
from tests.training.helpers import blobs, make_job


@pytest.mark.parametrize(("count", "world", "epoch"), [(10, 2, 0), (11, 3, 4), (2, 5, 1), (97, 4, 7)])
def test_shard_order_is_what_distributed_sampler_yields(count, world, epoch):
    shards = []
    for rank in range(world):
        sampler = DistributedSampler(range(count), world, rank, shuffle=True, seed=3)
        sampler.set_epoch(epoch)
        ours = shard_order(count, world, rank, 3, epoch)
        assert ours.tolist() == list(sampler)
        shards.append(ours)
    assert {int(i) for shard in shards for i in shard} == set(range(count))  # every sample, some twice


def test_every_epoch_is_shuffled_anew():
    orders = {tuple(shard_order(97, 4, 1, 0, epoch).tolist()) for epoch in range(5)}
    assert len(orders) == 5


def test_global_batch_must_split_evenly():
    assert batch_problem(64, 4) is None
    assert batch_problem(30, 4) == ("training.batch_size: 30 does not split evenly over 4 processes; with "
                                    "--distributed it is the global batch (each process takes batch_size / 4), "
                                    "so use a multiple of 4, e.g. 28")


def test_launch_env_reads_torchrun_variables():
    env = launch_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "h", "MASTER_PORT": "1"})
    assert (env.rank, env.world_size, env.local_rank) == (1, 2, 1)
    with pytest.raises(LaunchError, match="inconsistent"):
        launch_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "1"})


def test_distributed_without_torchrun_exits_2_saying_how_to_launch(tmp_path, capsys, monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    path = write_project(tmp_path)
    assert main(["train", str(path), "--distributed"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--distributed needs the environment torchrun sets up" in err[0]
    assert "torchrun --nproc_per_node=N -m nnstudio train FILE --distributed" in err[0]


# --- one rank in this process: the agreement and checkpoint machinery without a launcher ----------------
@pytest.fixture
def one_rank(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    with session(launch_env(), "cpu") as joined:
        yield joined
    assert not torch.distributed.is_initialized()


def dropout_job():
    training = {"epochs": 3, "batch_size": 16, "optimizer": SGD, "schedule": {"name": "cosine"},
                "instrumentation": {"enabled": True, "loss_every": 2, "grads_every": 3, "activations_every": 4}}
    return make_job(training, data=blobs(n=88), dropout=0.3)  # 44 training samples: 3 steps per epoch


def test_a_stop_is_agreed_at_a_check_and_the_run_resumes_bit_for_bit(one_rank, tmp_path):
    whole = DistributedTrainer(dropout_job(), one_rank, tmp_path / "whole")
    assert whole.run().status is Status.FINISHED

    first = DistributedTrainer(dropout_job(), one_rank, tmp_path / "split")
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 3 else None)
    stopped = first.run()
    # the request after step 3 waits for the next agreement (every STOP_CHECK_EVERY step boundaries)
    assert stopped.status is Status.STOPPED and 3 < stopped.step <= 3 + STOP_CHECK_EVERY
    checkpoint = load_checkpoint(tmp_path / "split" / "checkpoints" / "last")
    assert not checkpoint.info["epoch_complete"] and (checkpoint.path / RANKS_FILE).exists()
    with pytest.raises(RuntimeError, match="cannot pause"):
        first.pause()

    second = DistributedTrainer(dropout_job(), one_rank, tmp_path / "split")
    second.restore(checkpoint)
    assert second.run().status is Status.FINISHED
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key


def test_a_multi_loss_run_stops_and_resumes_bit_for_bit_with_its_term_sums(one_rank, tmp_path):
    """The loss sum is the vector [total, term …]: rank states keep it as a list and a resume restores it."""
    training = {"epochs": 2, "schedule": {"name": "cosine"}}
    whole = DistributedTrainer(prepare(objective_project(training)), one_rank, tmp_path / "whole")
    assert whole.run().status is Status.FINISHED

    first = DistributedTrainer(prepare(objective_project(training)), one_rank, tmp_path / "split")
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 3 else None)
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "split" / "checkpoints" / "last")
    ranks = torch.load(checkpoint.path / RANKS_FILE, weights_only=True)["ranks"]
    assert len(ranks[0]["loss_sum"]) == 4 and ranks[0]["loss_sum"][0] > 0  # total, ce, distill, sparse

    second = DistributedTrainer(prepare(objective_project(training)), one_rank, tmp_path / "split")
    second.restore(checkpoint)
    assert second.state.loss_sum.tolist() == pytest.approx(ranks[0]["loss_sum"], rel=0, abs=0)
    assert second.run().status is Status.FINISHED
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    assert [r["train_loss_distill"] for r in second.history.records("epoch")] == \
        [r["train_loss_distill"] for r in whole.history.records("epoch")]


# --- two processes under torchrun -------------------------------------------------------------------
@pytest.mark.slow
def test_two_processes_match_one_on_the_global_batch_and_resume_on_one(tmp_path, capsys):
    path, run, metrics = write_project(tmp_path), tmp_path / "run", tmp_path / "m.jsonl"
    code, out, err = finish(torchrun(["-m", "nnstudio", "train", str(path), "--distributed", "--out", str(run),
                                      "--metrics", str(metrics)], tmp_path))
    assert code == 0, err
    assert out.count("finished after 3 epoch(s)") == 1  # rank 0 alone reports
    job = prepare(load(path), tmp_path)
    reference = reference_run(job, world=2, epochs=3, lr=SGD["lr"], momentum=SGD["momentum"])

    saved = read_state_dict(run / "checkpoints" / "last")
    assert saved.keys() == reference.state.keys()  # plain names: no DDP "module." prefix
    for key, value in reference.state.items():
        torch.testing.assert_close(saved[key], value, rtol=0, atol=1e-5, msg=key)

    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["kind"] for r in records].count("start") == 1  # one writer: rank 0
    steps = [r for r in records if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(2, len(reference.step_losses) + 1, 2))
    for record in steps:  # losses and accuracies are the global batch's, averaged over both ranks
        assert record["loss"] == pytest.approx(reference.step_losses[record["step"] - 1], rel=1e-4)
        assert record["accuracy"] == pytest.approx(reference.step_accuracies[record["step"] - 1], abs=1e-6)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["train_loss"] for r in epochs] == pytest.approx(reference.epoch_losses, rel=1e-4)
    val = job.data.val
    with torch.no_grad():
        reference.model.eval()
        output = reference.model(val.x)
    assert epochs[-1]["val_loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(output, val.y)),
                                                   rel=1e-4)
    assert epochs[-1]["val_accuracy"] == pytest.approx(float((output.argmax(-1) == val.y).float().mean()))

    checkpoint = load_checkpoint(run / "checkpoints" / "last")  # resumes on ONE process
    trainer = Trainer(prepare(load(path), tmp_path))
    trainer.restore(checkpoint)
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert main(["train", str(path), "--resume", str(checkpoint.path), "--epochs", "4",
                 "--out", str(tmp_path / "one")]) == 0
    assert "finished after 4 epoch(s)" in capsys.readouterr().out
    resumed = load_checkpoint(tmp_path / "one" / "checkpoints" / "last")
    assert resumed.step == checkpoint.step * 4 // 3
    assert [r["epoch"] for r in resumed.history.records("epoch")] == [1, 2, 3, 4]


@pytest.mark.slow
def test_a_multi_loss_graph_trains_on_two_processes_like_one_on_the_global_batch(tmp_path):
    """ce + 0.5·distill + 0.01·sparse: the term curves are means over both ranks, validation is scored by the
    objective, and the teacher that no gradient reaches (DDP's unused parameters) stays as initialised."""
    project = objective_project()
    path, run, metrics = tmp_path / "distilled.nnstudio", tmp_path / "run", tmp_path / "m.jsonl"
    save(project, path)
    code, out, err = finish(torchrun(["-m", "nnstudio", "train", str(path), "--distributed", "--out", str(run),
                                      "--metrics", str(metrics)], tmp_path))
    assert code == 0, err
    assert out.count("finished after 3 epoch(s)") == 1
    job = prepare(load(path), tmp_path)
    reference = reference_run(job, world=2, epochs=3, lr=SGD["lr"], momentum=SGD["momentum"])

    saved = read_state_dict(run / "checkpoints" / "last")
    assert saved.keys() == reference.state.keys()  # the whole network, teacher included, without "module."
    for key, value in reference.state.items():
        torch.testing.assert_close(saved[key], value, rtol=0, atol=1e-5, msg=key)
    assert torch.equal(saved["teacher.weight"], job.compiled.network.state_dict()["teacher.weight"])

    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(2, len(reference.step_losses) + 1, 2))
    names = job.compiled.plan.term_names
    for record in steps:  # the global batch's total and terms, averaged over both ranks
        assert record["loss"] == pytest.approx(reference.step_losses[record["step"] - 1], rel=1e-4)
        assert [record["terms"][n] for n in names] == pytest.approx(reference.step_terms[record["step"] - 1],
                                                                    rel=1e-4)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["train_loss"] for r in epochs] == pytest.approx(reference.epoch_losses, rel=1e-4)
    for record, means in zip(epochs, reference.epoch_terms):
        assert [record[f"train_loss_{n}"] for n in names] == pytest.approx(means, rel=1e-4)
    val = job.data.val
    with torch.no_grad():
        reference.network.eval()
        total, terms, predictions, _ = reference.network(*field_args(job.compiled.plan, val.x, val.y))
    assert epochs[-1]["val_loss"] == pytest.approx(float(total), rel=1e-4)
    assert [epochs[-1][f"val_loss_{n}"] for n in names] == pytest.approx([float(t) for t in terms], rel=1e-4)
    assert epochs[-1]["val_accuracy"] == pytest.approx(float((predictions[0].argmax(-1) == val.y).float().mean()))

    trainer = Trainer(prepare(load(path), tmp_path))  # the 2-process checkpoint resumes on ONE process
    trainer.restore(load_checkpoint(run / "checkpoints" / "last"))
    assert trainer.state.loss_sum.shape == (1 + len(names),)
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(value, saved[key]), key


@pytest.mark.slow
def test_divergence_stops_every_process_and_the_launch_fails(tmp_path):
    path = write_project(tmp_path, {"optimizer": {"name": "sgd", "lr": 1e6},
                                    "instrumentation": {"loss_every": 1}})
    code, out, err = finish(torchrun(["-m", "nnstudio", "train", str(path), "--distributed", "--out",
                                      str(tmp_path / "run")], tmp_path))
    assert code != 0
    assert "nnstudio train: training failed: training diverged at epoch 1" in err
    assert "finished" not in out


@pytest.mark.slow
def test_ctrl_c_on_torchrun_stops_every_rank_at_one_step_with_a_checkpoint(tmp_path):
    path, run, metrics = write_project(tmp_path, {"epochs": 100000}), tmp_path / "run", tmp_path / "m.jsonl"
    process = torchrun(["-m", "nnstudio", "train", str(path), "--distributed", "--out", str(run),
                        "--metrics", str(metrics)], tmp_path)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and '"kind": "step"' not in (
                metrics.read_text() if metrics.exists() else ""):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)  # what Ctrl-C in torchrun's terminal does; it passes it on
    finally:
        code, out, err = finish(process)
    assert "stopping at a step boundary all processes agree on" in err
    assert "stopped on request" in out
    info = json.loads((run / "checkpoints" / "last" / "checkpoint.json").read_text())
    assert info["step"] >= 1
    assert json.loads(metrics.read_text().splitlines()[-1])["status"] == "stopped"
    assert code != 0  # torchrun reports workers that exited with 130


def test_docs_give_the_launch_commands_and_the_batch_rule(capsys):
    text = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    for needle in ("torchrun --standalone --nproc_per_node=4 -m nnstudio train my.nnstudio --distributed",
                   "--rdzv_endpoint=node0.example.com:29400", "--node_rank=1", "**global** batch",
                   "Validation is sharded and reduced", "torchrun --standalone --nproc_per_node=2 train.py"):
        assert needle in text, needle
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "GLOBAL batch" in " ".join(capsys.readouterr().out.split())
