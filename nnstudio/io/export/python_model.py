"""Generate model.py: a readable nn.Module with the graph's layer names, runnable with torch alone.

__init__ comes from the compiled model's Constructs (the same constructor calls the app used) and
forward() from the fx graph's own generated code, so the file computes exactly what the app does.
`module_source` renders the same class on its own (imports, copied helpers, __init__ and forward): what
`nnstudio code` prints and the app's Code tab shows.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import torch

from nnstudio.compile import CompiledModel
from nnstudio.io.export.errors import ExportError
from nnstudio.io.export.formats import nnstudio_version
from nnstudio.io.export.source_copy import (
    CopiedSource,
    SourceCopyError,
    copy_sources,
    free_names,
    is_internal,
    resolve_global,
)
from nnstudio.layers.spec import Construct
from nnstudio.model.graph import Graph
from nnstudio.model.project import Project

if TYPE_CHECKING:
    from nnstudio.io.export.job import Job

BASE_IMPORTS = ["import torch", "from torch import nn"]
_RESERVED = {"nn", "torch", "Model", "Path"}
_FREED = re.compile(r";  (?:\w+ = )+None$")  # fx frees dead values early; noise in readable code


def class_name(project_name: str) -> str:
    """'Spirals MLP' -> 'SpiralsMLP'; falls back to 'Model' when nothing usable is left."""
    words = re.findall(r"[A-Za-z0-9]+", project_name)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or name[0].isdigit() or name in _RESERVED:
        return "Model" if not name or name in _RESERVED else f"Model{name}"
    return name


def literal(value: Any, where: str) -> str:
    """Python source for a constructor argument."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, (bool, int, float, str, type(None))):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(literal(v, where) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k, where)}: {literal(v, where)}" for k, v in value.items()) + "}"
    if isinstance(value, torch.dtype):
        return str(value)
    raise ExportError(f"python export: {where} has an argument that cannot be written as code: {value!r}",
                      node=where)


def constructor(construct: Construct, copied: CopiedSource, where: str) -> str:
    cls = construct.resolve()
    if construct.target.startswith("torch.nn.") and getattr(torch.nn, cls.__name__, None) is cls:
        name = f"nn.{cls.__name__}"
    elif is_internal(cls):
        name = cls.__name__  # its source is copied into the file
    else:
        module, _, leaf = construct.target.rpartition(".")
        copied.add_import(f"from {module} import {leaf}")
        name = leaf
    args = ", ".join(f"{key}={literal(value, where)}" for key, value in construct.kwargs.items())
    return f"{name}({args})"


def render_model(job: Job) -> tuple[str, str]:
    """(source of model.py, class name)."""
    cls = class_name(job.project.metadata.name)
    copied, body = model_class(job.project, job.compiled, cls)
    text = _assemble(job, cls, copied, body)
    check_standalone(text)
    return text, cls


def model_class(project: Project, compiled: CompiledModel, cls: str) -> tuple[CopiedSource, str]:
    """(what the class needs: imports, constants, copied helpers; the class's own source) for compiled.module."""
    module = compiled.module
    constructs = module_constructs(compiled, module)
    owner = attribute_owners(compiled, project.graph)
    copied = copy_internal(constructs, owner)
    inits = [f"        self.{attr} = {constructor(c, copied, owner.get(attr, attr))}" for attr, c in constructs.items()]
    forward = forward_source(module, copied)
    title = project.metadata.name
    body = (f"class {cls}(nn.Module):\n"
            f'    """{title}, as drawn in nnstudio: one attribute per layer node."""\n\n'
            "    def __init__(self) -> None:\n"
            "        super().__init__()\n" + "\n".join(inits) + "\n\n" + forward)
    return copied, body


def module_source(project: Project, compiled: CompiledModel) -> str:
    """The compiled model as one standalone module: imports, copied helpers, and the class with its __init__
    (the submodules, built by the app's own constructor calls) and forward(). It runs with torch alone, and
    the compiled module's state_dict loads into the class. Raises ExportError when a layer cannot be written
    as code (a plugin whose source cannot be copied); `code_listing` then falls back to forward() alone."""
    cls = class_name(project.metadata.name)
    copied, body = model_class(project, compiled, cls)
    parts = [f'"""{project.metadata.name}: the PyTorch module nnstudio compiles from the graph."""\n\n'
             "from __future__ import annotations\n\n" + import_block([*BASE_IMPORTS, *copied.imports]),
             "\n".join(copied.constants), "\n\n\n".join(block.rstrip() for block in copied.blocks), body]
    text = "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"
    check_standalone(text, "module")
    return text


def code_listing(project: Project, compiled: CompiledModel) -> str:
    """module_source, or, for a model it cannot write, forward() alone under a comment that says why."""
    try:
        return module_source(project, compiled)
    except (ExportError, SourceCopyError) as exc:
        forward = "\n".join(_FREED.sub("", line.rstrip()) for line in compiled.code.strip("\n").splitlines())
        return (f"# The constructors cannot be shown as standalone code: {exc}\n"
                f"# forward(), as the compiler generated it:\n\n{forward.strip()}\n")


def module_constructs(compiled: CompiledModel, module: torch.nn.Module) -> dict[str, Construct]:
    """The constructor of each submodule of `module`, in its attribute order.

    The inference model holds only part of what the compiler built when the graph has loss nodes (losses,
    Target transforms and a teacher live in the objective alone), so its children pick their constructors."""
    children = [name for name, _ in module.named_children()]
    unknown = [name for name in children if name not in compiled.constructs]
    if unknown:
        raise ExportError("python export: the compiled model has submodules that no layer declared: "
                          + ", ".join(sorted(unknown)))
    return {name: compiled.constructs[name] for name in children}


