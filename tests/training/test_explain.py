"""Attributions through Captum: the sanity checks, Grad-CAM on a convolution, and the refusals.

On data where feature 2 alone decides the label, every method must put most of the attribution on it; with the
weights randomised the maps must change (the model-randomisation check of Adebayo et al., 2018, "Sanity Checks
for Saliency Maps": a method whose map survives randomisation does not explain the model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnstudio.model.builder import GraphBuilder
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.explain import METHODS, ExplainError, explain
from nnstudio.training.job import prepare
from tests.training.helpers import mlp_project

pytest.importorskip("captum")

DECIDING = 2
TABULAR_METHODS = [name for name, method in METHODS.items() if not method.needs_conv]
RANK_LIMIT = 0.5  # rank correlation of trained vs randomised maps must stay below this


def one_feature_data(n: int = 256, seed: int = 0) -> DataSplits:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, DECIDING] > 0).long()
    train, test = Split(x[:192], y[:192]), Split(x[192:], y[192:])
    return DataSplits(
        train=train,
        val=None,
        test=test,
        input_shape=(4,),
        input_dtype="float32",
        task="classification",
        num_classes=2,
        target_shape=(),
        class_names=["no", "yes"],
        feature_names=["a", "b", "decides", "d"],
        kind="tabular",
        description="one feature",
    )


def fit(module: torch.nn.Module, data: DataSplits, steps: int = 150, lr: float = 0.5) -> None:
    """Full-batch gradient descent by hand: a torch optimizer's first step imports torch._dynamo, which costs
    seconds, while this learns the decision in about one."""
    torch.manual_seed(0)
    for _ in range(steps):
        module.zero_grad()
        torch.nn.functional.cross_entropy(module(data.train.x), data.train.y).backward()
        with torch.no_grad():
            for parameter in module.parameters():
                parameter -= lr * parameter.grad


@pytest.fixture(scope="module")
def trained():
    data = one_feature_data()
    job = prepare(mlp_project(inputs=4, outputs=2, width=16), data=data)
    fit(job.compiled.module, data)
    accuracy = (job.compiled.module(data.test.x).argmax(1) == data.test.y).float().mean()
    assert accuracy > 0.9
    return job


SAMPLES = 16


def attributions(job, method: str, targets: torch.Tensor) -> np.ndarray:
    """Signed attributions of the first SAMPLES test samples, each for the given class."""
    rows = [
        explain(job, job.data.test.x[i : i + 1], method, target=int(targets[i]), samples=64).values
        for i in range(SAMPLES)
    ]
    return np.stack(rows)


def ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values.reshape(-1))).astype(float)


def deciding_share(values: np.ndarray) -> float:
    magnitude = np.abs(values).sum(axis=0)
    return float(magnitude[DECIDING] / magnitude.sum())


@pytest.fixture(scope="module")
def targets(trained) -> torch.Tensor:
    """The trained model's predicted classes: both models are asked about the same outputs."""
    with torch.no_grad():
        return trained.compiled.module(trained.data.test.x[:SAMPLES]).argmax(1)


@pytest.mark.parametrize("method", TABULAR_METHODS)
def test_the_deciding_feature_gets_most_of_the_attribution_and_randomised_weights_change_it(trained, targets, method):
    before = attributions(trained, method, targets)
    share = np.abs(before).sum(axis=0) / np.abs(before).sum()
    assert share.argmax() == DECIDING and share[DECIDING] > 0.7, (method, share)
    state = {k: v.clone() for k, v in trained.compiled.module.state_dict().items()}
    torch.manual_seed(1)
    try:
        for module in trained.compiled.module.modules():
            if isinstance(module, torch.nn.Linear):
                module.reset_parameters()
        after = attributions(trained, method, targets)
    finally:
        trained.compiled.module.load_state_dict(state)
    correlation = np.corrcoef(ranks(before), ranks(after))[0, 1]  # Spearman's rho of the signed maps
    assert correlation < RANK_LIMIT, (method, correlation)
    assert deciding_share(after) < deciding_share(before) / 2, method


def test_features_are_named_by_the_columns(trained):
    features = explain(trained, trained.data.test.x[:1], "occlusion").features()
    assert [name for name, _ in features] == ["a", "b", "decides", "d"]


