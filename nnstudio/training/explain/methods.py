"""The attribution methods, declared once: the CLI's choices, the app's list and the docs all read METHODS.

Each entry names Captum's class and what the method needs, so a method that does not apply to a model is
refused before Captum runs, with one line that says why (`method_problem`).
"""

from __future__ import annotations

from dataclasses import dataclass

CAPTUM_HINT = 'explain needs Captum: pip install "nnstudio[explain]"'
SKLEARN_HINT = 'fits its surrogate with scikit-learn: pip install "nnstudio[explain]"'
CONV_TYPES = ("Conv1d", "Conv2d")  # the layers Grad-CAM can read feature maps from


@dataclass(frozen=True)
class Method:
    """One attribution method.

    `gradients`: it differentiates the output by the input, so inputs must be real numbers (not token ids).
    `perturbs`: it replaces parts of the input with a baseline; token ids would be replaced by token 0, which
    says something about the sequence, but KernelSHAP and LIME fit a surrogate over such replacements and are
    kept to real-valued inputs like the gradient methods. `needs_conv`: it reads a convolution's feature maps.
    `surrogate`: Captum fits its linear surrogate with scikit-learn, which the explain extra therefore brings.
    `options`: the CLI options it uses beyond --target."""

    name: str
    title: str
    captum: str  # the class in captum.attr
    summary: str
    gradients: bool = True
    integer_inputs: bool = False
    needs_conv: bool = False
    options: tuple[str, ...] = ()
    surrogate: bool = False  # fits a linear model with scikit-learn (Captum's SkLearnLasso / LinearRegression)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "saliency", "Saliency", "Saliency", "The gradient of the target's score by each input value, in magnitude."
        ),
        Method(
            "integrated-gradients",
            "Integrated Gradients",
            "IntegratedGradients",
            "The gradient averaged along a straight path from a zero baseline to the input, times the difference: "
            "attributions sum to the score's change.",
            options=("steps",),
        ),
        Method(
            "smoothgrad",
            "SmoothGrad",
            "NoiseTunnel",
            "Saliency (or Integrated Gradients) averaged over copies of the input with Gaussian noise added, "
            "which removes much of the gradient's speckle.",
            options=("samples", "noise", "smooth"),
        ),
        Method(
            "grad-cam",
            "Grad-CAM",
            "LayerGradCam",
            "A convolution's feature maps weighted by the target's gradient, kept where positive and upsampled "
            "to the input: which regions the model looked at.",
            needs_conv=True,
            options=("layer",),
        ),
        Method(
            "occlusion",
            "Occlusion",
            "Occlusion",
            "How much the target's score drops when a patch (an image window, a feature) is set to zero.",
            gradients=False,
            integer_inputs=True,
            options=("window",),
        ),
        Method(
            "kernel-shap",
            "KernelSHAP",
            "KernelShap",
            "Shapley values estimated by a weighted linear fit over random subsets of features (image patches).",
            gradients=False,
            options=("samples",),
            surrogate=True,
        ),
        Method(
            "lime",
            "LIME",
            "Lime",
            "A local linear surrogate fitted to the model's scores on perturbed copies of the input.",
            gradients=False,
            options=("samples",),
            surrogate=True,
        ),
    )
}


def method_problem(method: Method, integer: bool, conv_nodes: list[str]) -> str | None:
    """Why `method` cannot explain this model, in one line; None when it can."""
    if integer and not method.integer_inputs:
        return (
            f"{method.name}: the model reads token ids (whole numbers), which {method.title} cannot "
            "attribute to; use occlusion"
        )
    if method.needs_conv and not conv_nodes:
        return (
            f"{method.name}: {method.title} needs a convolution node ({' or '.join(CONV_TYPES)}) and the "
            "graph has none; use saliency or integrated-gradients"
        )
    if method.surrogate and not _importable("sklearn"):
        return f"{method.name}: {method.title} {SKLEARN_HINT}"
    return None


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def captum_available() -> bool:
    """Whether Captum is installed, without importing it (that takes seconds: the app asks on its GUI thread)."""
    return _importable("captum")
