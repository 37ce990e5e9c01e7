"""Regenerate the shipped example projects from code, so they stay valid as the catalogue evolves.

Run: python tools/make_examples.py   (writes nnstudio/examples/*.nnstudio)
"""

from __future__ import annotations

from nnstudio.examples import EXAMPLES, HERE
from nnstudio.io.project_file import save
from nnstudio.model.builder import GraphBuilder


def spirals() -> GraphBuilder:
    b = GraphBuilder(name="Spirals MLP")
    b.project.metadata.description = EXAMPLES["spirals"].description
    b.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 64}), "ReLU",
                 ("Linear", {"out_features": 64}), "ReLU", ("Linear", {"out_features": 2}), "Output")
    return b


BUILDERS = {"spirals": spirals}

if __name__ == "__main__":
    for name, make in BUILDERS.items():
        save(make().project, HERE / f"{name}.nnstudio")
        print(f"wrote {name}")
