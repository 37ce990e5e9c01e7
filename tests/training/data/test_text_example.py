"""The shipped text example: its CSV is what the generator writes, and it trains offline to well above chance,
saving its vocabulary with every checkpoint."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from nnstudio.examples import example_path
from nnstudio.io.project_file import load
from nnstudio.training import Status, Trainer, prepare
from nnstudio.training.data.text import read_vocabulary

ROOT = Path(__file__).resolve().parents[3]


def test_the_shipped_csv_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_text_example", ROOT / "tools" / "make_text_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run python tools/make_text_example.py"


def test_text_sentiment_trains_well_above_chance_and_saves_its_vocabulary(tmp_path):
    project = load(example_path("text_sentiment"))
    project.training["epochs"] = 1  # the shipped 5 reach 1.0; one is enough to be far above chance
    job = prepare(project)
    assert job.data.kind == "tokens" and job.data.input_shape == (16,)
    tokens = job.data.vocabulary.tokens
    assert len(tokens) == 100 and "great" in tokens and "awful" in tokens
    assert (job.data.val.x == 1).any()  # shop names beyond the vocabulary read as unknown
    result = Trainer(job, tmp_path).run()
    assert result.status is Status.FINISHED, result.message
    assert result.metrics["test_accuracy"] >= 0.9  # chance is 0.5
    saved = read_vocabulary(tmp_path / "checkpoints" / "last")
    assert saved is not None and saved.tokens == tokens
