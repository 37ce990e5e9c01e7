"""dataset.augment: the list's own checks, the fit to the data, and the fit to the training setup."""

from __future__ import annotations

import copy

import pytest

from nnstudio.training.augment import TRANSFORMS, parse_augment
from nnstudio.training.augment.parse import fit_problems, setup_problems
from nnstudio.training.data import dataset_problems
from nnstudio.training.job import TrainingInputError, prepare
from tests.training.helpers import blobs, mlp_project

IMAGES = ("image", (1, 8, 8), "float32")


def _places(problems):
    return [place for place, _ in problems]


def test_a_good_list_parses_with_defaults_filled_in() -> None:
    transforms, problems = parse_augment([{"type": "random_crop", "padding": 2}, {"type": "hflip", "p": 0.5},
                                          {"type": "mixup", "alpha": 0.2}])
    assert problems == []
    assert [t.spec.name for t in transforms] == ["random_crop", "hflip", "mixup"]
    assert transforms[0].values == {"padding": 2, "size": None, "padding_mode": "constant"}
    assert transforms[2].values == {"alpha": 0.2, "p": 1.0}


@pytest.mark.parametrize(("entries", "place", "words"), [
    ({"type": "hflip"}, "dataset.augment", "expected a list of transforms"),
    ([{"type": "rotation"}, {"type": "rotation", "degrees": 400}], "dataset.augment[1].degrees",
     "expected a number in [0, 180], got 400"),
    ([{"type": "twirl"}], "dataset.augment[0].type", "no transform named 'twirl'; choose one of random_crop, hflip"),
    ([{"p": 0.5}], "dataset.augment[0].type", "choose a transform: random_crop"),
    (["hflip"], "dataset.augment[0]", "expected an object with a 'type'"),
    ([{"type": "hflip", "prob": 1}], "dataset.augment[0].prob", "hflip has no such param; it takes p"),
    ([{"type": "affine", "scale_min": 1.2, "scale_max": 1.0}], "dataset.augment[0].scale_min", "keep scale_min <="),
    ([{"type": "color_jitter", "brightness": 0, "contrast": 0}], "dataset.augment[0].brightness", "nothing changes"),
])
def test_bad_lists_name_the_place(entries, place, words) -> None:
    problems = dataset_problems({"name": "digits", "augment": entries})
    assert len(problems) == 1, problems
    assert problems[0][0] == place and words in problems[0][1], problems


def test_every_transform_parses_with_its_defaults_alone() -> None:
    transforms, problems = parse_augment([{"type": name} for name in TRANSFORMS])
    assert problems == [] and len(transforms) == len(TRANSFORMS)


def test_a_missing_kornia_is_one_line_with_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr("nnstudio.training.augment.parse.kornia_available", lambda: False)
    problems = dataset_problems({"name": "digits", "augment": [{"type": "hflip"}, {"type": "gaussian_noise"}]})
    assert problems == [("dataset.augment", 'hflip need kornia, which is not installed; '
                                            'pip install "nnstudio[augment]"')]
    assert dataset_problems({"name": "iris", "augment": [{"type": "gaussian_noise"}]}) == [], \
        "noise and mixup are plain torch: no kornia needed"


@pytest.mark.parametrize(("entry", "data", "place", "words"), [
    ({"type": "random_crop", "size": 13}, IMAGES, "dataset.augment[0].size",
     "a 13x13 crop is larger than the 8x8 images with their padding (12x12)"),
    ({"type": "hflip"}, ("tabular", (4,), "float32"), "dataset.augment[0].type",
     "hflip is an image transform, but the samples are tabular [4]"),
    ({"type": "color_jitter", "hue": 0.1}, IMAGES, "dataset.augment[0].hue", "needs colour images with 3 channels"),
    ({"type": "gaussian_noise"}, ("tokens", (16,), "int64"), "dataset.augment[0].type",
     "the samples are tokens of dtype int64"),
    ({"type": "random_crop", "padding": 8, "padding_mode": "reflect"}, IMAGES, "dataset.augment[0].padding",
     "reflect padding must be smaller than the image"),
])
def test_transforms_that_do_not_fit_the_data_are_refused(entry, data, place, words) -> None:
    transforms, _ = parse_augment([entry])
    problems = fit_problems(transforms, *data)
    assert len(problems) == 1 and problems[0][0] == place and words in problems[0][1], problems


def test_what_fits_is_accepted() -> None:
    transforms, _ = parse_augment([{"type": "random_crop", "padding": 2, "size": 10}, {"type": "color_jitter"},
                                   {"type": "cutmix"}])
    assert fit_problems(transforms, *IMAGES) == []
    noise, _ = parse_augment([{"type": "gaussian_noise"}, {"type": "mixup"}])
    assert fit_problems(noise, "tabular", (4,), "float32") == []


@pytest.mark.parametrize(("args", "words"), [
    (("gan", "classification", "cross_entropy", False, ()), "the gan recipe does not train"),
    (("supervised", "classification", "nll", False, ()), "'nll' does not take; use 'cross_entropy'"),
    (("supervised", "regression", "mse", False, (1,)), "needs class targets (classification or binary)"),
    (("supervised", "classification", None, True, ()), "loss nodes of this graph"),
    (("fewshot", "classification", "cross_entropy", False, ()), "few-shot episodes"),
    (("supervised", "classification", "cross_entropy", False, (20,)), "the targets are [20] per sample"),
])
def test_mixing_needs_class_targets_and_a_loss_that_takes_probabilities(args, words) -> None:
    transforms, _ = parse_augment([{"type": "hflip"}, {"type": "mixup"}])
    problems = setup_problems(transforms, *args)
    assert len(problems) == 1 and words in problems[0][1], problems
    if "recipe" not in words:
        assert problems[0][0] == "dataset.augment[1].type"


def test_mixing_fits_cross_entropy_and_the_binary_losses() -> None:
    transforms, _ = parse_augment([{"type": "mixup"}])
    assert setup_problems(transforms, "supervised", "classification", "cross_entropy", False, ()) == []
    assert setup_problems(transforms, "adversarial", "binary", "bce_with_logits", False, (1,)) == []


def test_prepare_refuses_a_flip_on_points_naming_the_place() -> None:
    project = mlp_project()
    project.dataset = {"name": "blobs", "augment": [{"type": "gaussian_noise"}, {"type": "vflip"}]}
    with pytest.raises(TrainingInputError, match=r"dataset\.augment\[1\]\.type: vflip is an image transform, but "
                                                 r"the samples are points2d \[2\]"):
        prepare(copy.deepcopy(project), data=blobs())
