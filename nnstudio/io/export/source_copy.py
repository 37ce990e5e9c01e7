"""Copy the source of custom modules (and what they use) into a standalone file.

Exported code must run without nnstudio, so a class such as nnstudio.layers.modules.X is copied
with inspect.getsource. Every free name in the copied code is resolved against the defining
module: other nnstudio classes and functions are copied as well, modules and third-party objects
become import lines, and plain constants are written out. Anything else is refused by name.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

PACKAGE = "nnstudio"


class SourceCopyError(Exception):
    """A custom module whose source cannot be made standalone; the message names what blocks it."""


@dataclass
class CopiedSource:
    imports: list[str] = field(default_factory=list)  # import lines, in first-seen order
    blocks: list[str] = field(default_factory=list)  # class/function sources, dependencies first
    constants: list[str] = field(default_factory=list)
    _done: set[str] = field(default_factory=set)

    def add_import(self, line: str) -> None:
        if line not in self.imports:
            self.imports.append(line)

    def merge(self, other: CopiedSource) -> None:
        """Take in another copy's imports, constants and blocks, each once."""
        for line in other.imports:
            self.add_import(line)
        self.constants.extend(c for c in other.constants if c not in self.constants)
        self.blocks.extend(b for b in other.blocks if b not in self.blocks)
        self._done |= other._done


def is_internal(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def copy_sources(objects: list[Any]) -> CopiedSource:
    copied = CopiedSource()
    for obj in objects:
        _copy(obj, copied, [])
    return copied


def _copy(obj: Any, copied: CopiedSource, chain: list[str]) -> None:
    key = f"{obj.__module__}.{obj.__qualname__}"
    if key in copied._done:
        return
    if "<locals>" in obj.__qualname__ or "." in obj.__qualname__:
        raise SourceCopyError(f"{key} is not defined at the top level of its module, so it cannot be copied")
    copied._done.add(key)
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as exc:
        raise SourceCopyError(f"cannot read the source of {key}: {exc}") from None
    namespace = vars(sys.modules[obj.__module__])
    postponed = namespace.get("annotations") is getattr(__import__("__future__"), "annotations", None)
    for name in sorted(free_names(source, skip_annotations=postponed)):
        if name == obj.__name__:
            continue
        if name not in namespace:
            if hasattr(builtins, name):
                continue
            raise SourceCopyError(f"{key} uses {name!r}, which its module does not define")
        resolve_global(name, namespace[name], copied, [*chain, key])
    copied.blocks.append(source.rstrip() + "\n")


def resolve_global(name: str, value: Any, copied: CopiedSource, chain: list[str]) -> None:
    """Make `name` available in the copied code: copy, import or write out its value."""
    if isinstance(value, types.ModuleType):
        if value.__name__.split(".")[0] == PACKAGE:
            raise SourceCopyError(f"{chain[-1]} uses the nnstudio module {value.__name__!r} ({name})")
        copied.add_import(_module_import(name, value.__name__))
    elif inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        if is_internal(value):
            _copy(value, copied, chain)
        else:
            copied.add_import(_object_import(name, value, chain))
    elif _is_literal(value):
        line = f"{name} = {value!r}"
        if line not in copied.constants:
            copied.constants.append(line)
    else:
        raise SourceCopyError(f"{chain[-1]} uses {name!r} ({type(value).__name__}), which cannot be copied "
                              "into standalone code")


def _module_import(name: str, module: str) -> str:
    parent, _, leaf = module.rpartition(".")
    if name == module:
        return f"import {module}"
    if parent and name == leaf:
        return f"from {parent} import {leaf}"
    return f"import {module} as {name}"


def _object_import(name: str, value: Any, chain: list[str]) -> str:
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not module or not qualname or "." in qualname:
        raise SourceCopyError(f"{chain[-1]} uses {name!r}, whose import path is unknown")
    return f"from {module} import {qualname}" + (f" as {name}" if name != qualname else "")


def _is_literal(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str, bytes, type(None))):
        return not isinstance(value, float) or (value == value and abs(value) != float("inf"))
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_is_literal(k) and _is_literal(v) for k, v in value.items())
    return False


def free_names(source: str, skip_annotations: bool = False) -> set[str]:
    """Names read by the code that it does not bind itself (an over-approximation is harmless)."""
    tree = ast.parse(source)
    annotation_nodes: set[int] = set()
    if skip_annotations:
        for node in ast.walk(tree):
            for child in _annotations_of(node):
                annotation_nodes.update(id(n) for n in ast.walk(child))
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in annotation_nodes:
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return loaded - (bound - loaded_globals(tree))


def loaded_globals(tree: ast.AST) -> set[str]:
    """Names declared `global`: bound inside, but still read from the module."""
    return {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}


def _annotations_of(node: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        found.append(node.returns)
    if isinstance(node, ast.arg) and node.annotation is not None:
        found.append(node.annotation)
    if isinstance(node, ast.AnnAssign):
        found.append(node.annotation)
    return found
