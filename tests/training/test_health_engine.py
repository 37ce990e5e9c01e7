"""training.health inside the engine: divergence stops a run without writing the diverged weights, findings
reach the history and the result, stop_on_findings ends a run, and short runs get activation samples."""

from __future__ import annotations

from nnstudio.training.engine import Trainer
from nnstudio.training.events import Status
from tests.training.helpers import line, make_job

SAMPLED = {"instrumentation": {"enabled": True, "loss_every": 1, "grads_every": 0}}


def test_an_exploding_but_finite_loss_fails_the_run_before_any_checkpoint(tmp_path):
    # SGD at lr 10 on a regression multiplies the loss by about 300 a step: finite for 9 steps, then inf
    job = make_job(
        {**SAMPLED, "epochs": 3, "batch_size": 8, "optimizer": {"name": "sgd", "lr": 10.0}},
        data=line(),
        inputs=1,
        outputs=1,
    )
    trainer = Trainer(job, out_dir=tmp_path)
    result = trainer.run()
    assert result.status is Status.FAILED and result.node_id is None
    assert (
        "training diverged at epoch 1" in result.message and "Lower the learning rate (e.g. by 10×)" in result.message
    )
    assert "input scaling" in result.message and "gradient clipping" in result.message
    assert result.step == 4 and "3 samples in a row" in result.message  # step 1: the baseline; 2, 3, 4 above it
    assert not (tmp_path / "checkpoints" / "last").exists()
    assert trainer.history.records("end")[-1]["status"] == "failed"
    # the step that crossed the line is not logged: its loss is in the message
    assert [r["step"] for r in trainer.history.records("step")] == list(range(1, result.step))


def test_divergence_factor_0_leaves_the_same_run_to_the_non_finite_check():
    training = {**SAMPLED, "epochs": 3, "batch_size": 8, "optimizer": {"name": "sgd", "lr": 10.0}}
    result = Trainer(make_job({**training, "health": {"divergence_factor": 0}}, data=line(), inputs=1, outputs=1)).run()
    assert result.status is Status.FAILED and result.step > 4  # it ran on until the loss overflowed
    assert "first non-finite value" in result.message and "above" not in result.message


def test_step_1_is_fetched_for_the_baseline_but_not_logged():
    job = make_job({"epochs": 3, "instrumentation": {"enabled": True, "loss_every": 2, "grads_every": 0}})
    trainer = Trainer(job)
    assert trainer.run().ok
    logged = [r["step"] for r in trainer.history.records("step")]
    assert logged == list(range(2, 3 * trainer.steps_per_epoch + 1, 2))
    assert len(trainer.health.divergence.early) == min(5, 1 + len(logged))  # step 1 and the logged ones


def test_a_plateau_is_a_finding_in_the_history_and_result_and_stops_the_run_when_asked():
    training = {
        "epochs": 6,
        "optimizer": {"name": "sgd", "lr": 1e-12},
        "health": {"stall_epochs": 2, "plateau_tolerance": 1e-3},
    }
    result = Trainer(make_job(training)).run()
    assert result.status is Status.FINISHED and result.epochs == 6
    assert len(result.findings) == 1 and "training loss has stayed" in result.findings[0]
    trainer = Trainer(make_job({**training, "health": {**training["health"], "stop_on_findings": True}}))
    stopped = trainer.run()
    assert stopped.epochs == 2 and "stopped by a finding (plateau" in stopped.message
    [record] = trainer.history.records("finding")
    assert record["rule"] == "plateau" and record["epoch"] == 2


def test_short_runs_get_activation_samples_by_default():
    job = make_job({"epochs": 20, "instrumentation": {"enabled": True, "grads_every": 0}})
    trainer = Trainer(job)
    assert trainer.run().ok
    steps = 20 * trainer.steps_per_epoch  # short: the default samples every max(25, steps // 100) = 25 steps
    assert steps >= 50
    assert [r["step"] for r in trainer.history.records("activations")] == list(range(25, steps + 1, 25))
