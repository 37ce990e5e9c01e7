"""The engine: events and filters, cooperative stop/pause from another thread, the fast path's exactness,
instrumentation records, divergence reports and early stopping."""

from __future__ import annotations

import threading

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from nnstudio.compile import build_module
from nnstudio.training import Event, Status, Trainer
from tests.training.helpers import blobs, line, make_job

INSTRUMENTED = {"instrumentation": {"enabled": True, "loss_every": 2, "grads_every": 3, "activations_every": 4}}


def hand_written(job, epochs: int, lr: float) -> torch.nn.Module:
    """The plain PyTorch loop the engine must reproduce exactly."""
    model = build_module(job.project).module
    torch.manual_seed(job.settings.seed)
    data = job.data.train
    loader = DataLoader(TensorDataset(data.x, data.y), batch_size=job.settings.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(job.settings.seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    crit = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
    return model


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("instrumentation", [{"enabled": False}, INSTRUMENTED["instrumentation"]])
def test_run_is_bitwise_equal_to_a_hand_written_loop(instrumentation):
    # dropout makes the global RNG part of the comparison; 40 samples / 16 leaves a partial last batch
    training = {"epochs": 3, "optimizer": {"name": "adam", "lr": 0.01}, "instrumentation": instrumentation}
    job = make_job(training, data=blobs(n=80), dropout=0.2)
    result = Trainer(job).run()
    assert result.status is Status.FINISHED
    assert_same_weights(job.compiled.module, hand_written(job, epochs=3, lr=0.01))


def test_events_fire_in_order_with_every_filters():
    job = make_job({"epochs": 4, "batch_size": 16})  # 48 train samples: 3 steps per epoch
    trainer = Trainer(job)
    seen: list[tuple[str, int, int]] = []
    for event in (Event.STARTED, Event.EPOCH_STARTED, Event.EPOCH_ENDED, Event.VALIDATED, Event.FINISHED):
        trainer.on(event, lambda info: seen.append((info.event.value, info.epoch, info.step)))
    steps: list[int] = []
    trainer.on(Event.STEP, lambda info: steps.append(info.step), every=5)
    every_other: list[int] = []
    trainer.on(Event.EPOCH_ENDED, lambda info: every_other.append(info.epoch), every=2)
    assert trainer.run().status is Status.FINISHED
    assert seen[0] == ("started", 0, 0)
    assert seen[1:5] == [("epoch_started", 1, 0), ("validated", 1, 3), ("epoch_ended", 1, 3),
                         ("epoch_started", 2, 3)]
    assert seen[-1] == ("finished", 4, 12)
    assert steps == [5, 10]
    assert every_other == [2, 4]


def test_detached_handler_no_longer_fires():
    trainer = Trainer(make_job({"epochs": 2}))
    calls: list[int] = []
    detach = trainer.on(Event.EPOCH_ENDED, lambda info: calls.append(info.epoch))
    trainer.on(Event.EPOCH_STARTED, lambda info: detach() if info.epoch == 2 else None)
    trainer.run()
    assert calls == [1]


def test_step_events_carry_the_loss_only_on_sampled_steps():
    job = make_job({"epochs": 1, "instrumentation": {"enabled": True, "loss_every": 2}})
    trainer = Trainer(job)
    losses: dict[int, float | None] = {}
    trainer.on(Event.STEP, lambda info: losses.__setitem__(info.step, info.loss))
    trainer.run()
    assert losses[1] is None and losses[3] is None
    assert isinstance(losses[2], float) and losses[2] > 0


def test_stop_requested_from_another_thread_ends_at_a_step_boundary():
    job = make_job({"epochs": 1000, "batch_size": 8})
    trainer = Trainer(job)
    reached = threading.Event()
    trainer.on(Event.STEP, lambda info: reached.set(), every=20)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("result", trainer.run()))
    worker.start()
    assert reached.wait(60)
    trainer.request_stop()
    worker.join(60)
    result = outcome["result"]
    assert result.status is Status.STOPPED and trainer.status is Status.STOPPED
    assert 20 <= result.step < 1000 * 6
    assert result.message == "stopped on request"


def test_pause_and_resume_from_another_thread():
    job = make_job({"epochs": 1000, "batch_size": 8})
    trainer = Trainer(job)
    paused, resumed, stepping = threading.Event(), threading.Event(), threading.Event()
    trainer.on(Event.PAUSED, lambda info: paused.set())
    trainer.on(Event.RESUMED, lambda info: resumed.set())
    trainer.on(Event.STEP, lambda info: stepping.set(), every=10)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert stepping.wait(60)
    trainer.pause()
    assert paused.wait(60)
    step_while_paused = trainer.state.step
    assert trainer.status is Status.PAUSED
    assert not resumed.wait(0.2)
    assert trainer.state.step == step_while_paused  # nothing ran while paused
    stepping.clear()
    trainer.resume()
    assert resumed.wait(60) and stepping.wait(60)
    assert trainer.state.step > step_while_paused
    trainer.request_stop()
    worker.join(60)
    assert trainer.status is Status.STOPPED


def test_stop_while_paused_ends_the_run():
    trainer = Trainer(make_job({"epochs": 1000, "batch_size": 8}))
    paused = threading.Event()
    trainer.on(Event.STEP, lambda info: trainer.pause(), every=5)
    trainer.on(Event.PAUSED, lambda info: paused.set())
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert paused.wait(60)
    trainer.request_stop()
    worker.join(60)
    assert not worker.is_alive() and trainer.status is Status.STOPPED


def test_default_instrumentation_records_per_layer_metrics_by_node_id():
    job = make_job({"epochs": 2, **INSTRUMENTED})
    trainer = Trainer(job)
    trainer.run()
    history = trainer.history
    layer_ids = {n for n, spec in job.compiled.modules_of.items() if spec}
    linear_ids = {n for n, t in job.types.items() if t == "Linear"}
    grads = history.records("grads")
    assert [r["step"] for r in grads] == [3, 6]
    assert set(grads[0]["layers"]) == linear_ids  # only nodes with weights have gradients
    per_layer = torch.tensor(list(grads[0]["layers"].values()))
    assert grads[0]["global_norm"] == pytest.approx(float(per_layer.square().sum().sqrt()), rel=1e-5)
    acts = history.records("activations")
    assert [r["step"] for r in acts] == [4]
    assert set(acts[0]["layers"]) == layer_ids
    relu = next(n for n, t in job.types.items() if t == "ReLU")
    stats = acts[0]["layers"][relu]
    assert 0 < stats["zero_fraction"] < 1 and stats["hist"]["lo"] == 0.0
    assert sum(stats["hist"]["counts"]) == 16 * 16  # batch × width
    assert len(history.records("weights")) == 2
    steps = history.series("step/loss")
    assert steps.steps == [2, 4, 6]
    epoch = history.records("epoch")[-1]
    assert {"train_loss", "val_loss", "val_accuracy", "lr", "samples_per_s"} <= epoch.keys()
    assert history.records("start")[0]["layers"][relu] == job.names[relu]


def test_regression_metrics():
    job = make_job({"epochs": 30, "batch_size": 16, "optimizer": {"lr": 0.02}}, data=line(), outputs=1, inputs=1)
    result = Trainer(job).run()
    assert result.status is Status.FINISHED
    assert {"val_rmse", "val_mae", "val_r2"} <= result.metrics.keys()
    assert result.metrics["val_r2"] > 0.9


def test_non_finite_loss_fails_naming_a_graph_node():
    job = make_job({"epochs": 5, "optimizer": {"name": "sgd", "lr": 1e6},  # without health.divergence_factor
                    "instrumentation": {"enabled": True, "loss_every": 1}, "health": {"divergence_factor": 0}})
    trainer = Trainer(job)
    failures = []
    trainer.on(Event.FAILED, failures.append)
    result = trainer.run()
    assert result.status is Status.FAILED and trainer.status is Status.FAILED
    assert "diverged" in result.message and "lower learning rate" in result.message
    assert result.node_id in job.names
    assert f"node '{job.names[result.node_id]}'" in result.message
    assert failures and failures[0].node_id == result.node_id


def test_non_finite_loss_is_caught_at_epoch_end_without_instrumentation():
    job = make_job({"epochs": 5, "optimizer": {"name": "sgd", "lr": 1e6}})
    result = Trainer(job).run()
    assert result.status is Status.FAILED
    assert "diverged" in result.message and result.node_id in job.names


def test_a_failing_handler_fails_the_run_with_its_message():
    trainer = Trainer(make_job())

    def broken(info):
        raise RuntimeError("plot window closed")

    trainer.on(Event.EPOCH_ENDED, broken)
    result = trainer.run()
    assert result.status is Status.FAILED
    assert "plot window closed" in result.message


def test_early_stopping_restores_the_best_weights():
    training = {"epochs": 200, "optimizer": {"lr": 0.05},
                "early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 2, "min_delta": 0.5}}
    job = make_job(training)
    trainer = Trainer(job)
    best_state = {}

    def remember(info):
        if trainer.monitor.best_epoch == info.epoch:
            best_state.update({k: v.clone() for k, v in trainer.module.state_dict().items()})

    trainer.on(Event.EPOCH_ENDED, remember)
    result = trainer.run()
    assert result.status is Status.FINISHED
    assert result.epochs < 200 and "early stopping" in result.message
    assert result.epochs == result.best["epoch"] + 2
    for key, value in trainer.module.state_dict().items():
        assert torch.equal(value, best_state[key])


def test_test_split_is_scored_at_the_end():
    result = Trainer(make_job({"epochs": 3, "optimizer": {"lr": 0.05}}, data=blobs(test=True))).run()
    assert {"test_loss", "test_accuracy"} <= result.metrics.keys()


def test_a_failure_while_setting_up_still_fires_failed():
    job = make_job()
    job.settings.optimizer.name = "lbfgs"  # bypasses validation on purpose: setup itself must fail cleanly
    trainer = Trainer(job)
    failures = []
    trainer.on(Event.FAILED, failures.append)
    result = trainer.run()
    assert result.status is Status.FAILED and "unknown optimizer 'lbfgs'" in result.message
    assert failures and failures[0].epoch == 0
    assert trainer.history.records("end")[0]["status"] == "failed"
