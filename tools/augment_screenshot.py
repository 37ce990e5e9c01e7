"""The screenshot of docs/training.md's Augmentation section: the dataset form's list and the augmented grid.

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/augment_screenshot.py docs/screenshots

Opens the digits_augmented example in the real window with a rotation and random erasing added before its
mixup, presses Show augmented samples, and saves the window as augment-preview-1400x900.png.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from shots import main_window, pump

SIZE = (1400, 900)
AUGMENT = [{"type": "rotation", "degrees": 15, "p": 1.0}, {"type": "random_erasing", "p": 0.5},
           {"type": "mixup", "alpha": 0.4}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from nnstudio.examples import EXAMPLES
    from nnstudio.io import load
    from nnstudio.layers.registry import default_registry

    tmp = Path(tempfile.mkdtemp(prefix="nnstudio-augment-shot-"))
    registry = default_registry()
    project = load(EXAMPLES["digits_augmented"].path, registry)
    project.dataset = {**project.dataset, "augment": AUGMENT}
    window = main_window(app, project, registry, tmp, SIZE)
    control = window.training
    control.runs_root = tmp / "runs"
    control.build()
    control.ask_before_close = False
    control.settings_dock.show()
    control.settings_dock.raise_()
    window.resizeDocks([control.settings_dock], [620], Qt.Orientation.Horizontal)
    pump(app, 1.0)
    form = control.bench.settings_panel.dataset
    form.augment.list.setCurrentRow(0)
    preview = form.augment_preview
    preview.button.click()
    deadline = time.time() + 120
    while preview.grids.isHidden():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for the augmented grid: {preview.status.text()}")
        pump(app, 0.2)
    pump(app, 0.5)
    panel = control.bench.settings_panel
    panel.ensureWidgetVisible(form.augment_preview, 0, 10)
    panel.ensureWidgetVisible(form.augment, 0, 10)
    pump(app, 0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"augment-preview-{SIZE[0]}x{SIZE[1]}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")
    window.close()


if __name__ == "__main__":
    main()
