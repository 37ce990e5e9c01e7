"""Running one attribution method of METHODS on one sample, through Captum.

Everything the user picks is checked first (the method against the model, the target class, the Grad-CAM node),
so what reaches Captum is known to apply; a bad pick is an ExplainError with one line naming it. Captum is
imported only here, inside the functions, so the rest of nnstudio works without the extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from nnstudio.training.explain.methods import CAPTUM_HINT, CONV_TYPES, METHODS, Method, method_problem
from nnstudio.training.inference import field_names, integer_input, predict

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

PATCHES = 8  # images are cut into about PATCHES × PATCHES windows for occlusion, KernelSHAP and LIME
DEFAULTS = {"steps": 32, "samples": 200, "noise": 0.15, "smooth": "saliency", "window": None, "layer": None}
SMOOTH_SAMPLES = 16


class ExplainError(ValueError):
    """A method, target or option that does not apply; one line naming it."""


@dataclass
class Attribution:
    """A method's attribution for one sample, shaped like the Input (without the batch dimension)."""

    method: str
    values: np.ndarray
    target: int | None
    target_name: str | None
    kind: str  # the dataset's kind: image, tabular, sequence, tokens, points2d
    feature_names: list[str]
    layer: str | None = None  # Grad-CAM's convolution node
    sample: np.ndarray | None = None  # the input explained, for drawing beside the map
    options: dict[str, Any] = field(default_factory=dict)

    def features(self) -> list[tuple[str, float]]:
        """(feature name, attribution) per input value, in input order."""
        return list(zip(self.feature_names, self.values.reshape(-1).astype(float).tolist()))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "title": METHODS[self.method].title,
            "target": self.target,
            "target_name": self.target_name,
            "kind": self.kind,
            "shape": list(self.values.shape),
            "options": self.options,
        }
        if self.layer is not None:
            data["layer"] = self.layer
        if self.values.ndim == 1:
            data["features"] = [{"name": n, "attribution": v} for n, v in self.features()]
        data["attributions"] = self.values.astype(float).tolist()
        return data


def conv_nodes(job: TrainingJob) -> list[str]:
    """The names of the convolution nodes, in the order the model runs them."""
    order = [node.meta.get("nnstudio_node") for node in job.compiled.module.graph.nodes]
    seen = list(dict.fromkeys(node_id for node_id in order if node_id is not None))
    return [job.names[node_id] for node_id in seen if job.types.get(node_id) in CONV_TYPES]


def explain(
    job: TrainingJob, sample: torch.Tensor, method_name: str, target: str | int | None = None, **options: Any
) -> Attribution:
    """Attribute the model's output for `sample` (a batch of one) to its input values with one method."""
    method = METHODS.get(method_name)
    if method is None:
        raise ExplainError(f"--method: no method {method_name!r}; the methods are {', '.join(METHODS)}")
    problem = method_problem(method, integer_input(job), conv_nodes(job))
    if problem:
        raise ExplainError(problem)
    try:
        import captum.attr  # noqa: F401
    except ImportError:
        raise ExplainError(CAPTUM_HINT) from None
    settings = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    module = job.compiled.module
    was_training = module.training
    module.eval()
    try:
        index, name = _target(job, sample, target)
        forward = _forward(module)
        values, layer = _attribute(method, job, forward, sample, index, settings)
    finally:
        module.train(was_training)
    used = {key: settings[key] for key in method.options if key != "layer"}
    return Attribution(
        method.name,
        values.detach().reshape(sample.shape[1:]).numpy(),
        index,
        name,
        job.data.kind,
        field_names(job),
        layer,
        sample[0].detach().numpy(),
        used,
    )