def attribute_owners(compiled: CompiledModel, graph: Graph) -> dict[str, str]:
    """Submodule attribute -> the name of the graph node it was built for (for messages)."""
    return {attr: graph.nodes[node_id].name for node_id, attrs in compiled.modules_of.items() for attr in attrs}


def copy_internal(constructs: dict[str, Construct], owner: dict[str, str]) -> CopiedSource:
    """The source of every nnstudio class among `constructs` (and what they use), for standalone code."""
    internal = [c.resolve() for c in constructs.values() if is_internal(c.resolve())]
    try:
        return copy_sources(list(dict.fromkeys(internal)))
    except SourceCopyError as exc:
        names = [owner.get(a, a) for a, c in constructs.items() if is_internal(c.resolve())]
        raise ExportError(f"python export: cannot copy the code of node {names[0]!r}: {exc}",
                          node=names[0] if names else None) from None


def forward_source(module: torch.fx.GraphModule, copied: CopiedSource) -> str:
    code = module.graph.python_code("self")
    lines = (_FREED.sub("", line.rstrip()) for line in code.src.strip("\n").splitlines())
    source = "\n".join(lines).strip("\n")
    for name in sorted(free_names(source) & set(code.globals)):
        value = code.globals[name]
        if name == "NoneType":
            copied.constants.append("NoneType = type(None)")
        elif isinstance(value, float):
            copied.constants.append(f"{name} = float({str(value)!r})")
        elif name not in ("torch", "nn"):
            resolve_global(name, value, copied, ["forward()"])
    return textwrap.indent(source, "    ")


def _io_lines(job: Job) -> list[str]:
    from nnstudio.io.export.weights_format import tensor_types

    lines = []
    for label, node_ids in (("Inputs: ", job.compiled.input_nodes), ("Outputs:", job.compiled.output_nodes)):
        described = ", ".join(f"{t['name']} [{', '.join(str(d) for d in t['shape'] or [])}] {t['dtype']}"
                              for t in tensor_types(job, node_ids))
        lines.append(f"{label} {described}")
    return lines


def import_block(lines: list[str]) -> str:
    """Import lines without repeats, the standard library first, as isort would group them."""
    unique = list(dict.fromkeys(lines))

    def stdlib(line: str) -> bool:
        return line.split()[1].split(".")[0] in sys.stdlib_module_names

    def order(line: str) -> tuple[bool, str]:
        return line.startswith("from "), line.split()[1]

    groups = [sorted((line for line in unique if stdlib(line)), key=order),
              sorted((line for line in unique if not stdlib(line)), key=order)]
    return "\n\n".join("\n".join(group) for group in groups if group)


def _assemble(job: Job, cls: str, copied: CopiedSource, body: str) -> str:
    title = job.project.metadata.name
    io_lines = "\n".join(_io_lines(job))
    inputs = ", ".join(f"{job.project.graph.nodes[n].name!r}: ({tuple(job.compiled.analysis.shapes.of(n).shape)!r}, "
                       f"torch.{job.compiled.analysis.shapes.of(n).dtype})" for n in job.compiled.input_nodes)
    parts = [
        f'"""{title}: a PyTorch model exported by nnstudio {nnstudio_version()}.\n\n'
        f"It needs only torch. Layer names are the node names of the graph.\n\n{io_lines}\n\n"
        f"    from model import {cls}, load_model\n"
        f"    model = load_model()  # {cls}() with the weights in model.pt, in eval mode\n"
        '"""\n\nfrom __future__ import annotations\n\n' + import_block(["from pathlib import Path", *BASE_IMPORTS,
                                                                   *copied.imports]),
        "\n".join(copied.constants),
        "\n\n\n".join(block.rstrip() for block in copied.blocks),
        body,
        f"Model = {cls}\n"
        f"# Shape of one sample (batch dimension excluded) and dtype, per forward() argument.\n"
        f"INPUTS = {{{inputs}}}",
        "def load_model(weights: str = \"model.pt\") -> Model:\n"
        '    """The model with the weights saved next to this file, ready for inference."""\n'
        "    model = Model()\n"
        "    state = torch.load(Path(__file__).with_name(weights), map_location=\"cpu\", weights_only=True)\n"
        "    model.load_state_dict(state)\n"
        "    return model.eval()",
        "def example_inputs(batch: int = 4) -> tuple[torch.Tensor, ...]:\n"
        '    """Random inputs of the right shapes (zeros for integer token ids)."""\n'
        "    return tuple(torch.zeros(batch, *shape, dtype=dtype) if not dtype.is_floating_point\n"
        "                 else torch.randn(batch, *shape) for shape, dtype in INPUTS.values())",
        "if __name__ == \"__main__\":\n"
        "    with torch.no_grad():\n"
        "        result = load_model()(*example_inputs())\n"
        "    for tensor in result if isinstance(result, tuple) else (result,):\n"
        "        print(tuple(tensor.shape), tensor.dtype)",
    ]
    return "\n\n\n".join(p for p in parts if p.strip()) + "\n"


def check_standalone(text: str, file: str = "model.py") -> None:
    """A guard on this generator: the file must parse and must not import nnstudio."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(m.split(".")[0] == "nnstudio" for m in modules):
            raise ExportError(f"python export: the generated {file} would import nnstudio")
