"""One sample's layer outputs and attention weights (training.layer_outputs), and hand-given samples
(training.sample_input): drawn, typed by column, typed as token ids."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nnstudio.examples import example_path
from nnstudio.io import load
from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Trainer, prepare
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.inference import InferenceError, predict, split_sample
from nnstudio.training.layer_outputs import MAX_TILES, attention_modules, sample_outputs, tile_grid
from nnstudio.training.sample_input import drawn_sample, editor_for, token_sample, typed_sample, value_range
from tests.training.helpers import blobs, line, make_job

QUIET = {"batch_size": 16, "instrumentation": {"enabled": False}}


def strokes(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """8×8 'digits' of two kinds, a vertical or a horizontal bar (1 or 2 pixels wide, of varying ink) at a random
    place, values 0..1."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.1
    y = torch.arange(n) % 2
    where = torch.randint(1, 6, (n,), generator=g)
    width = torch.randint(1, 3, (n,), generator=g)
    ink = 0.5 + 0.5 * torch.rand(n, generator=g)
    for i in range(n):
        across = slice(int(where[i]), int(where[i] + width[i]))
        if y[i]:
            x[i, 0, across, 1:7] = ink[i]
        else:
            x[i, 0, 1:7, across] = ink[i]
    return x, y


def digits_like_job(epochs: int = 3, channels: int = 6):
    """A tiny CNN trained for three short epochs on `strokes`: 'vertical' against 'horizontal'."""
    b = GraphBuilder(name="tiny cnn")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}),
        "ReLU",
        ("MaxPool2d", {"kernel_size": 2}),
        "Flatten",
        ("Linear", {"out_features": 2}),
        "Output",
    )
    b.project.training = {"epochs": epochs, **QUIET, "optimizer": {"name": "adam", "lr": 0.01}}
    x, y = strokes(96)
    data = DataSplits(Split(x[:64], y[:64]), Split(x[64:80], y[64:80]), Split(x[80:], y[80:]), (1, 8, 8), "float32",
                      "classification", 2, (), ["vertical", "horizontal"], None, "image", "strokes")
    job = prepare(b.project, data=data)
    Trainer(job).run()
    return job


def transformer_job(epochs: int = 1):
    """The shipped transformer example (4 heads over 16 tokens), trained one short epoch."""
    project = load(example_path("transformer"))
    project.dataset = {"name": "token_majority", "params": {"samples": 200, "vocab_size": 16}}
    project.training = {**project.training, "epochs": epochs, **QUIET}
    job = prepare(project)
    Trainer(job).run()
    return job


@pytest.fixture(scope="module")
def cnn():
    return digits_like_job()


@pytest.fixture(scope="module")
def transformer():
    return transformer_job()


def test_every_layer_of_a_cnn_is_kept_whole_and_in_order(cnn):
    result = sample_outputs(cnn, split_sample(cnn, 3, "test"))
    assert [layer.type for layer in result.layers] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    conv, relu, pool, flat, linear = result.layers
    assert conv.shape == (6, 8, 8) and conv.view == "maps" and conv.maps().shape == (6, 8, 8)
    assert relu.values.min() >= 0 and pool.shape == (6, 4, 4) and flat.view == "bars" and flat.shape == (96,)
    expected = cnn.compiled.module.eval()(split_sample(cnn, 3, "test"))[0].detach().numpy()
    assert np.allclose(linear.values, expected, atol=1e-6)
    assert result.prediction.classes[0][0] == predict(cnn, split_sample(cnn, 3, "test")).predicted
    assert result.sample.shape == (1, 8, 8) and result.attention == []


def test_the_trained_cnn_tells_the_strokes_apart(cnn):
    x, y = strokes(40, seed=5)
    right = sum(predict(cnn, x[i : i + 1]).predicted == ["vertical", "horizontal"][int(y[i])] for i in range(40))
    assert right >= 30  # chance is 20


