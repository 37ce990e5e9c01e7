"""Screenshots of the real window for the README and docs/search.md, at any window size.

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/app_screenshots.py train OUT --size 1400x900
    xvfb-run -a -s "-screen 0 1400x900x24" python tools/app_screenshots.py search OUT --size 1400x900

`train` trains the spirals example, with hidden layers of 8 units, in the window and saves the Train perspective
while it learns (the canvas with its health badges and unit thumbnails beside the live plots) as
train-spirals-WxH.png. `search` saves the project with a search
space over the learning rate and the first layer's width, runs an 8-trial study from the Search tab and saves
the tab with its table and optimisation history (search-WxH.png) and parallel coordinates
(search-parallel-WxH.png). Everything else goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication
from shots import main_window, pump, wait_for

SEARCH = {"space": [{"kind": "float", "param": "training.optimizer.lr", "low": 1e-4, "high": 0.3, "log": True},
                    {"kind": "int", "node": "fc1", "param": "out_features", "low": 4, "high": 64}],
          "study": {"trials": 8, "sampler": "tpe", "seed": 3}}


def open_window(app, tmp: Path, size: tuple[int, int], training: dict | None = None, search: dict | None = None,
                width: int | None = None):
    from nnstudio.examples import EXAMPLES
    from nnstudio.io import load, save
    from nnstudio.layers.registry import default_registry

    registry = default_registry()
    project = load(EXAMPLES["spirals"].path, registry)
    if training is not None:
        project.training = training
    if width is not None:  # hidden layers narrow enough to get a thumbnail per unit on the canvas
        for name in ("fc1", "fc2"):
            project.graph.set_param(project.graph.node_by_name(name).id, "out_features", width)
    path = None
    if search is not None:
        project.search = search
        path = tmp / "spirals.nnstudio"
        save(project, path, registry)
    window = main_window(app, project, registry, tmp, size, path)
    control = window.training
    control.runs_root = tmp / "runs"
    control.build()
    control.ask_before_close = False
    return window, control


def shot_train(app, out: Path, size: tuple[int, int], tmp: Path) -> None:
    training = {"epochs": 60, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}}
    window, control = open_window(app, tmp, size, training, width=8)
    control.train()
    wait_for(app, lambda: control.bench.session is not None and control.bench.plots.primary is not None
             and len(control.bench.shown_records) > 120, 300, "the run to be well under way")
    pump(app, 1.0)
    window.view.center_on_node(window.document.graph.node_by_name("relu1").id)  # readable badges and units
    pump(app, 0.5)
    save(window, out / f"train-spirals-{size[0]}x{size[1]}.png")
    control.bench.shutdown()
    window.close()


def shot_search(app, out: Path, size: tuple[int, int], tmp: Path) -> None:
    window, control = open_window(app, tmp, size, search=SEARCH)
    bench = control.bench
    window.perspectives.set_mode("train")
    bench.tabs.setCurrentWidget(bench.search)
    pump(app, 0.5)
    bench.search.start()
    wait_for(app, lambda: bench.search.session.future.done() and not bench.search._timer.isActive(), 600,
             "the study")
    pump(app, 1.0)
    save(window, out / f"search-{size[0]}x{size[1]}.png")
    bench.search.plots.setCurrentWidget(bench.search.parallel)
    pump(app, 0.5)
    save(window, out / f"search-parallel-{size[0]}x{size[1]}.png")
    bench.shutdown()
    window.close()


def save(window, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scene", choices=("train", "search"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1400x900", help="window size, WxH")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="nnstudio-shots-"))
    {"train": shot_train, "search": shot_search}[args.scene](app, args.out, size, tmp)


if __name__ == "__main__":
    main()