def _forward(module: nn.Module):
    """The model as Captum wants it: one score row per sample (outputs beyond [N, K] are flattened)."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        out = module(x)
        return out.reshape(out.shape[0], -1) if out.dim() != 2 else out

    return forward


def _target(job: TrainingJob, sample: torch.Tensor, target: str | int | None) -> tuple[int, str | None]:
    """The output index to explain: a class given by index or name, else the predicted class (output 0 for a
    single-output model)."""
    with torch.no_grad():
        outputs = _forward(job.compiled.module)(sample).shape[1]
    names = job.data.class_names if job.task == "classification" else None
    if target is None:
        if job.task != "classification" or outputs == 1:
            return 0, None
        predicted = predict(job, sample).predicted
        index = names.index(predicted) if names and predicted in names else int(predicted)
        return index, names[index] if names else None
    text = str(target)
    if names and text in names:
        return names.index(text), text
    try:
        index = int(text)
    except ValueError:
        known = f"; the classes are {', '.join(names)}" if names else ""
        raise ExplainError(f"--target: {text!r} is not a class index{known}") from None
    if not 0 <= index < outputs:
        raise ExplainError(f"--target: {index} is out of range; the model has {outputs} output(s) (0 to {outputs - 1})")
    return index, names[index] if names and index < len(names) else None


def _attribute(
    method: Method, job: TrainingJob, forward, x: torch.Tensor, target: int, settings: dict[str, Any]
) -> tuple[torch.Tensor, str | None]:
    from captum import attr

    x = x.clone().requires_grad_(True) if method.gradients else x.clone()  # else Captum warns on stderr
    if method.name == "grad-cam":
        return _grad_cam(job, forward, x, target, settings["layer"])
    if method.name == "saliency":
        return attr.Saliency(forward).attribute(x, target=target), None
    if method.name == "integrated-gradients":
        return attr.IntegratedGradients(forward).attribute(x, target=target, n_steps=int(settings["steps"])), None
    if method.name == "smoothgrad":
        return _smoothgrad(forward, x, target, settings), None
    if method.name == "occlusion":
        window = _window(x.shape[1:], settings["window"])
        values = attr.Occlusion(forward).attribute(
            x.float() if x.is_floating_point() else x, target=target, sliding_window_shapes=window, strides=window
        )
        return values, None
    mask = _feature_mask(x.shape[1:], settings["window"])
    explainer = attr.KernelShap(forward) if method.name == "kernel-shap" else attr.Lime(forward)
    values = explainer.attribute(x, target=target, feature_mask=mask, n_samples=int(settings["samples"]))
    return values, None


def _smoothgrad(forward, x: torch.Tensor, target: int, settings: dict[str, Any]) -> torch.Tensor:
    from captum import attr

    base = settings["smooth"]
    if base not in ("saliency", "integrated-gradients"):
        raise ExplainError(f"--smooth: {base!r}; SmoothGrad smooths saliency or integrated-gradients")
    inner = attr.Saliency(forward) if base == "saliency" else attr.IntegratedGradients(forward)
    spread = float(x.detach().max() - x.detach().min()) or 1.0
    extra = {"n_steps": int(settings["steps"])} if base == "integrated-gradients" else {}
    return attr.NoiseTunnel(inner).attribute(
        x,
        target=target,
        nt_type="smoothgrad",
        nt_samples=SMOOTH_SAMPLES,
        stdevs=float(settings["noise"]) * spread,
        **extra,
    )


def _grad_cam(job: TrainingJob, forward, x: torch.Tensor, target: int, layer: str | None) -> tuple[torch.Tensor, str]:
    from captum.attr import LayerAttribution, LayerGradCam

    convs = conv_nodes(job)
    name = layer if layer is not None else convs[-1]
    if name not in convs:
        what = "a convolution node" if name in job.names.values() else "a node"
        raise ExplainError(
            f"--layer: {name!r} is not {what} of the graph; its convolution nodes are {', '.join(convs)}"
        )
    node_id = next(i for i, n in job.names.items() if n == name)
    module = job.compiled.module.get_submodule(job.compiled.modules_of[node_id][0])
    cam = LayerGradCam(forward, module).attribute(x, target=target, relu_attributions=True)
    spatial = tuple(x.shape[2:])
    if cam.dim() - 2 != len(spatial):
        raise ExplainError(
            f"--layer: {name!r} has feature maps of {cam.dim() - 2} dimension(s), the input "
            f"{len(spatial)}; Grad-CAM needs them to match"
        )
    mode = "bilinear" if len(spatial) == 2 else "linear"
    upsampled = LayerAttribution.interpolate(cam, spatial, interpolate_mode=mode)
    return upsampled.expand_as(x), name


def _window(shape: tuple[int, ...], size: int | None) -> tuple[int, ...]:
    """Occlusion's patch: one feature of a vector; all channels × a square (a stretch) of an image (sequence)."""
    if len(shape) <= 1:
        return (size or 1,) * len(shape)
    side = size or max(1, math.ceil(max(shape[1:]) / PATCHES))
    return (shape[0], *(min(side, d) for d in shape[1:]))


def _feature_mask(shape: tuple[int, ...], size: int | None) -> torch.Tensor:
    """Groups of input values that KernelSHAP and LIME switch on and off together: each feature of a vector;
    image patches (all channels together), so an 8 × 8 grid of them rather than every pixel."""
    if len(shape) <= 1:
        return torch.arange(math.prod(shape)).reshape(1, *shape)
    window = _window(shape, size)[1:]
    grids = torch.meshgrid(*(torch.arange(d) // w for d, w in zip(shape[1:], window)), indexing="ij")
    counts = [math.ceil(d / w) for d, w in zip(shape[1:], window)]
    group = torch.zeros(shape[1:], dtype=torch.int64)
    for grid, count in zip(grids, counts):
        group = group * count + grid
    return group.expand(shape).reshape(1, *shape).contiguous()