def test_attention_weights_are_heads_by_positions(transformer):
    assert len(attention_modules(transformer)) == 1
    sample = token_sample(transformer, " ".join(str(i % 8) for i in range(16)))
    result = sample_outputs(transformer, sample)
    (attention,) = result.attention
    assert attention.name == "encoder" and attention.weights.shape == (4, 16, 16)
    assert np.allclose(attention.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert attention.by_position().shape == (4, 16) and attention.heads == 4 and attention.positions == 16
    assert all(module._forward_hooks == {} and module._forward_pre_hooks == {}
               for _, _, module in attention_modules(transformer))  # nothing stays behind
    encoder = next(layer for layer in result.layers if layer.type == "TransformerEncoderLayer")
    assert encoder.shape == (16, 32) and encoder.view == "maps" and encoder.maps().shape == (1, 16, 32)
    plain = transformer.compiled.module.eval()(sample)
    assert np.allclose(result.layers[-1].values, plain[0].detach().numpy(), atol=1e-5)  # same answer, hooked


def test_token_ids_are_checked_against_the_embedding(transformer):
    with pytest.raises(InferenceError, match=r"position 2 is 16, out of range \(0 to 15: the embedding 'embed' "
                                             r"has 16 ids\)"):
        token_sample(transformer, "1 2 16")
    with pytest.raises(InferenceError, match=r"position 1 \('x'\) is not a whole number"):
        token_sample(transformer, "1, x")
    with pytest.raises(InferenceError, match=r"3 given, but Input 'tokens' \[16\] takes 16"):
        token_sample(transformer, "1 2 3")
    assert editor_for(transformer) == "tokens"
    narrow = dataclasses.replace(transformer, data=dataclasses.replace(transformer.data, vocab_size=8))
    with pytest.raises(InferenceError, match=r"position 0 is 9, out of range \(0 to 7: the dataset's vocabulary has 8 "
                                             r"ids \(the embedding 'embed' takes 16\)\)"):
        token_sample(narrow, "9")


def test_a_drawing_of_any_size_is_resampled_to_the_input_and_its_range(cnn):
    ink = np.zeros((80, 80), np.float32)
    ink[:, 30:50] = 1.0  # a thick vertical stroke in the middle
    sample, note = drawn_sample(cnn, ink)
    lo, hi = value_range(cnn)
    assert sample.shape == (1, 1, 8, 8) and "drawn at 80×80, resampled to the Input's 8×8" in note
    assert float(sample[0, 0, :, 0].max()) == pytest.approx(lo)
    assert float(sample[0, 0, 0, 3:5].min()) == pytest.approx(hi)
    assert predict(cnn, sample).predicted == "vertical"
    _, same = drawn_sample(cnn, np.zeros((8, 8)))
    assert same.startswith("drawn at the Input's size")
    with pytest.raises(InferenceError, match="not an image"):
        drawn_sample(make_job(data=blobs()), ink)


def test_typed_values_are_named_by_their_column():
    data = blobs(features=3, test=True)
    data.feature_names = ["height", "weight", "age"]
    job = make_job(data=data, inputs=3)
    assert editor_for(job) == "values"
    assert typed_sample(job, ["1", "2.5", "-3"]).tolist() == [[1.0, 2.5, -3.0]]
    with pytest.raises(InferenceError, match=r"column 'weight': 'heavy' is not a number"):
        typed_sample(job, ["1", "heavy", "3"])
    with pytest.raises(InferenceError, match=r"column 'age': no value typed"):
        typed_sample(job, ["1", "2", " "])
    with pytest.raises(InferenceError, match=r"2 value\(s\) given, but Input '.*' \[3\] takes 3 \(height, weight, "
                                             r"age\)"):
        typed_sample(job, ["1", "2"])


def test_a_regression_model_gives_values_and_dense_layers_give_bars():
    job = make_job(data=line(), inputs=1, outputs=1)
    result = sample_outputs(job, typed_sample(job, ["0.25"]))
    assert result.prediction.classes == [] and len(result.prediction.output) == 1
    assert [layer.view for layer in result.layers][:2] == ["bars", "bars"] and result.layers[-1].view == "value"
    with pytest.raises(ValueError, match="batch of one"):
        sample_outputs(job, torch.zeros(2, 1))


def test_the_tile_grid_caps_the_maps_and_puts_gaps_between_them():
    maps = np.arange(20 * 3 * 2, dtype=np.float64).reshape(20, 3, 2)
    grid, more = tile_grid(maps, columns=4)
    assert more == 20 - MAX_TILES and grid.shape == (4 * 4 - 1, 4 * 3 - 1)  # 4×4 tiles of 3×2, 1-cell gaps
    assert np.nanmin(grid) == 0.0 and np.nanmax(grid) == 1.0 and np.isnan(grid[3]).all()
    assert tile_grid(maps)[0].shape == (2 * 4 - 1, 8 * 3 - 1)  # by default rows of 8
    big, none_left = tile_grid(maps[:2], scale=3)
    assert none_left == 0 and big.shape == (9, 2 * 6 + 1)
    with pytest.raises(ValueError, match=r"\[n, H, W\]"):
        tile_grid(maps[0])
