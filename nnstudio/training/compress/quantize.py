"""int8 quantisation with torch's own tooling, and the CPU measurements that show what it bought.

Dynamic quantisation (`quantize_dynamic`) swaps Linear and LSTM layers for int8 ones that quantise activations
on the fly; static quantisation (FX graph mode: `prepare_fx`, calibration on training batches, `convert_fx`)
also quantises convolutions and activations, and needs a CPU quantisation engine (x86, fbgemm or qnnpack).
Quantised modules are not the graph's own modules, so models are measured and written as TorchScript.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from nnstudio.training.compress.methods import CALIBRATION_BATCHES, ENGINES, LATENCY_WARMUP, CompressError

DYNAMIC_TYPES = (nn.Linear, nn.LSTM)
STATIC_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def engine() -> str:
    """The CPU quantisation engine this torch build offers, preferred first; CompressError when it has none."""
    supported = torch.backends.quantized.supported_engines
    for name in ENGINES:
        if name in supported:
            return name
    raise CompressError(
        "static int8 quantisation is unavailable: this torch build has no CPU quantisation "
        f"engine ({', '.join(ENGINES)}); it offers {', '.join(supported) or 'none'}"
    )


def quantizable(module: nn.Module, types: tuple[type, ...]) -> list[str]:
    return [name for name, m in module.named_modules() if isinstance(m, types)]


def dynamic_int8(module: nn.Module) -> tuple[nn.Module, list[str]]:
    """A dynamically quantised copy: Linear and LSTM weights in int8."""
    chosen = quantizable(module, DYNAMIC_TYPES)
    if not chosen:
        convs = quantizable(module, STATIC_TYPES)
        hint = " (its convolutions need --static)" if convs else ""
        raise CompressError(f"nothing to quantise dynamically: the model has no Linear or LSTM layer{hint}")
    torch.backends.quantized.engine = engine()
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao on every call
        warnings.simplefilter("ignore")
        quantised = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(module).eval(), set(DYNAMIC_TYPES), dtype=torch.qint8
        )
    return quantised, [f"dynamic int8 on {len(chosen)} layer(s) ({torch.backends.quantized.engine} engine)"]


def static_int8(module: nn.Module, calibration: torch.Tensor, batch_size: int) -> tuple[nn.Module, list[str]]:
    """A statically quantised copy (FX graph mode, the engine's default qconfig mapping), calibrated on
    CALIBRATION_BATCHES training batches."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    chosen = quantizable(module, STATIC_TYPES)
    if not chosen:
        raise CompressError("nothing to quantise statically: the model has no Linear or convolution layer")
    name = engine()
    torch.backends.quantized.engine = name
    example = (calibration[:1],)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prepared = prepare_fx(copy.deepcopy(module).eval(), get_default_qconfig_mapping(name), example)
            with torch.no_grad():
                for start in range(0, min(len(calibration), CALIBRATION_BATCHES * batch_size), batch_size):
                    prepared(calibration[start : start + batch_size])
            quantised = convert_fx(prepared)
            with torch.no_grad():
                quantised(calibration[:1])
        except Exception as exc:  # torch's tracer or a kernel refusing this graph: say which, in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CompressError(
                f"static int8 quantisation is not supported for this graph ({first}); "
                "try dynamic quantisation (--quantize int8 without --static)"
            ) from None
    batches = min(CALIBRATION_BATCHES, -(-len(calibration) // batch_size))
    return quantised, [
        f"static int8 on {len(chosen)} layer(s) ({name} engine), calibrated on {batches} "
        f"training batch(es) of {batch_size}"
    ]


def torchscript(module: nn.Module, example: torch.Tensor, path: Path) -> torch.jit.ScriptModule:
    """Trace and save; the file's size is what the report calls the model's size."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            traced = torch.jit.trace(module.eval(), (example,), check_trace=False)
        except Exception as exc:
            raise CompressError(f"the model cannot be traced to TorchScript ({exc})") from None
        torch.jit.save(traced, str(path))
    return traced


def scripted_size(module: nn.Module, example: torch.Tensor) -> tuple[int, torch.jit.ScriptModule]:
    """The TorchScript file size of a model that is not written anywhere (the original, for comparison)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pt"
        traced = torchscript(module, example, path)
        return path.stat().st_size, traced


@torch.inference_mode()
def latency_ms(module: nn.Module, sample: torch.Tensor, repeats: int, warmup: int = LATENCY_WARMUP) -> float:
    """Median wall time of one forward pass on one sample (batch 1) on the CPU, after warm-up."""
    for _ in range(warmup):
        module(sample)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        module(sample)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0
