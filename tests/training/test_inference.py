"""One sample through a model (training.inference): outputs, per-node outputs, and samples refused in one line."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.training.inference import (
    InferenceError,
    check_sample,
    parse_values,
    predict,
    read_input_file,
    split_sample,
)
from tests.training.helpers import blobs, line, make_job


@pytest.fixture(scope="module")
def job():
    return make_job(data=blobs(test=True))


def test_probabilities_are_sorted_and_sum_to_one(job):
    sample = split_sample(job, 0, "test")
    prediction = predict(job, sample)
    probs = [p for _, p in prediction.classes]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) == pytest.approx(1.0, abs=1e-5)
    logits = job.compiled.module.eval()(sample)[0]
    assert prediction.predicted == f"c{int(logits.argmax())}"
    assert prediction.to_json(top=2)["probabilities"][0]["class"] == prediction.predicted
    assert len(prediction.to_json(top=2)["probabilities"]) == 2


def test_every_node_output_is_recorded_in_order(job):
    prediction = predict(job, split_sample(job, 1, "test"), layers=True)
    names = [node.name for node in prediction.nodes]
    types = [node.type for node in prediction.nodes]
    assert types == ["Input", "Linear", "ReLU", "Linear", "Output"] or types[:4] == [
        "Input",
        "Linear",
        "ReLU",
        "Linear",
    ]
    linear = prediction.nodes[1]
    assert linear.shape == (16,) and linear.values is not None and len(linear.values) == 16
    assert linear.min <= linear.mean <= linear.max
    relu = prediction.nodes[2]
    assert relu.min >= 0.0  # the ReLU's own output, not the Linear's before it
    assert names[0] == job.ends.input_name
    assert prediction.nodes[-1].values == pytest.approx(prediction.output, abs=1e-6)


def test_regression_gives_the_value(tmp_path):
    job = make_job(data=line(), outputs=1, inputs=1)
    prediction = predict(job, parse_values("0.5", job))
    assert prediction.classes == [] and len(prediction.output) == 1
    assert prediction.to_json() == {"task": "regression", "output": prediction.output}


def test_typed_values_are_checked_against_the_input(job):
    assert parse_values("1, 2", job).shape == (1, 2)
    with pytest.raises(InferenceError, match=r"3 value\(s\) given, but Input '.*' \[2\] takes 2"):
        parse_values("1,2,3", job)
    with pytest.raises(InferenceError, match=r"value 2 \('x'\) is not a number"):
        parse_values("1,x", job)
    with pytest.raises(InferenceError, match="finite"):
        parse_values("1,nan", job)


def test_sample_index_out_of_range_names_the_split(job):
    with pytest.raises(InferenceError, match=r"--sample: 99 is out of range; the test split has 24 samples"):
        split_sample(job, 99, "test")
    with pytest.raises(InferenceError, match="--sample: -1 is out of range"):
        split_sample(job, -1, "test")
    with pytest.raises(InferenceError, match="no nope split"):
        split_sample(job, 0, "nope")


def test_npy_and_image_files(tmp_path, job):
    path = tmp_path / "x.npy"
    np.save(path, np.array([[0.5, -1.0]], dtype=np.float64))
    assert read_input_file(path, job).tolist() == [[0.5, -1.0]]
    np.save(path, np.zeros(5))
    with pytest.raises(InferenceError, match=r"x\.npy: 5 value\(s\) given"):
        read_input_file(path, job)
    with pytest.raises(InferenceError, match="no such file"):
        read_input_file(tmp_path / "missing.npy", job)
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(InferenceError, match="expected an .npy array or an image"):
        read_input_file(tmp_path / "x.txt", job)


def test_an_image_is_greyed_and_resized_to_the_input(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    fake = _fake_job((1, 4, 6))
    path = tmp_path / "big.png"
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, 30:] = 255  # right half white
    image_module.fromarray(pixels).save(path)
    sample = read_input_file(path, fake)
    assert sample.shape == (1, 1, 4, 6)
    assert float(sample[0, 0, :, :2].max()) == 0.0 and float(sample[0, 0, :, 4:].min()) == 1.0
    with pytest.raises(InferenceError, match=r"needs an image Input"):
        read_input_file(path, _fake_job((8,)))


def _fake_job(shape, dtype="float32", kind="image", vocab=None):
    """What the sample checks read of a job: the data description and the Input's name."""
    data = SimpleNamespace(input_shape=shape, input_dtype=dtype, kind=kind, feature_names=None, vocab_size=vocab)
    return SimpleNamespace(data=data, ends=SimpleNamespace(input_name="in"))


def test_token_ids_are_whole_numbers_within_the_vocabulary():
    fake = _fake_job((3,), dtype="int64", kind="tokens", vocab=10)
    assert parse_values("1,2,9", fake).dtype == torch.int64
    with pytest.raises(InferenceError, match="token ids run from 0 to 9, got 10"):
        parse_values("1,2,10", fake)
    with pytest.raises(InferenceError, match=r"value 2 \('1.5'\) is not a whole number"):
        parse_values("1,1.5,2", fake)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=8),
    st.sampled_from([(2,), (1, 2), (2, 1)]),
)
def test_any_array_is_either_a_batch_of_one_or_refused_in_one_line(values, shape):
    fake = _fake_job(shape, kind="tabular")
    try:
        tensor = check_sample(fake, np.asarray(values, dtype=np.float32), "--input")
    except InferenceError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("--input: ")
        return
    assert tensor.shape == (1, *shape) and bool(torch.isfinite(tensor).all())
