"""The screenshot of docs/health.md: the canvas's health overlay on a network that is going wrong.

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/health_screenshot.py docs/screenshots

Trains a copy of the spirals example with SGD at lr 10 in the real window (its ReLUs die within two epochs),
then saves the window with the hover text of relu2's badge drawn beside it (a real tooltip is a separate
window that a grab of the main window does not contain) as health-overlay-1400x900.png.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLabel
from shots import main_window, pump

SIZE = (1400, 900)
TRAINING = {"epochs": 6, "batch_size": 32, "optimizer": {"name": "sgd", "lr": 10.0},
            "instrumentation": {"grads_every": 5, "activations_every": 5}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from nnstudio.examples import EXAMPLES
    from nnstudio.io import load
    from nnstudio.layers.registry import default_registry

    tmp = Path(tempfile.mkdtemp(prefix="nnstudio-health-shot-"))
    registry = default_registry()
    project = load(EXAMPLES["spirals"].path, registry)
    project.training = dict(TRAINING)
    window = main_window(app, project, registry, tmp, SIZE)
    control = window.training
    control.runs_root = tmp / "runs"
    control.build()
    control.grow_dock_on_train = False  # keep the canvas the larger part of the window
    control.ask_before_close = False
    control.train()
    deadline = time.time() + 300
    while control.bench.is_training:
        if time.time() > deadline:
            raise SystemExit("timed out waiting for the run")
        pump(app, 0.2)
    pump(app, 1.0)
    window.perspectives.set_mode("design")  # a run switches to Train, where the canvas steps aside
    control.training_dock.show()
    for key in ("palette", "inspector"):  # the canvas gets the width, so the badges read at full size
        window.docks[key].hide()
    control.settings_dock.hide()
    window.resizeDocks([control.training_dock], [300], Qt.Orientation.Vertical)
    pump(app, 0.5)
    window.view.fit_to_window()
    pump(app, 0.5)
    badge = control.bench.health.overlay.badges["n_relu2"]
    tip = QLabel(badge.toolTip(), window.view.viewport())
    tip.setWordWrap(True)
    tip.setFixedWidth(520)
    tip.setStyleSheet("background: #ffffe1; color: #1f2329; border: 1px solid #767676; padding: 6px;")
    tip.adjustSize()
    anchor = window.view.mapFromScene(badge.mapToScene(badge.boundingRect().bottomLeft()))
    x = min(max(8, anchor.x() - 200), window.view.viewport().width() - tip.width() - 8)
    tip.move(QPoint(x, anchor.y() + 60))  # below the row of badges, which stay readable
    tip.show()
    pump(app, 0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"health-overlay-{SIZE[0]}x{SIZE[1]}.png"
    window.grab().save(str(path))
    print(path)
    control.bench.shutdown()
    window.close()


if __name__ == "__main__":
    main()
