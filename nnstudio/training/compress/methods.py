"""The compression methods, declared once: the CLI's flags, the dialog's choices and the docs' table read this.

A method is either pruning (zeroing weights with torch.nn.utils.prune; the model keeps its modules, so it is
written as weights that load into the project's own graph) or int8 quantisation (torch.ao.quantization swaps
modules for quantised ones, so it is written as TorchScript).
"""

from __future__ import annotations

from dataclasses import dataclass


class CompressError(Exception):
    """A compression that cannot be done as asked, in one line naming what is wrong."""


@dataclass(frozen=True)
class Method:
    name: str  # what options and the report call it
    kind: str  # "prune" or "quantize": what the result is and how it is written
    title: str  # for menus and table headings
    summary: str  # one sentence for help and docs
    torch_api: str  # the torch function doing the work, for docs


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "global",
            "prune",
            "Global magnitude pruning",
            "Zero the given fraction of all Linear/Conv weights with the smallest |value|, ranked across layers.",
            "torch.nn.utils.prune.global_unstructured (L1Unstructured)",
        ),
        Method(
            "structured",
            "prune",
            "Structured pruning (channels / neurons)",
            "Zero the given fraction of each Linear/Conv layer's output neurons or channels with the smallest "
            "L2 norm; the output layer keeps all of its outputs.",
            "torch.nn.utils.prune.ln_structured (n=2, dim=0)",
        ),
        Method(
            "dynamic",
            "quantize",
            "Dynamic int8 quantisation",
            "Store Linear and LSTM weights as int8 and quantise activations on the fly, per batch.",
            "torch.ao.quantization.quantize_dynamic",
        ),
        Method(
            "static",
            "quantize",
            "Static int8 quantisation",
            "Quantise weights and activations (convolutions included) to int8, with activation ranges calibrated "
            "on training batches; needs a CPU quantisation engine (x86, fbgemm or qnnpack).",
            "torch.ao.quantization.quantize_fx.prepare_fx / convert_fx",
        ),
    )
}

SWEEP_AMOUNTS = (0.0, 0.25, 0.5, 0.75, 0.9)  # the sparsities a sweep tries
ENGINES = ("x86", "fbgemm", "qnnpack")  # CPU quantisation engines, preferred first
CALIBRATION_BATCHES = 4  # training batches that set static quantisation's activation ranges
LATENCY_WARMUP = 10  # TorchScript optimises a graph over its first runs
LATENCY_REPEATS = 30


@dataclass
class CompressOptions:
    """What to do. `amount` is the fraction pruned (0 < amount < 1); `sweep` tries SWEEP_AMOUNTS instead."""

    method: str = "global"
    amount: float = 0.5
    finetune: int = 0  # epochs of training after pruning, with the masks kept
    sweep: bool = False
    repeats: int = LATENCY_REPEATS  # latency runs after warm-up (quantisation)
    split: str = "auto"

    def check(self) -> None:
        if self.method not in METHODS:
            raise CompressError(f"method {self.method!r}: choose one of {', '.join(METHODS)}")
        kind = METHODS[self.method].kind
        if kind == "prune" and not self.sweep and not 0.0 < self.amount < 1.0:
            raise CompressError(f"prune amount {self.amount:g}: give a fraction strictly between 0 and 1")
        if self.finetune < 0:
            raise CompressError(f"finetune {self.finetune}: give a number of epochs >= 0")
        if kind == "quantize" and (self.sweep or self.finetune):
            raise CompressError(f"{self.method} quantisation takes no sweep or fine-tuning; those are for pruning")
        if self.repeats < 1:
            raise CompressError(f"repeats {self.repeats}: give at least 1")
