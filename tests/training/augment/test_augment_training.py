"""Augmentation in the training step: seeded, training batches only, exact after a resume, mixed targets."""

from __future__ import annotations

import pytest
import torch

from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Event, Status, Trainer, load_checkpoint
from nnstudio.training.augment import batch_augment
from nnstudio.training.augment.mix import Mix
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.job import prepare

CROP_FLIP_MIX = [{"type": "random_crop", "padding": 1}, {"type": "hflip"}, {"type": "random_erasing"},
                 {"type": "mixup", "alpha": 0.4}]
TRAINING = {"epochs": 3, "batch_size": 16, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "instrumentation": {"enabled": True, "loss_every": 2, "grads_every": 3, "activations_every": 5}}


def images(n: int = 96, classes: int = 3, seed: int = 0) -> DataSplits:
    """1x8x8 images whose class is the row band that is bright, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.3
    for c in range(classes):
        x[y == c, :, 2 * c:2 * c + 2, :] += 0.7
    train, val = Split(x[: n * 3 // 4], y[: n * 3 // 4]), Split(x[n * 3 // 4:], y[n * 3 // 4:])
    return DataSplits(train=train, val=val, test=None, input_shape=(1, 8, 8), input_dtype="float32",
                      task="classification", num_classes=classes, target_shape=(), class_names=None,
                      feature_names=None, kind="image", description="bands")


def image_job(augment: list | None, training: dict | None = None, data: DataSplits | None = None):
    b = GraphBuilder(name="bands")
    b.sequential(("Input", {"shape": [1, 8, 8]}), "Flatten", ("Linear", {"out_features": 16}), "ReLU",
                 ("Dropout", {"p": 0.2}), ("Linear", {"out_features": 3}), "Output")
    b.project.dataset = {"name": "digits", **({"augment": augment} if augment else {})}
    b.project.training = training or TRAINING
    return prepare(b.project, data=data or images())


def test_the_same_seed_and_step_give_the_same_batch_and_leave_torch_rng_alone() -> None:
    x, y = images().train.x[:16], images().train.y[:16]
    augment = batch_augment({"augment": CROP_FLIP_MIX}, (1, 8, 8), 3, seed=7, device=torch.device("cpu"))
    torch.manual_seed(123)
    first = augment(x, y, step=5)
    after = torch.rand(3)
    torch.manual_seed(123)
    again = augment(x, y, step=5)
    assert torch.equal(torch.rand(3), after), "the global generator is put back as it was"
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    other = augment(x, y, step=6)
    assert not torch.equal(first[0], other[0])
    reseeded = batch_augment({"augment": CROP_FLIP_MIX}, (1, 8, 8), 3, seed=8, device=torch.device("cpu"))
    assert not torch.equal(first[0], reseeded(x, y, step=5)[0])


def test_only_training_batches_are_augmented() -> None:
    """With a negligible learning rate the weights stay put: heavy noise then raises the training loss only,
    and validation scores the clean samples exactly as an unaugmented run does."""
    still = {"epochs": 1, "batch_size": 16, "optimizer": {"name": "sgd", "lr": 1e-12}}
    noisy = Trainer(image_job([{"type": "gaussian_noise", "std": 5.0}], still))
    plain = Trainer(image_job(None, still))
    seen = []
    noisy.setup()
    runner_augment = noisy.runner.augment
    noisy.runner.augment = lambda x, y, step: seen.append(step) or runner_augment(x, y, step)
    noisy_result, plain_result = noisy.run(), plain.run()
    assert seen == [1, 2, 3, 4, 5], "every training step, once"
    assert noisy_result.metrics["val_loss"] == plain_result.metrics["val_loss"]
    assert noisy_result.metrics["train_loss"] > 1.2 * plain_result.metrics["train_loss"]


def test_resume_stays_bitwise_exact_with_augmentation_and_dropout(tmp_path) -> None:
    whole = Trainer(image_job(CROP_FLIP_MIX))
    assert whole.run().status is Status.FINISHED
    first = Trainer(image_job(CROP_FLIP_MIX), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 7 else None)
    assert first.run().status is Status.STOPPED
    second = Trainer(image_job(CROP_FLIP_MIX), tmp_path)
    second.restore(load_checkpoint(tmp_path / "checkpoints" / "last"))
    assert second.run().status is Status.FINISHED
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key


def test_mixup_makes_soft_targets_that_cross_entropy_trains_on() -> None:
    x = torch.arange(4.0).reshape(4, 1)
    y = torch.tensor([0, 1, 2, 0])
    torch.manual_seed(0)
    mixed_x, soft = Mix(alpha=0.4, p=1.0, classes=3, cut=False)(x, y)
    assert soft.shape == (4, 3) and torch.allclose(soft.sum(1), torch.ones(4))
    assert mixed_x.min() >= x.min() and mixed_x.max() <= x.max(), "each sample is a blend of two samples"
    share = soft.max(1).values.min()
    assert 0.5 <= share <= 1.0
    assert torch.nn.CrossEntropyLoss(label_smoothing=0.1)(torch.randn(4, 3), soft).isfinite()
    trainer = Trainer(image_job([{"type": "mixup"}, {"type": "cutmix"}]))
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    steps = trainer.history.records("step")
    assert steps and all(0.0 <= r["accuracy"] <= 1.0 for r in steps), "sampled steps score the larger share"


def test_cutmix_mixes_the_targets_by_the_pasted_area() -> None:
    x = torch.zeros(2, 1, 8, 8)
    x[1] = 1.0
    y = torch.tensor([0, 1])
    torch.manual_seed(3)
    mixed, soft = Mix(alpha=1.0, p=1.0, classes=2, cut=True)(x, y)
    pasted = mixed[0].mean().item() if mixed[0].sum() > 0 else 1.0 - mixed[1].mean().item()
    kept = soft[0, 0].item() if mixed[0].sum() > 0 else soft[1, 1].item()
    assert abs((1.0 - kept) - pasted) < 1e-6, "the share of pixels pasted is the share of the other label"


def test_reconstruction_targets_follow_the_augmented_input() -> None:
    x = torch.rand(8, 1, 8, 8)
    augment = batch_augment({"augment": [{"type": "hflip", "p": 1.0}]}, (1, 8, 8), None, 0, torch.device("cpu"),
                            follow_input=True)
    out_x, out_y = augment(x, x.clone(), 1)
    assert torch.equal(out_x, torch.flip(x, dims=[-1])) and out_y is out_x


def test_a_graph_with_loss_nodes_trains_on_augmented_inputs_and_refuses_mixing() -> None:
    from nnstudio.examples import example_path
    from nnstudio.io.project_file import load
    from nnstudio.training.job import TrainingInputError

    project = load(example_path("multitask_digits"))
    project.dataset = {"name": "digits", "train_per_class": 10, "augment": [{"type": "random_crop", "padding": 1}]}
    project.training = {**project.training, "epochs": 1}
    trainer = Trainer(prepare(project))
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    assert trainer.runner.augment is not None
    project.dataset["augment"].append({"type": "mixup"})
    with pytest.raises(TrainingInputError, match=r"dataset\.augment\[1\]\.type: mixup mixes the targets into "
                                                 "probabilities"):
        prepare(project)
