"""Lazy package exports: a package's names are imported on first use, so reading a table does not load torch.

Several packages (training, io.importing, training.compress, training.explain) re-export names from their
modules while keeping `import nnstudio.training` cheap for the CLI's parser and the GUI's first paint.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports `exports[name]` (a module path) when asked for name.

    A module path that starts with "." is relative to the package.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = package + module if module.startswith(".") else module
        return getattr(importlib.import_module(path), name)

    return __getattr__
