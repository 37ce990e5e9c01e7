"""Live training in the app: GUI responsiveness, plot repaint cost, and training throughput against the CLI.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_live_training.py [--quick] [--attribute] [--only PART]

--attribute samples the GUI thread's stack (and the other threads') while a heartbeat is late and prints where
the late beats were spent; a GUI thread caught in the event loop itself, with no Python frame of ours, was in
Qt's C++ or waiting for the GIL. --only runs one part (repaint, lag or throughput).

1. Event-loop lag: a 16 ms heartbeat QTimer runs on the GUI thread while a CPU run trains with live plots on
   screen; lag is how late each beat fires (targets: p99 < 16 ms, max < 50 ms).
2. Repaint: one plot with 3 curves of 100,000 points each, repainted after new data (target < 8 ms).
3. Throughput: samples/s of the same project trained in the app (worker thread, plots live) and by
   `nnstudio train` in a separate process, alternating (target: app >= 0.9x CLI).
4. Health overlay: samples/s and lag of the same run with the canvas's health overlay on screen (Design
   perspective, badges and link colours redrawn from gradient and activation samples every 5 steps) and with
   the overlay hidden (View ▸ Health Overlay off), alternating (target: on >= 0.95x hidden).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported (it is, lazily, below)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout, whatever is installed

HEARTBEAT_MS = 16
STALL_MS = 8  # a beat this much overdue counts as a stall for the attribution printout


class StallWatch:
    """Samples the GUI thread's Python stack from a watchdog thread while a heartbeat is overdue.

    Each sample while the GUI thread is `STALL_MS` late is charged to the innermost project frames (nnstudio,
    pyqtgraph) it was in, so the printout says where the late beats were spent, not just that they were.
    """

    def __init__(self, every_s: float = 0.001) -> None:
        self.gui = threading.get_ident()
        self.every_s = every_s
        self.last = time.perf_counter()
        self.samples: Counter[str] = Counter()
        self.others: Counter[str] = Counter()  # where the other threads (training) were meanwhile
        self.stalls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def beat(self) -> None:
        self.last = time.perf_counter()

    def start(self) -> None:
        self.last = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        late_before = False
        while not self._stop.wait(self.every_s):
            late = (time.perf_counter() - self.last) * 1e3 > HEARTBEAT_MS + STALL_MS
            if late:
                frames = sys._current_frames()
                frame = frames.get(self.gui)
                if frame is not None:
                    self.samples[self._where(frame)] += 1
                for ident, other in frames.items():
                    if ident not in (self.gui, threading.get_ident()):
                        self.others[self._where(other, "nnstudio")] += 1
            self.stalls += late and not late_before
            late_before = late

    @staticmethod
    def _where(frame, *packages: str) -> str:
        stack = traceback.extract_stack(frame)
        ours = [f for f in stack if any(p in f.filename for p in packages or ("nnstudio", "pyqtgraph"))]
        chosen = (stack[-1:] + ours[-3:]) if ours and ours[-1] is not stack[-1] else (ours or stack)[-4:]
        return " < ".join(f"{Path(f.filename).stem}:{f.name}:{f.lineno}" for f in reversed(chosen))

    def report(self, top: int = 12) -> None:
        total = sum(self.samples.values())
        print(f"  stall attribution: {self.stalls} stalls, {total} samples of ~{self.every_s * 1e3:.0f} ms")
        for where, count in self.samples.most_common(top):
            print(f"    {count:5d}  {where}")
        print("  other threads meanwhile:")
        for where, count in self.others.most_common(top):
            print(f"    {count:5d}  {where}")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def make_app(example: str, training: dict, folder: Path):
    from nnstudio.examples import EXAMPLES
    from nnstudio.io import load
    from nnstudio.layers.registry import default_registry
    from nnstudio.ui.document import Document
    from nnstudio.ui.main_window import MainWindow
    from nnstudio.ui.training import install_training

    registry = default_registry()
    project = load(EXAMPLES[example].path, registry)
    project.training = {**project.training, **training}
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Document(project, registry), settings=settings, recovery_folder=folder / "recovery")
    controller = getattr(window, "training", None) or install_training(window)
    controller.runs_root = folder / "runs"
    controller.build()
    controller.ask_before_close = False
    window.files.ask_unsaved_changes = lambda name: "discard"
    window.resize(1400, 900)
    window.show()
    controller.training_dock.raise_()
    window.resizeDocks([controller.training_dock], [430], Qt.Orientation.Vertical)
    return window, controller, project


def train_in_app(controller, tab: str, watch: StallWatch | None = None) -> tuple[dict, list[float]]:
    """Train once with the heartbeat running; returns (outcome summary, lags in ms during training)."""
    bench = controller.bench
    lags: list[float] = []
    clock = QElapsedTimer()
    state = {"last": None, "done": None}
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)

    def beat() -> None:
        now = clock.nsecsElapsed() / 1e6
        training = bench.session is not None and bench.session.state == "running"
        if state["last"] is not None and training:
            lags.append(max(0.0, now - state["last"] - HEARTBEAT_MS))
        state["last"] = now
        if watch is not None:
            watch.beat()

    heartbeat.timeout.connect(beat)
    tabs = {"curves": bench.plots.curves, "boundary": bench.plots.boundary_tab, "gradients": bench.plots.gradients}
    bench.plots.tabs.setCurrentWidget(tabs[tab])  # shown (and painted once) before the run, as a user has it
    for _ in range(5):
        QApplication.processEvents()
    loop = QEventLoop()
    bench.run_finished.connect(lambda outcome: (state.__setitem__("done", outcome), loop.quit()))
    clock.start()
    heartbeat.start()
    if watch is not None:
        watch.start()
    if not bench.train():
        raise SystemExit(f"could not start: {bench.controls.message.text()}")
    loop.exec()
    heartbeat.stop()
    if watch is not None:
        watch.stop()
    session_records = bench.shown_records
    while bench.session is not None:
        QApplication.processEvents()
    epochs = [r for r in session_records if r.get("kind") == "epoch"]
    rates = [r["samples_per_s"] for r in epochs[1:] if isinstance(r.get("samples_per_s"), (int, float))]
    return {"status": state["done"].status, "samples_per_s": statistics.median(rates) if rates else None,
            "epochs": len(epochs)}, lags


def train_in_cli(project, folder: Path, threads: int | None = None) -> float:
    from nnstudio.io import save

    path = folder / "project.nnstudio"
    folder.mkdir(parents=True, exist_ok=True)
    save(project, path)
    metrics = folder / "metrics.jsonl"
    extra = ["--threads", str(threads)] if threads else []
    subprocess.run([sys.executable, "-m", "nnstudio", "train", str(path), "--out", str(folder / "cli"),
                    "--metrics", str(metrics), *extra], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    epochs = [r for r in map(json.loads, metrics.read_text().splitlines()) if r.get("kind") == "epoch"]
    return statistics.median(r["samples_per_s"] for r in epochs[1:])


def bench_lag(example: str, epochs: int, tab: str, attribute: bool = False) -> None:
    watch = StallWatch() if attribute else None
    with tempfile.TemporaryDirectory() as tmp:
        window, controller, _ = make_app(example, {"epochs": epochs}, Path(tmp))
        summary, lags = train_in_app(controller, tab, watch)
        window.close()
    print(f"event-loop lag, {example} x{epochs} epochs, '{tab}' plots on screen: {len(lags)} beats, "
          f"p50 {percentile(lags, 50):.2f} ms, p99 {percentile(lags, 99):.2f} ms, max {max(lags):.2f} ms "
          f"(targets: p99 < 16, max < 50); in-app {summary['samples_per_s']:,.0f} samples/s")
    if watch is not None:
        watch.report()


def bench_repaint(points: int = 100_000, repeats: int = 60) -> None:
    from nnstudio.ui.plots.base import CurvePlot

    plot = CurvePlot("Repaint benchmark", "value")
    plot.resize(1200, 500)
    plot.show()
    QApplication.processEvents()
    x = np.arange(points, dtype=np.float64)
    rng = np.random.default_rng(0)
    series = [np.cumsum(rng.normal(size=points)) for _ in range(3)]
    for i in range(len(series)):
        plot.curve(f"c{i}", f"curve {i}", ["#1f77b4", "#ff7f0e", "#2ca02c"][i])
    paint, update = [], []
    for r in range(repeats):
        grow = points - repeats + r + 1  # the live case: a little more data each time
        started = time.perf_counter()
        for i, y in enumerate(series):
            plot.set_data(f"c{i}", x[:grow], y[:grow])
        middle = time.perf_counter()
        plot.widget.viewport().repaint()
        done = time.perf_counter()
        update.append((middle - started) * 1e3)
        paint.append((done - middle) * 1e3)
    print(f"repaint, 3 curves x {points:,} points: median {statistics.median(paint):.2f} ms, "
          f"p95 {percentile(paint, 95):.2f} ms (target < 8 ms); setData for all three: median "
          f"{statistics.median(update):.2f} ms")


def bench_throughput(example: str, epochs: int, repeats: int) -> None:
    """The CLI runs with torch's default threads and with the app's thread count, to separate the cost of
    the app (GUI, plots, worker) from the app's choice to leave a core to the GUI."""
    from nnstudio.training.threads import plan_threads

    app_threads = plan_threads().intra_op
    app_rates, cli_rates, same_rates = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            window, controller, project = make_app(example, {"epochs": epochs}, Path(tmp))
            summary, _ = train_in_app(controller, "curves")
            window.close()
            app_rates.append(summary["samples_per_s"])
            cli_rates.append(train_in_cli(project, Path(tmp)))
            same_rates.append(train_in_cli(project, Path(tmp) / "same", app_threads))
    app_rate, cli_rate = statistics.median(app_rates), statistics.median(cli_rates)
    same_rate = statistics.median(same_rates)
    print(f"throughput, {example} x{epochs} epochs, {repeats} alternating rounds: app {app_rate:,.0f} samples/s; "
          f"CLI (torch default threads) {cli_rate:,.0f}, ratio {app_rate / cli_rate:.3f}; CLI with the app's "
          f"{app_threads} thread(s) {same_rate:,.0f}, ratio {app_rate / same_rate:.3f} (target >= 0.9)")


