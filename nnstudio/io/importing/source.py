"""Find and instantiate the user's model class: `path/to/model.py:ClassName` or `package.module:ClassName`.

This runs the user's code on purpose (importing the file and calling the class), which is why the
command and the dialog warn before doing it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import uuid
from pathlib import Path

from torch import nn

from nnstudio.io.importing.notice import RUNS_CODE_WARNING as RUNS_CODE_WARNING  # shared with the GUI


class ImportModelError(Exception):
    """The model cannot be imported; the message says what and where."""


def split_reference(reference: str) -> tuple[str, str]:
    """'file.py:Class' or 'pkg.mod:Class' -> (module part, class name)."""
    module, sep, name = reference.rpartition(":")
    if not sep or not module or not name:
        raise ImportModelError(f"{reference!r}: expected FILE.py:ClassName or package.module:ClassName")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ImportModelError(f"{reference!r}: {name!r} is not a class name")
    return module, name


def load_class(reference: str) -> type[nn.Module]:
    module_part, name = split_reference(reference)
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        module = _load_file(Path(module_part))
    else:
        try:
            module = importlib.import_module(module_part)
        except Exception as exc:  # the user's module may fail in any way while it is imported
            raise ImportModelError(f"cannot import {module_part!r}: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, name, None)
    if cls is None:
        raise ImportModelError(f"{module_part} has no {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ImportModelError(f"{module_part}:{name} is not a torch.nn.Module class")
    return cls


def _load_file(path: Path):
    if not path.is_file():
        raise ImportModelError(f"{path}: no such file")
    folder = str(path.resolve().parent)
    spec = importlib.util.spec_from_file_location(f"nnstudio_user_{path.stem}_{uuid.uuid4().hex[:8]}", path)
    if spec is None or spec.loader is None:
        raise ImportModelError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses, inspect.getsource and pickling look modules up here
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file may fail in any way
        del sys.modules[spec.name]
        raise ImportModelError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(folder)
    return module


def instantiate(reference: str) -> nn.Module:
    cls = load_class(reference)
    try:
        return cls()
    except TypeError as exc:
        raise ImportModelError(f"{reference}: the class must be constructible without arguments ({exc})") from None
    except Exception as exc:  # the user's constructor may fail in any way
        raise ImportModelError(f"{reference}: creating the model failed: {type(exc).__name__}: {exc}") from None


def parse_input_shape(text: str) -> tuple[tuple[int, ...], str]:
    """'1,28,28' -> ((1, 28, 28), 'float32'); '16:int64' for token ids. The batch dim is left out."""
    shape_text, _, dtype = text.partition(":")
    dtype = dtype or "float32"
    if dtype not in ("float32", "int64"):
        raise ImportModelError(f"--input-shape {text!r}: the dtype must be float32 or int64, got {dtype!r}")
    try:
        shape = tuple(int(part) for part in shape_text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise ImportModelError(f"--input-shape {text!r}: expected sizes like 1,28,28 (batch excluded)") from None
    if not shape or any(size < 1 for size in shape):
        raise ImportModelError(f"--input-shape {text!r}: expected positive sizes like 1,28,28 (batch excluded)")
    return shape, dtype
