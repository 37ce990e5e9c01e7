"""Streaming image folders: the same split and bitwise the same training as in memory, exact resume mid-epoch,
corrupt files skipped or failed on, and the auto choice against a (faked) memory budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Event, Status, Trainer, load_checkpoint
from nnstudio.training.data import DatasetError, dataset_problems, load_dataset
from nnstudio.training.data.streaming_images import ScanStopped, scan_folder
from nnstudio.training.data.streaming_source import StreamedSplit
from nnstudio.training.job import prepare

CLASSES = {"a": 9, "b": 8, "c": 7}
TRAINING = {"epochs": 2, "batch_size": 5, "seed": 3, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "instrumentation": {"enabled": True, "loss_every": 2, "grads_every": 3}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Images of several sizes and both formats, so resizing and decoding are part of the comparison."""
    root = tmp_path_factory.mktemp("stream") / "shapes"
    rng = np.random.default_rng(0)
    for index, (name, count) in enumerate(CLASSES.items()):
        (root / name).mkdir(parents=True)
        for k in range(count):
            pixels = rng.integers(0, 255, (7 + k % 3, 9, 3), dtype=np.uint8)
            pixels[..., index] = 250  # a learnable colour cue per class
            Image.fromarray(pixels).save(root / name / f"img{k:02d}{'.png' if k % 3 else '.jpg'}")
    return root


def section(root: Path, streaming: str, **extra) -> dict:
    return {"name": "image_folder", "params": {"path": str(root), "size": [6, 6]}, "val_fraction": 0.2,
            "test_fraction": 0.1, "streaming": streaming, "workers": 1, **extra}


def project(root: Path, streaming: str, **extra):
    b = GraphBuilder(name="cnn")
    b.sequential(("Input", {"shape": [3, 6, 6]}), ("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU",
                 "Flatten", ("Linear", {"out_features": 3}), "Output")
    b.project.dataset = section(root, streaming, **extra)
    b.project.training = dict(TRAINING)
    return b.project


def job(root: Path, streaming: str, **extra):
    return prepare(project(root, streaming, **extra))


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


def test_streamed_split_picks_the_in_memory_files_and_decodes_them_bitwise(folder) -> None:
    memory = load_dataset(section(folder, "memory"), seed=5)
    streamed = load_dataset(section(folder, "stream"), seed=5)
    assert isinstance(streamed.train, StreamedSplit) and not isinstance(memory.train, StreamedSplit)
    assert streamed.storage.startswith("data: streamed") and memory.storage.startswith("data: held in memory")
    for name, split in memory.splits().items():
        other = streamed.splits()[name]
        assert torch.equal(split.y, other.y), name
        x, y = other.head(len(other))
        assert torch.equal(split.x, x) and torch.equal(split.y, y), name
    assert streamed.input_shape == memory.input_shape and streamed.description.split(" Split")[0] in \
        memory.description


def test_class_subset_and_cap_give_the_same_split(folder) -> None:
    extra = {"classes": [2, 0], "train_per_class": 3}
    memory = load_dataset(section(folder, "memory", **extra), seed=1)
    streamed = load_dataset(section(folder, "stream", **extra), seed=1)
    assert streamed.class_names == memory.class_names == ["c", "a"]
    for name, split in memory.splits().items():
        assert torch.equal(split.x, streamed.splits()[name].head(len(split))[0]), name


def test_streamed_training_is_bitwise_equal_to_in_memory(folder) -> None:
    memory, streamed = job(folder, "memory"), job(folder, "stream")
    first, second = Trainer(memory), Trainer(streamed)
    expected = first.run()
    result = second.run()
    assert expected.status is Status.FINISHED and result.status is Status.FINISHED, result.message
    assert_same_weights(first.module, second.module)
    assert result.metrics.keys() == expected.metrics.keys() and "test_loss" in result.metrics
    for key in ("train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"):
        assert result.metrics[key] == expected.metrics[key], key
    assert second.history.records("start")[0]["storage"].startswith("data: streamed")


def test_resume_mid_epoch_is_exact_when_streamed(folder, tmp_path) -> None:
    whole = Trainer(job(folder, "stream"))
    assert whole.run().status is Status.FINISHED
    first = Trainer(job(folder, "stream"), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 5 else None)  # 4 steps an epoch
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert checkpoint.info["batch_in_epoch"] == 1
    second = Trainer(job(folder, "stream"), tmp_path)
    second.restore(checkpoint)
    assert second.run().status is Status.FINISHED
    assert_same_weights(whole.module, second.module)


def test_a_corrupt_image_is_skipped_and_counted_or_fails_naming_it(folder, tmp_path, capsys) -> None:
    root = tmp_path / "broken"
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for path in sorted((folder / name).iterdir()):
            (root / name / path.name).write_bytes(path.read_bytes())
    bad = root / "a" / "img01.png"
    bad.write_bytes(b"not an image at all")
    skipped = Trainer(job(root, "stream", corrupt="skip", workers=0))  # the worker path: the tests above
    assert skipped.run().status is Status.FINISHED
    assert any(str(bad) in message for message in skipped.job.data.train.corruption.files)
    assert f"skipped: {bad}" in capsys.readouterr().err
    failed = Trainer(job(root, "stream", corrupt="fail", workers=0)).run()
    assert failed.status is Status.FAILED and str(bad) in failed.message and "dataset.corrupt" in failed.message
    assert "\n" not in failed.message


def test_auto_streams_when_the_budget_is_too_small(folder, monkeypatch) -> None:
    from nnstudio.compile import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 10_000)  # 24 images of 6x6x3 need about 10 kB
    tight = load_dataset(section(folder, "auto"), seed=0)
    assert isinstance(tight.train, StreamedSplit) and "over the 0 MiB available" in tight.storage
    monkeypatch.setattr(memory, "available_memory", lambda: 2**34)
    roomy = load_dataset(section(folder, "auto"), seed=0)
    assert not isinstance(roomy.train, StreamedSplit) and "within" in roomy.storage
    assert roomy.description.endswith("Held in memory " + roomy.storage.removeprefix("data: held in memory ") + ".")
    from nnstudio.training.data import streaming

    monkeypatch.setattr(streaming, "MAX_IMAGES", 10)  # more images than the in-memory loader takes
    assert "over the in-memory limit of 10" in load_dataset(section(folder, "auto"), seed=0).storage


