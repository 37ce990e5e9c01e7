"""The augmentation transforms, each declared once: its params, what data it fits, and its checks.

A project lists them in its dataset section, applied in order to each training batch:

    "augment": [{"type": "random_crop", "padding": 2}, {"type": "hflip", "p": 0.5}, {"type": "mixup", "alpha": 0.2}]

The table below is what the file checks (parse.py), the builder (build.py), the GUI's list editor and the
docs (docs/training.md, checked by a test) all read. Nothing here imports kornia: a project is checked
without it, and only training or the preview needs it (the `augment` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nnstudio.layers.params import ParamKind, ParamSpec, choice_param, float_param, int_param

Problem = tuple[str, str]  # (param name, message), placed under dataset.augment[i] by parse.py
IMAGE, ANY = "image", "any"  # what data a transform fits: [C, H, W] images, or any float samples
KORNIA, TORCH = "kornia", "torch"  # who implements it: kornia.augmentation, or a few torch ops here (mix.py)


@dataclass(frozen=True)
class TransformSpec:
    """One transform. `fits` is IMAGE or ANY; `mixes` marks the batch-level ones that blend pairs of samples
    and their targets (so they need class targets); `check` finds problems between its own params."""

    name: str
    title: str
    doc: str
    params: tuple[ParamSpec, ...]
    fits: str = IMAGE
    backend: str = KORNIA
    mixes: bool = False
    check: Callable[[dict[str, Any]], list[Problem]] | None = None

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}


def _p(default: float, doc: str = "Probability that a sample is transformed.") -> ParamSpec:
    return float_param("p", default, doc, 0.0, 1.0)


def _range(low: str, high: str) -> Callable[[dict[str, Any]], list[Problem]]:
    """A check that the pair (low, high) is in order."""

    def check(values: dict[str, Any]) -> list[Problem]:
        if values[low] > values[high]:
            return [(low, f"{values[low]:g} is above {high} ({values[high]:g}); keep {low} <= {high}")]
        return []

    return check


def _jitter_check(values: dict[str, Any]) -> list[Problem]:
    if not any(values[name] > 0 for name in ("brightness", "contrast", "saturation", "hue")):
        return [("brightness", "every strength is 0, so nothing changes; set brightness, contrast, saturation "
                 "or hue above 0")]
    return []


def _both(*checks: Callable[[dict[str, Any]], list[Problem]]) -> Callable[[dict[str, Any]], list[Problem]]:
    return lambda values: [problem for check in checks for problem in check(values)]


SIZE = ParamSpec("size", ParamKind.INT_TUPLE, None, "Height and width of the crop; empty crops the image's own "
                 "size. A crop of another size is resized back to the image size, so the model sees the same "
                 "shape as in validation.", minimum=1, length=2, optional=True, label="Crop size")

TRANSFORMS: dict[str, TransformSpec] = {spec.name: spec for spec in (
    TransformSpec("random_crop", "Random crop", "Pads each image, then cuts a crop at a random place: the "
                  "picture shifts by up to the padding.", (
                      int_param("padding", 2, "Pixels added on every side before cropping.", 0, 64),
                      SIZE,
                      choice_param("padding_mode", "constant", ("constant", "reflect", "replicate"),
                                   "What the padding holds: zeros, the mirrored image, or its edge pixels."))),
    TransformSpec("hflip", "Horizontal flip", "Mirrors images left to right (not for digits or text, whose "
                  "mirror image means something else).", (_p(0.5),)),
    TransformSpec("vflip", "Vertical flip", "Mirrors images top to bottom (aerial or microscope pictures).",
                  (_p(0.5),)),
    TransformSpec("rotation", "Rotation", "Turns images by a random angle in [-degrees, degrees].", (
        float_param("degrees", 15.0, "The largest turn, in degrees.", 0.0, 180.0), _p(0.5))),
    TransformSpec("affine", "Affine", "Turns, shifts, scales and shears images by random amounts.", (
        float_param("degrees", 10.0, "The largest turn, in degrees.", 0.0, 180.0),
        float_param("translate", 0.1, "The largest shift, as a share of the width and height.", 0.0, 1.0),
        float_param("scale_min", 0.9, "The smallest zoom factor.", 0.1, 10.0),
        float_param("scale_max", 1.1, "The largest zoom factor.", 0.1, 10.0),
        float_param("shear", 0.0, "The largest shear, in degrees.", 0.0, 89.0),
        _p(0.5)), check=_range("scale_min", "scale_max")),
    TransformSpec("color_jitter", "Colour jitter", "Changes brightness, contrast, saturation and hue by random "
                  "amounts. Saturation and hue need colour (3-channel) images; brightness and contrast also "
                  "work on grey ones.", (
                      float_param("brightness", 0.2, "The largest brightness change, as a share.", 0.0, 1.0),
                      float_param("contrast", 0.2, "The largest contrast change, as a share.", 0.0, 1.0),
                      float_param("saturation", 0.0, "The largest saturation change, as a share.", 0.0, 1.0),
                      float_param("hue", 0.0, "The largest hue shift, as a share of the colour wheel.", 0.0, 0.5),
                      _p(0.5)), check=_jitter_check),
    TransformSpec("gaussian_noise", "Gaussian noise", "Adds Gaussian noise to every value of a sample: images, "
                  "table rows, sequences or points.", (
                      float_param("std", 0.05, "Standard deviation of the noise, in the data's own units.",
                                  0.0, 10.0),
                      _p(1.0)), fits=ANY, backend=TORCH),
    TransformSpec("random_erasing", "Random erasing", "Blanks a random rectangle of each image (cutout), so the "
                  "model cannot lean on one region.", (
                      float_param("scale_min", 0.02, "The smallest erased area, as a share of the image.",
                                  0.001, 1.0),
                      float_param("scale_max", 0.2, "The largest erased area, as a share of the image.", 0.001, 1.0),
                      float_param("ratio_min", 0.3, "The narrowest rectangle (height / width).", 0.01, 100.0),
                      float_param("ratio_max", 3.3, "The widest rectangle (height / width).", 0.01, 100.0),
                      float_param("value", 0.0, "What the erased pixels are set to.", -1e6, 1e6),
                      _p(0.5)), check=_both(_range("scale_min", "scale_max"), _range("ratio_min", "ratio_max"))),
    TransformSpec("mixup", "Mixup", "Blends each sample with another one of the batch, and their targets in the "
                  "same proportion (a soft label): lambda ~ Beta(alpha, alpha).", (
                      float_param("alpha", 0.2, "Beta distribution parameter: small values mix a little, 1 "
                                  "mixes uniformly.", 0.001, 100.0),
                      _p(1.0, "Probability that a batch is mixed.")), fits=ANY, backend=TORCH, mixes=True),
    TransformSpec("cutmix", "CutMix", "Pastes a random rectangle of another image of the batch into each image; "
                  "the targets are mixed by the pasted area.", (
                      float_param("alpha", 1.0, "Beta distribution parameter of the pasted share.", 0.001, 100.0),
                      _p(1.0, "Probability that a batch is mixed.")), backend=TORCH, mixes=True),
)}

MAX_TRANSFORMS = 32


def transform_summary(name: str, values: dict[str, Any]) -> str:
    """One line for a list entry: 'Random crop (padding 2, size -)', for the GUI and messages."""
    spec = TRANSFORMS[name]
    shown = ", ".join(f"{p.name} {_short(values.get(p.name, p.default))}" for p in spec.params)
    return f"{spec.title} ({shown})" if shown else spec.title


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return str(value)


def docs_table() -> str:
    """The Markdown table of every transform in docs/training.md (a test checks the page holds it verbatim)."""
    rows = ["| Type | Applies to | Params (default; allowed) | What it does |", "|---|---|---|---|"]
    for spec in TRANSFORMS.values():
        fits = "images" if spec.fits == IMAGE else "any float samples"
        if spec.mixes:
            fits += ", class targets"
        params = "<br>".join(f"`{p.name}` {_short(p.default)}; {p.describe()}" for p in spec.params)
        rows.append(f"| `{spec.name}` | {fits} | {params} | {spec.doc} |")
    return "\n".join(rows)