def test_the_predicted_class_is_explained_unless_a_target_is_given(trained):
    sample = trained.data.test.x[:1]
    chosen = explain(trained, sample, "saliency")
    assert chosen.target_name == ("yes" if float(sample[0, DECIDING]) > 0 else "no")
    assert explain(trained, sample, "saliency", target="no").target == 0
    assert explain(trained, sample, "saliency", target="1").target_name == "yes"
    with pytest.raises(ExplainError, match=r"--target: 5 is out of range; the model has 2 output\(s\)"):
        explain(trained, sample, "saliency", target=5)
    with pytest.raises(ExplainError, match="--target: 'maybe' is not a class index; the classes are no, yes"):
        explain(trained, sample, "saliency", target="maybe")


def test_grad_cam_without_a_convolution_is_refused_in_one_line(trained):
    with pytest.raises(ExplainError, match="grad-cam: Grad-CAM needs a convolution node") as caught:
        explain(trained, trained.data.test.x[:1], "grad-cam")
    assert "\n" not in str(caught.value)
    with pytest.raises(ExplainError, match="--method: no method 'shap'"):
        explain(trained, trained.data.test.x[:1], "shap")


def conv_job():
    b = GraphBuilder(name="cnn")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        "ReLU",
        ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 3}),
        "Output",
    )
    g = torch.Generator().manual_seed(0)
    x = torch.rand(12, 1, 8, 8, generator=g)
    y = torch.arange(12) % 3
    data = DataSplits(
        train=Split(x, y),
        val=None,
        test=Split(x[:4], y[:4]),
        input_shape=(1, 8, 8),
        input_dtype="float32",
        task="classification",
        num_classes=3,
        target_shape=(),
        class_names=None,
        feature_names=None,
        kind="image",
        description="noise images",
    )
    return prepare(b.project, data=data)


def test_grad_cam_upsamples_the_last_convolution_to_the_input():
    job = conv_job()
    sample = job.data.test.x[:1]
    result = explain(job, sample, "grad-cam")
    convs = [n for i, n in job.names.items() if job.types[i] == "Conv2d"]
    assert result.layer == convs[-1] and result.values.shape == (1, 8, 8)
    assert (result.values >= 0).all()  # relu'd
    assert explain(job, sample, "grad-cam", layer=convs[0]).layer == convs[0]
    with pytest.raises(ExplainError, match=r"--layer: 'nowhere' is not a node of the graph; its convolution"):
        explain(job, sample, "grad-cam", layer="nowhere")
    relu = next(n for i, n in job.names.items() if job.types[i] == "ReLU")
    with pytest.raises(ExplainError, match=rf"--layer: '{relu}' is not a convolution node"):
        explain(job, sample, "grad-cam", layer=relu)


@pytest.mark.parametrize("method", ["occlusion", "kernel-shap", "lime", "smoothgrad"])
def test_image_methods_give_a_map_of_the_input_shape(method):
    job = conv_job()
    fit(job.compiled.module, job.data, steps=30)  # scores that differ between perturbations, for LIME's fit
    result = explain(job, job.data.test.x[:1], method, samples=40)
    assert result.values.shape == (1, 8, 8) and np.isfinite(result.values).all()
    assert result.values.any()


def test_token_ids_are_refused_by_gradient_and_surrogate_methods(trained, monkeypatch):
    monkeypatch.setattr(trained.data, "input_dtype", "int64")
    for name, method in METHODS.items():
        if method.integer_inputs:
            continue
        with pytest.raises(ExplainError, match="reads token ids"):
            explain(trained, trained.data.test.x[:1].long(), name)


def test_surrogate_methods_without_scikit_learn_say_how_to_install_it(trained, monkeypatch):
    monkeypatch.setattr("nnstudio.training.explain.methods._importable", lambda name: name != "sklearn")
    for name in ("kernel-shap", "lime"):
        with pytest.raises(
            ExplainError, match=r'fits its surrogate with scikit-learn: pip install "nnstudio\[explain\]"'
        ):
            explain(trained, trained.data.test.x[:1], name)
    assert explain(trained, trained.data.test.x[:1], "occlusion").values.shape == (4,)