def test_whole_split_uses_refuse_with_one_line_and_bad_keys_are_named(folder) -> None:
    data = load_dataset(section(folder, "stream"), seed=0)
    with pytest.raises(DatasetError, match="streamed from disk.*dataset.streaming"):
        _ = data.train.x
    problems = dict(dataset_problems({**section(folder, "stream"), "corrupt": "maybe", "workers": -1}))
    assert "dataset.corrupt" in problems and "dataset.workers" in problems
    assert "dataset.streaming" in dict(dataset_problems({"name": "spirals", "streaming": "stream"}))


def test_a_scan_reports_progress_and_stops_on_request(folder) -> None:
    calls: list[tuple[int, int]] = []
    scan = scan_folder(folder, progress=lambda done, total: calls.append((done, total)))
    assert len(scan) == sum(CLASSES.values()) and calls[-1] == (3, 3)
    with pytest.raises(ScanStopped, match="stopped after 0 of 3"):
        scan_folder(folder, stop=lambda: True)


def test_the_evaluation_page_scores_a_streamed_split_and_leaves_sample_views_out(folder, tmp_path) -> None:
    from nnstudio.compile.weights import load_weights
    from nnstudio.io.project_file import dumps
    from nnstudio.layers.registry import default_registry
    from nnstudio.training.evaluation import evaluate_job
    from nnstudio.ui.evaluation.compute import evaluate_run

    streamed = project(folder, "stream")
    trainer = Trainer(prepare(streamed), tmp_path)
    assert trainer.run().status is Status.FINISHED
    checkpoint = tmp_path / "checkpoints" / "last"
    result = evaluate_run(dumps(streamed), default_registry(), None, checkpoint, "val")
    held = prepare(project(folder, "memory"))
    load_weights(held.compiled.network, checkpoint, strict=True)
    report = evaluate_job(held, "val")
    assert result.metrics == report.metrics and result.confusion == report.confusion
    assert any("streamed from disk" in note for note in result.notes) and result.projector is None
