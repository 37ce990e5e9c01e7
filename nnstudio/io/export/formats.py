"""The catalogue of export formats, as the CLI's help and the GUI's export dialog list them, and the parity rule
every format passes (here, without torch, so that help texts can quote it)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from nnstudio.io.export.errors import ExportError, MissingExtraError

# An export passes when, for each output, every |exported - app| <= ATOL + RTOL * (the output's magnitude: its
# largest finite |value|), as torch.testing.assert_close combines an absolute and a relative part. The relative
# part scales with the output tensor, not with each element: a value near zero computed from large terms (a sum
# that cancels) carries the rounding of those terms, so an elementwise relative error is no measure of fidelity.
# onnxruntime's float32 matmuls, summing in another order, differ from torch by 2e-7 to 5e-7 of the magnitude,
# at any scale, while the elementwise relative error of the same outputs reached 8e-5. RTOL leaves room for
# deeper graphs; a wrong op is off by far more. ATOL alone was the whole rule before, which refused faithful
# exports of models with large outputs.
RTOL = 1e-5
ATOL = 1e-5
LIMIT = f"{ATOL:g} + {RTOL:g}·magnitude"  # the rule, as messages show it


@dataclass(frozen=True)
class FormatInfo:
    name: str  # what --format takes
    title: str
    extension: str  # "" for a folder
    description: str
    extra: str | None = None  # the pip extra the format needs, e.g. "onnx"
    modules: tuple[str, ...] = ()  # what that extra provides, checked before exporting

    @property
    def is_folder(self) -> bool:
        return not self.extension


FORMATS: dict[str, FormatInfo] = {
    info.name: info
    for info in (
        FormatInfo("torchscript", "TorchScript", ".pt",
                   "A scripted module that loads with torch.jit.load, without nnstudio."),
        FormatInfo("exported-program", "torch.export program", ".pt2",
                   "A torch.export ExportedProgram with a dynamic batch dimension (torch.export.load)."),
        FormatInfo("onnx", "ONNX", ".onnx",
                   "One self-contained ONNX file with a dynamic batch dimension, checked with onnxruntime.",
                   extra="onnx", modules=("onnx", "onnxscript", "onnxruntime")),
        FormatInfo("safetensors", "Weights (safetensors)", ".safetensors",
                   "The weights, plus a JSON sidecar holding the architecture (the project) and versions."),
        FormatInfo("python", "Python project folder", "",
                   "model.py (a readable nn.Module), train.py, the weights and a README; needs only torch "
                   "and numpy."),
        FormatInfo("bundle", "Reproducibility bundle", ".zip",
                   "One archive: project, weights, metrics history, environment and every other export."),
    )
}


def nnstudio_version() -> str:
    """The running nnstudio's version (from the package, else from the installed distribution)."""
    import nnstudio

    found = getattr(nnstudio, "__version__", None)
    if found:
        return str(found)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nnstudio")
    except PackageNotFoundError:
        return "unknown"


def get_format(name: str) -> FormatInfo:
    info = FORMATS.get(name)
    if info is None:
        raise ExportError(f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}",
                          bad_input=True)
    return info


def missing_modules(info: FormatInfo) -> list[str]:
    """The modules of the format's extra that cannot be imported here."""
    missing = []
    for module in info.modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def require_extra(info: FormatInfo) -> None:
    missing = missing_modules(info)
    if missing:
        raise MissingExtraError(
            f"the {info.title} export needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install the extra with: "
            f"pip install \"nnstudio[{info.extra}]\"  (or: pip install {' '.join(info.modules)})"
        )
