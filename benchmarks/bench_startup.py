"""Start-up and open times of the desktop app (issue 4). Targets: both under 1 s.

- start-up: `python -m nnstudio` spawned with NNSTUDIO_EXIT_AFTER_FIRST_PAINT=1, which makes the app
  print when its window first paints and quit. Reported from process start (/proc) and from the
  spawn call (includes the fork/exec), with whether torch was already imported at that moment.
- open a generated 1,000-node project from the command line: the same, with the file as argument.
- open a 1,000-node project in a running window (File > Open): read the file, build the document
  (with its analysis) and the canvas, and paint the window once.
Prints figures; asserts nothing. Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nnstudio.io import save  # noqa: E402
from nnstudio.model.builder import GraphBuilder  # noqa: E402

TARGET_S = 1.0


def grid_project(nodes: int = 1000, rows: int = 20, width: int = 16) -> GraphBuilder:
    """Input → `rows` chains of Linear/ReLU fanned out from it → Concat → Output: exactly `nodes` nodes."""
    b = GraphBuilder(name=f"grid-{nodes}")
    source = b.add("Input", "x", shape=[width], at=(0.0, rows * 80.0))
    columns, extra = divmod(nodes - 3, rows)
    ends = []
    for row in range(rows):
        previous = source
        for column in range(1, columns + 1 + (row < extra)):
            at = (column * 240.0, row * 160.0)
            node = b.add("Linear", at=at, out_features=width) if column % 2 else b.add("ReLU", at=at)
            b.link(previous, node)
            previous = node
        ends.append(previous)
    columns += extra > 0
    join = b.add("Concat", at=((columns + 1) * 240.0, rows * 80.0), dim=-1)
    for end in ends:
        b.link(end, join, "inputs")
    b.chain(join, b.add("Output", "y", at=((columns + 2) * 240.0, rows * 80.0)))
    return b


def spawn_until_first_paint(*args: str) -> dict:
    env = {**os.environ, "NNSTUDIO_EXIT_AFTER_FIRST_PAINT": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    spawned = time.time()
    done = subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("NNSTUDIO_FIRST_PAINT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"nnstudio did not start (exit {done.returncode}):\n{done.stderr}")
    figures = json.loads(line.split(" ", 1)[1])
    figures["since_spawn_s"] = figures["wall_time"] - spawned
    return figures


def report(label: str, samples: list[float]) -> None:
    median, worst = statistics.median(samples), max(samples)
    verdict = "ok" if worst < TARGET_S else "OVER TARGET"
    print(f"  {label:<44} median {median * 1000:7.0f} ms   worst {worst * 1000:7.0f} ms   "
          f"target < {TARGET_S * 1000:.0f} ms: {verdict}")


def bench_processes(runs: int, project_file: Path) -> None:
    for title, args in (("start-up, default example", ()), ("start-up with a 1,000-node file", (str(project_file),))):
        samples = [spawn_until_first_paint(*args) for _ in range(runs)]
        print(f"{title} ({runs} runs, process start → first paint):")
        if all(s["process_age_s"] is not None for s in samples):
            report("from process start (/proc)", [s["process_age_s"] for s in samples])
        report("from the spawn call", [s["since_spawn_s"] for s in samples])
        loaded = sum(s["torch_loaded"] for s in samples)
        print(f"  torch imported before the first paint: {loaded} of {runs} runs")


def bench_open_in_window(runs: int, project_file: Path) -> None:
    from PySide6.QtCore import QSettings

    from nnstudio.app import create_application
    from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
    from nnstudio.io import load
    from nnstudio.layers import default_registry
    from nnstudio.ui.document import Document
    from nnstudio.ui.main_window import MainWindow

    app = create_application([])
    registry = default_registry()
    scratch = Path(tempfile.mkdtemp(prefix="nnstudio-bench-"))
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Document(load(EXAMPLES[DEFAULT_EXAMPLE].path, registry), registry), settings=settings,
                        recovery_folder=scratch / "recovery")
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        window.files.open_path(project_file)
        window.repaint()  # a synchronous paint of the whole window, canvas included
        samples.append(time.perf_counter() - started)
        window.files.open_example(DEFAULT_EXAMPLE)
        app.processEvents()
    nodes = len(load(project_file, registry).graph.nodes)
    print(f"open a {nodes:,}-node project in a running window ({runs} runs, read + analyse + scene + paint):")
    report("File > Open to painted", samples)
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project_file = Path(folder) / "grid.nnstudio"
        builder = grid_project(args.nodes)
        save(builder.project, project_file)
        print(f"generated project: {len(builder.graph.nodes):,} nodes, {len(builder.graph.edges):,} links\n")
        bench_processes(args.runs, project_file)
        print()
        bench_open_in_window(args.runs, project_file)


if __name__ == "__main__":
    main()
