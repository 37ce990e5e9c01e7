"""The Inference panel's typed input for a text-column model: the text itself, or its token ids."""

from __future__ import annotations

import pytest

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.training.inference import InferenceError
from nnstudio.training.job import prepare
from nnstudio.training.sample_input import token_sample


@pytest.fixture(scope="module")
def text_job():
    path = EXAMPLES["text_sentiment"].path
    return prepare(load(path), base_dir=path.parent)


def test_typed_text_is_tokenised_with_the_training_vocabulary(text_job):
    sample = token_sample(text_job, "the kettle is awful")
    vocabulary = text_job.data.vocabulary
    expected = vocabulary.encode(["the kettle is awful"])[0]
    assert sample.reshape(-1).tolist() == expected.tolist()
    assert tuple(sample.shape[1:]) == tuple(text_job.data.input_shape)


def test_token_ids_still_work_and_are_checked(text_job):
    count = text_job.data.input_shape[0]
    ids = " ".join(["2"] * count)
    assert token_sample(text_job, ids).reshape(-1).tolist() == [2] * count
    with pytest.raises(InferenceError, match="out of range"):
        token_sample(text_job, " ".join(["999999"] * count))
