"""Graph + shapes → torch.fx.GraphModule. Never generates source strings to exec."""

from nnstudio.compile.builder import CompiledModel, CompileError, build_module
from nnstudio.compile.summary import Summary, example_inputs, summarize

__all__ = ["CompileError", "CompiledModel", "Summary", "build_module", "example_inputs", "summarize"]
