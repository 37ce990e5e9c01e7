"""Example projects shipped inside the package, each a plain .nnstudio file beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
DEFAULT_EXAMPLE = "spirals"


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    description: str

    @property
    def path(self) -> Path:
        return HERE / f"{self.name}.nnstudio"


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example("spirals", "Spirals MLP", "A small MLP that untangles two interleaved 2-D spirals."),
    )
}


def example_path(name: str) -> Path:
    if name not in EXAMPLES:
        raise KeyError(f"no example named {name!r}; choose one of {', '.join(EXAMPLES)}")
    return EXAMPLES[name].path
