"""Canvas performance on a generated 1,000-node layered project (issue 4).

Measures, offscreen:
- open and render: Document (with its analysis) + EditorView + scene build + first paint, forced by
  grabbing the viewport. Target < 1 s.
- paint time while panning: the view is scrolled in steps and each frame is forced with
  viewport().repaint(). Target median and worst < 16 ms. Measured at 1:1 zoom (normal editing) and
  fitted to the window (every node on screen at once).
- the viewport update modes side by side, to justify the one the view uses: besides panning, each
  mode is timed while a node is dragged (Qt repaints only what changed; that is where modes differ).
- auto layout of the whole project.
Prints figures; asserts nothing. Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QApplication, QGraphicsView

from nnstudio.analysis.layout import auto_layout
from nnstudio.layers import default_registry
from nnstudio.model import Project
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.background import GuiThreadCollector

MODES = {
    "minimal": QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate,
    "smart": QGraphicsView.ViewportUpdateMode.SmartViewportUpdate,
    "bounding": QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate,
    "full": QGraphicsView.ViewportUpdateMode.FullViewportUpdate,
}


def layered_project(rows: int = 20, columns: int = 50, width: int = 16) -> Project:
    """Input → `rows` parallel chains of Linear/ReLU with cross-row Adds → Concat → Output."""
    b = GraphBuilder(name=f"canvas-{rows}x{columns}")
    source = b.add("Input", "x", shape=[width], at=(0, rows * 80))
    previous = [source] * rows
    for column in range(1, columns - 1):
        current = []
        for row in range(rows):
            at = (column * 240.0, row * 160.0)
            if column % 6 == 0 and column > 1:
                node = b.add("Add", at=at)
                b.link(previous[row], node, "inputs")
                b.link(previous[(row + 1) % rows], node, "inputs")
            elif column % 2:
                node = b.add("Linear", at=at, out_features=width)
                b.link(previous[row], node)
            else:
                node = b.add("ReLU", at=at)
                b.link(previous[row], node)
            current.append(node)
        previous = current
    join = b.add("Concat", at=((columns - 1) * 240.0, rows * 80.0))
    for node in previous:
        b.link(node, join, "inputs")
    b.link(join, b.add("Output", "y", at=(columns * 240.0, rows * 80.0)))
    return b.project


def open_and_render(app: QApplication, project: Project, fit: bool):
    from nnstudio.ui.document import Document
    from nnstudio.ui.editor import EditorView

    start, cpu = time.perf_counter(), time.thread_time()
    document = Document(project, default_registry())
    view = EditorView(document)
    view.resize(1200, 800)
    view.show()
    if fit:
        view.fit_to_window()
    else:
        view.center_on_node(next(iter(project.graph.nodes)))
    view.viewport().grab()
    app.processEvents()
    return view, (time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000


class Frames:
    """Wall-clock frame times, plus the GUI thread's CPU time: on a busy machine the wall figure
    includes waiting for a core, the CPU figure is what the frame itself cost."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, action) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        action()
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.thread_time() - cpu) * 1000)


def pan_frames(app: QApplication, view, steps: int, step: int) -> Frames:
    """Scroll right then back, forcing a synchronous repaint of each frame."""
    app.processEvents()
    frames = Frames()
    for index in range(steps):
        direction = 1 if index < steps // 2 else -1
        view.navigator.scroll_by(QPoint(direction * step, step // 3 * direction))
        frames.time(view.viewport().repaint)
    return frames


def drag_frames(app: QApplication, view, steps: int) -> Frames:
    """Move the node at the centre of the view step by step; each frame is the repaint Qt schedules
    for the moved node and its links (this is where the viewport update mode matters)."""
    scene = view.scene()
    item = scene.node_at(view.mapToScene(view.viewport().rect().center())) or next(iter(scene.nodes.values()))
    app.processEvents()
    frames = Frames()
    for index in range(steps):
        offset = 20.0 if (index // 10) % 2 == 0 else -20.0

        def frame(offset: float = offset) -> None:
            item.move_to(QPointF(item.pos().x() + offset, item.pos().y()))
            app.processEvents()

        frames.time(frame)
    return frames


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "OVER TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--step", type=int, default=30, help="pixels scrolled per frame")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    GuiThreadCollector.install(app)  # as the app does
    project = layered_project(args.rows, args.columns)
    print(f"project: {len(project.graph.nodes)} nodes, {len(project.graph.edges)} edges; view 1200x800")

    start = time.perf_counter()
    auto_layout(project.graph)
    print(f"auto layout                      {(time.perf_counter() - start) * 1000:8.1f} ms")

    for fit in (False, True):
        view, opened, cpu = open_and_render(app, layered_project(args.rows, args.columns), fit)
        label = "fitted" if fit else "1:1"
        print(f"open + first paint ({label:>6})        {opened:8.1f} ms  (CPU {cpu:6.1f})   target 1000 ms  "
              f"{verdict(opened, 1000)}")
        for name, mode in MODES.items():
            view.setViewportUpdateMode(mode)
            chosen = " (used)" if mode == QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate else ""
            for gesture, frames in (("pan", pan_frames(app, view, args.steps, args.step)),
                                    ("drag", drag_frames(app, view, args.steps))):
                median, worst = statistics.median(frames.wall), max(frames.wall)
                cpu_median, cpu_worst = statistics.median(frames.cpu), max(frames.cpu)
                print(f"  {gesture:<4} {label:>6} {name + chosen:<16} median {median:6.2f} ms  "
                      f"worst {worst:6.2f} ms  (CPU {cpu_median:5.2f} / {cpu_worst:5.2f})  "
                      f"target 16 ms  {verdict(worst, 16)}")
        view.close()
        view.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
