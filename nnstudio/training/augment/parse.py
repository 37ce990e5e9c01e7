"""Reading `dataset.augment` and checking it: against itself, against the data, against the training setup.

Three levels, each as (place, message) pairs such as ("dataset.augment[1].degrees", "expected a number ..."):

- `augment_problems(section)`: the list alone (types, params, kornia installed), without loading data;
- `fit_problems(transforms, data)`: whether each transform fits the loaded samples (a crop larger than the
  image, a flip on table rows, a hue shift on grey images, noise on token ids);
- `setup_problems(...)`: whether the run applies them and can train on mixed targets (mixup and cutmix
  need class targets and a loss that takes probabilities).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from nnstudio.layers.params import coerce_params
from nnstudio.training.augment.specs import ANY, KORNIA, MAX_TRANSFORMS, TRANSFORMS, TransformSpec

KEY = "augment"
PLACE = f"dataset.{KEY}"
EXTRA = 'pip install "nnstudio[augment]"'
SOFT_TARGET_LOSSES = {"classification": ("cross_entropy",), "binary": ("bce_with_logits", "bce", "mse")}
APPLYING_RECIPES = ("supervised", "adversarial", "fewshot")  # the recipes whose steps go through StepRunner
Problem = tuple[str, str]


@dataclass(frozen=True)
class Transform:
    """One checked entry of the list: its spec, complete values, and its index (for messages)."""

    spec: TransformSpec
    values: dict[str, Any]
    index: int

    @property
    def place(self) -> str:
        return f"{PLACE}[{self.index}]"


def parse_augment(value: Any) -> tuple[list[Transform], list[Problem]]:
    """The transforms a legal list describes, plus every problem; entries with problems are left out."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [(PLACE, 'expected a list of transforms, e.g. [{"type": "hflip", "p": 0.5}]')]
    if len(value) > MAX_TRANSFORMS:
        return [], [(PLACE, f"{len(value)} transforms; list at most {MAX_TRANSFORMS}")]
    transforms, problems = [], []
    for index, entry in enumerate(value):
        transform, found = _entry(index, entry)
        problems += found
        if transform is not None and not found:
            transforms.append(transform)
    return transforms, problems


def _entry(index: int, entry: Any) -> tuple[Transform | None, list[Problem]]:
    where = f"{PLACE}[{index}]"
    if not isinstance(entry, dict):
        return None, [(where, f"expected an object with a 'type' (one of {', '.join(TRANSFORMS)})")]
    name = entry.get("type")
    if name is None:
        return None, [(f"{where}.type", f"choose a transform: {', '.join(TRANSFORMS)}")]
    if not isinstance(name, str) or name not in TRANSFORMS:
        return None, [(f"{where}.type", f"no transform named {name!r}; choose one of {', '.join(TRANSFORMS)}")]
    spec = TRANSFORMS[name]
    given = {key: item for key, item in entry.items() if key != "type"}
    values, problems = coerce_params(spec.params, given, where, name)
    if not problems and spec.check is not None:
        problems = [(f"{where}.{param}", message) for param, message in spec.check(values)]
    return Transform(spec, values, index), problems


def kornia_available() -> bool:
    return importlib.util.find_spec("kornia") is not None


def augment_problems(section: dict[str, Any]) -> list[Problem]:
    """Problems of the dataset section's `augment` list alone, without loading data (dataset_problems)."""
    transforms, problems = parse_augment(section.get(KEY))
    needing = [t.spec.name for t in transforms if t.spec.backend == KORNIA]
    if needing and not kornia_available():
        problems.append((PLACE, f"{', '.join(dict.fromkeys(needing))} need kornia, which is not installed; "
                         f"{EXTRA}"))
    return problems


# --- fitting the data -----------------------------------------------------------------------------
def fit_problems(transforms: list[Transform], kind: str, shape: tuple[int, ...], dtype: str) -> list[Problem]:
    """Whether each transform fits samples of this kind, shape ([C, H, W] for images) and dtype."""
    problems = []
    for transform in transforms:
        problem = _fit(transform, kind, tuple(shape), dtype)
        if problem is not None:
            problems.append(problem)
    return problems