def bench_overlay(example: str, epochs: int, repeats: int) -> None:
    """The overlay's cost to training: the same run with the overlay on screen and hidden, alternating."""
    from nnstudio.ui.editor.health_overlay import ACTION_ID, HealthOverlay

    training = {"epochs": epochs, "instrumentation": {"grads_every": 5, "activations_every": 5}}
    rates: dict[str, list[float]] = {"on": [], "hidden": []}
    lags: dict[str, list[float]] = {"on": [], "hidden": []}
    redraws = 0
    for _ in range(repeats):
        for mode in ("on", "hidden"):
            with tempfile.TemporaryDirectory() as tmp:
                window, controller, _ = make_app(example, training, Path(tmp))
                action = window.actions_by_id[ACTION_ID]
                if action.isChecked() != (mode == "on"):
                    action.trigger()
                # a run switches to Train, where the canvas steps aside: back to Design, the canvas on screen
                controller.bench.run_started.connect(lambda _s, w=window: w.perspectives.set_mode("design"))
                summary, lag = train_in_app(controller, "curves")
                overlay = HealthOverlay.of(window.view)
                if mode == "on":
                    redraws = overlay.repaints
                    if not overlay.badges:
                        raise SystemExit("the overlay showed no badge: nothing was measured")
                window.close()
            rates[mode].append(summary["samples_per_s"])
            lags[mode].extend(lag)
    on, hidden = statistics.median(rates["on"]), statistics.median(rates["hidden"])
    print(f"health overlay, {example} x{epochs} epochs, {repeats} alternating rounds: on screen {on:,.0f} "
          f"samples/s, hidden {hidden:,.0f}, ratio {on / hidden:.3f} (target >= 0.95); lag p99 on "
          f"{percentile(lags['on'], 99):.2f} ms, hidden {percentile(lags['hidden'], 99):.2f} ms (target < 16); "
          f"{redraws} badge redraws in the last run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    parser.add_argument("--attribute", action="store_true",
                        help="sample the GUI thread's stack during late beats and print where they were spent")
    parser.add_argument("--only", choices=("repaint", "lag", "throughput", "overlay"), help="run one part only")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from nnstudio.ui.background import GuiThreadCollector

    GuiThreadCollector.install(app)  # as the app does
    from nnstudio.training.threads import configure_torch

    print(f"threads: {configure_torch()}")  # what the app does once after its first paint
    scale = 0.4 if args.quick else 1.0
    if args.only in (None, "repaint"):
        bench_repaint()
    if args.only in (None, "lag"):
        bench_lag("spirals", int(150 * scale), "boundary", args.attribute)
        bench_lag("digits_cnn", int(120 * scale), "curves", args.attribute)
    if args.only in (None, "throughput"):
        bench_throughput("digits_cnn", int(60 * scale), 2 if args.quick else 3)
        bench_throughput("spirals", int(100 * scale), 2 if args.quick else 3)
    if args.only in (None, "overlay"):
        bench_overlay("spirals", int(100 * scale), 2 if args.quick else 3)


if __name__ == "__main__":
    main()
