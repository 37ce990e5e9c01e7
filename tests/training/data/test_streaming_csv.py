"""Streaming CSV files: the same rows, split, encoding and targets as the in-memory path, and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnstudio.training.data import DatasetError, load_dataset
from nnstudio.training.data.streaming_source import StreamedSplit


def write_csv(path: Path, rows: int = 60, seed: int = 0) -> Path:
    """Numbers with gaps, a category with a gap, a quoted field holding a newline and a delimiter."""
    rng = np.random.default_rng(seed)
    lines = ["\ufeffsize,colour,note,weight,label"]
    for i in range(rows):
        size = "" if i % 11 == 3 else f"{rng.normal(5, 2):.4f}"
        colour = "" if i % 13 == 5 else ["red", "green", "blue"][i % 3]
        note = '"two\nlines, quoted"' if i % 7 == 0 else "plain"
        weight = f"{rng.uniform(0, 100):.3f}"
        lines.append(f"{size},{colour},{note},{weight},{'yes' if i % 2 else 'no'}")
        if i == 20:
            lines.append("")  # a blank line carries nothing
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def section(path: Path, streaming: str, **params) -> dict:
    return {"name": "csv", "params": {"path": str(path), "ignore": "note", **params}, "streaming": streaming,
            "workers": 0}


@pytest.mark.parametrize("params", [{"missing": "impute"}, {"missing": "drop"},
                                    {"missing": "impute", "target": "weight", "task": "regression"}])
def test_streamed_csv_matches_the_in_memory_encoding(tmp_path, params) -> None:
    path = write_csv(tmp_path / "table.csv")
    memory = load_dataset(section(path, "memory", **params), seed=4)
    streamed = load_dataset(section(path, "stream", **params), seed=4)
    assert isinstance(streamed.train, StreamedSplit)
    assert streamed.feature_names == memory.feature_names and streamed.class_names == memory.class_names
    assert streamed.task == memory.task and streamed.input_shape == memory.input_shape
    assert streamed.description.split(" Split")[0] == memory.description.split(" Split")[0]
    for name, split in memory.splits().items():
        x, y = streamed.splits()[name].head(len(split))
        assert torch.equal(y, split.y), name
        assert torch.allclose(x, split.x, atol=1e-6, rtol=0), name  # statistics summed in another order


def test_a_stray_word_in_a_numeric_column_is_named_with_its_line(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,x\n2,y\nthree,x\n4,y\n")
    with pytest.raises(DatasetError, match=r"line 4 \(data row 3\), column 'a': 'three' is not a number"):
        load_dataset(section(path, "stream", ignore=""), seed=0)


def test_a_text_column_is_not_streamed(tmp_path) -> None:
    path = write_csv(tmp_path / "table.csv")
    auto = load_dataset(section(path, "auto", ignore="", text_column="note"), seed=0)
    assert "text column is never streamed" in auto.storage
    with pytest.raises(DatasetError, match="text_column is not streamed"):
        load_dataset(section(path, "stream", ignore="", text_column="note"), seed=0)


def test_auto_streams_a_csv_over_the_budget(tmp_path, monkeypatch) -> None:
    from nnstudio.compile import memory

    path = write_csv(tmp_path / "table.csv")
    monkeypatch.setattr(memory, "available_memory", lambda: 1_000)
    data = load_dataset(section(path, "auto"), seed=0)
    assert isinstance(data.train, StreamedSplit) and data.storage.startswith("data: streamed from disk")


def test_training_on_a_streamed_csv_matches_in_memory(tmp_path) -> None:
    from nnstudio.training import Status, Trainer
    from nnstudio.training.job import prepare
    from tests.training.helpers import mlp_project

    path = write_csv(tmp_path / "table.csv")
    weights = []
    for streaming in ("memory", "stream"):
        project = mlp_project(inputs=5, outputs=2, training={"epochs": 2, "batch_size": 8,
                                                             "instrumentation": {"enabled": False}})
        project.dataset = section(path, streaming, missing="impute")
        trainer = Trainer(prepare(project))
        assert trainer.run().status is Status.FINISHED
        weights.append(trainer.module.state_dict())
    for key, value in weights[0].items():
        assert torch.allclose(value, weights[1][key], atol=1e-5), key
