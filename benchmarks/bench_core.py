"""Validate + shape inference, and compile, on generated layered graphs of 1,000 and 10,000 nodes.

Targets (issue 2): at 1,000 nodes validate+infer < 10 ms p95 and compile < 50 ms; at 10,000 nodes
validate+infer < 100 ms. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.graphs import layered_graph
from nnstudio.analysis import analyze
from nnstudio.compile import build_module
from nnstudio.layers import default_registry


def timings(func, repeats: int) -> list[float]:
    func()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(label: str, values: list[float], target: float) -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    verdict = "ok" if p95 < target else "OVER TARGET"
    print(f"{label:<32} median {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms   "
          f"target {target:.0f} ms  {verdict}")


def _cold(size: int, registry) -> None:
    """Analysis of a freshly loaded graph, whose index is built on first use."""
    graph = _COLD[size]
    from nnstudio.analysis import index

    index._INDEXES.pop(graph, None)
    analyze(graph, registry)


_COLD: dict = {}


def main() -> None:
    registry = default_registry()
    for size, analyze_target, repeats in ((1000, 10, 50), (10000, 100, 10)):
        builder = layered_graph(size)
        _COLD[size] = layered_graph(size).graph
        graph = builder.graph
        assert analyze(graph, registry).ok
        print(f"-- {len(graph.nodes)} nodes, {len(graph.edges)} edges")
        fc = next(n for n in graph.nodes.values() if n.type == "Linear")

        def edit_then_analyze(g=graph, node_id=fc.id) -> None:
            # As in the editor: one param edit, then a full validation and shape-inference pass.
            g.set_param(node_id, "bias", not g.nodes[node_id].params.get("bias", True))
            analyze(g, registry)

        report("edit + validate + infer shapes", timings(edit_then_analyze, repeats), analyze_target)
        report("first analysis (cold index)", timings(lambda s=size: _cold(s, registry), 3), analyze_target)
        if size == 1000:
            report("compile (fx GraphModule)", timings(lambda p=builder.project: build_module(p, registry), 10), 50)


if __name__ == "__main__":
    main()
