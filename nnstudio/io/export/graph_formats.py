"""Formats that serialise the whole computation: TorchScript, torch.export programs and ONNX.

Each writer takes any module plus example arguments, so the same code exports the full model and,
when something goes wrong, single nodes (to find which one is at fault).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nnstudio.io.export.disk import serialised, write_bytes
from nnstudio.io.export.parity import Runner

_QUIET_LOCK = threading.RLock()  # re-entrant: an exporter may nest quiet blocks


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Silence exporter chatter (progress lines, graph dumps, warnings, log records) while it works.

    torch configures its own loggers, so only a process-wide logging.disable reliably mutes them;
    the previous setting is restored afterwards. Because that state is process-wide, quiet blocks are
    serialised: two exports on two threads (the app's dialogs) cannot restore it out of order.
    """
    buffer = io.StringIO()
    with _QUIET_LOCK:
        previous = logging.root.manager.disable
        with warnings.catch_warnings(), contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            warnings.simplefilter("ignore")
            logging.disable(logging.CRITICAL)
            try:
                yield buffer
            finally:
                logging.disable(previous)


def batch_dynamic_shapes(args: Sequence[Any]) -> tuple[Any, ...]:
    """Dim 0 of every tensor argument is the batch; one shared symbol, so all inputs agree on it."""
    batch = torch.export.Dim("batch")
    return tuple({0: batch} if isinstance(a, torch.Tensor) and a.dim() > 0 else None for a in args)


class TorchScript:
    name = "torchscript"

    def write_module(self, module: nn.Module, args: tuple[Any, ...], path: Path, input_names: list[str],
                     output_names: list[str]) -> list[str]:
        """Script the module (keeps control flow and any batch size); trace it when scripting fails.

        A traced file replays the ops seen on the example batch; the parity check then runs it on a
        batch of another size, so a trace that baked in the batch size is refused, not shipped.
        """
        with quiet():
            try:
                scripted = torch.jit.script(module)
                reason = None
            except Exception as exc:  # TorchScript's compiler rejects many Python constructs
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                scripted = torch.jit.trace(module, tuple(args), check_trace=False)
            data = serialised(lambda buffer: torch.jit.save(scripted, buffer))
        write_bytes(path, data)
        return [] if reason is None else [f"TorchScript: scripting failed ({reason[:200]}), so the model was traced "
                                          "instead"]

    def load(self, path: Path) -> Runner:
        with quiet():
            loaded = torch.jit.load(str(path), map_location="cpu")
        loaded.eval()
        return loaded


class ExportedProgram:
    name = "exported-program"

    def write_module(self, module: nn.Module, args: tuple[Any, ...], path: Path, input_names: list[str],
                     output_names: list[str]) -> list[str]:
        with quiet():
            program = torch.export.export(module, tuple(args), dynamic_shapes=batch_dynamic_shapes(args))
            data = serialised(lambda buffer: torch.export.save(program, buffer))
        write_bytes(path, data)
        return []

    def load(self, path: Path) -> Runner:
        with quiet():
            program = torch.export.load(str(path))
        return program.module()


class Onnx:
    name = "onnx"

    def write_module(self, module: nn.Module, args: tuple[Any, ...], path: Path, input_names: list[str],
                     output_names: list[str]) -> list[str]:
        """One file with the weights inside and a symbolic batch dim, serialised in memory and checked first."""
        import onnx

        with quiet():
            program = torch.onnx.export(module, tuple(args), None, dynamo=True, external_data=False,
                                        verbose=False, dynamic_shapes=batch_dynamic_shapes(args),
                                        input_names=input_names or None, output_names=output_names or None)
        model = program.model_proto
        external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        if external:
            raise RuntimeError(f"the ONNX file refers to external weight data ({', '.join(external[:3])})")
        onnx.checker.check_model(model, full_check=True)
        write_bytes(path, model.SerializeToString())
        return [f"ONNX opset {_opset(model)}, checked with onnx.checker (full check)"]

    def load(self, path: Path) -> Runner:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def run(*tensors: torch.Tensor) -> list[torch.Tensor]:
            feed = {name: t.detach().cpu().numpy() for name, t in zip(names, tensors)}
            return [torch.from_numpy(out) for out in session.run(None, feed)]

        return run


def _opset(model: Any) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


GRAPH_FORMATS = {f.name: f for f in (TorchScript(), ExportedProgram(), Onnx())}