def _fit(transform: Transform, kind: str, shape: tuple[int, ...], dtype: str) -> Problem | None:
    spec, values, where = transform.spec, transform.values, transform.place
    shown = "[" + ", ".join(str(d) for d in shape) + "]"
    if not dtype.startswith("float"):
        return (f"{where}.type", f"{spec.name} changes numbers, but the samples are {kind} of dtype {dtype} "
                "(ids, which noise or mixing would turn into other ids)")
    if spec.fits == ANY:
        return None
    if kind != "image" or len(shape) != 3:
        return (f"{where}.type", f"{spec.name} is an image transform, but the samples are {kind} {shown}; only "
                "gaussian_noise and mixup apply to samples that are not images")
    channels, height, width = shape
    if spec.name == "random_crop":
        return _crop_fit(transform, height, width)
    if spec.name == "color_jitter" and channels != 3:
        for name in ("saturation", "hue"):
            if values[name] > 0:
                return (f"{where}.{name}", f"{name} needs colour images with 3 channels; these have {channels}; "
                        "set it to 0 (brightness and contrast work on any image)")
    return None


def _crop_fit(transform: Transform, height: int, width: int) -> Problem | None:
    values, where = transform.values, transform.place
    pad = values["padding"]
    if values["padding_mode"] == "reflect" and pad >= min(height, width):
        return (f"{where}.padding", f"reflect padding must be smaller than the image ({height}x{width}); got "
                f"{pad}")
    size = values["size"]
    crop = (height, width) if size is None else ((size, size) if isinstance(size, int) else tuple(size))
    if crop[0] > height + 2 * pad or crop[1] > width + 2 * pad:
        return (f"{where}.size", f"a {crop[0]}x{crop[1]} crop is larger than the {height}x{width} images with "
                f"their padding ({height + 2 * pad}x{width + 2 * pad}); crop at most that, or pad more")
    return None


# --- the training setup ---------------------------------------------------------------------------
def setup_problems(transforms: list[Transform], recipe: str, task: str | None, loss: str | None,
                   objective: bool, target_shape: tuple[int, ...] | None) -> list[Problem]:
    """Whether this run applies the list, and can train on the soft targets that mixup and cutmix make.

    `loss` is the menu loss (None for a graph with loss nodes, `objective`); `target_shape` is known once the
    data is loaded."""
    if not transforms:
        return []
    if recipe not in APPLYING_RECIPES:
        return [(PLACE, f"the {recipe} recipe does not train on dataset batches through the augmentation; "
                 f"remove the list, or train with one of {', '.join(APPLYING_RECIPES)}")]
    mixing = [t for t in transforms if t.spec.mixes]
    if not mixing:
        return []
    first = mixing[0]
    where, name = f"{first.place}.type", first.spec.name
    if objective:
        return [(where, f"{name} mixes the targets into probabilities, which the loss nodes of this graph are "
                 "not known to accept; use the menu loss (training.loss) or remove it")]
    if recipe == "fewshot":
        return [(where, f"{name} mixes targets, but few-shot episodes label their own queries; remove it")]
    if task is None:
        return []
    if task not in SOFT_TARGET_LOSSES:
        return [(where, f"{name} needs class targets (classification or binary), but the task is {task}")]
    if loss is not None and loss not in SOFT_TARGET_LOSSES[task]:
        return [(where, f"{name} makes probability targets, which '{loss}' does not take; use "
                 f"{' or '.join(repr(name) for name in SOFT_TARGET_LOSSES[task])} (training.loss.name)")]
    expected = () if task == "classification" else (1,)
    if target_shape is not None and tuple(target_shape) != expected:
        return [(where, f"{name} mixes one class per sample, but the targets are {list(target_shape)} per "
                 "sample")]
    return []
