"""Screenshots of the app's "Inspecting a model" pages for docs/inspecting.md and the README.

Run under a virtual display, at the size the docs' screenshots are taken (1400x900):

    xvfb-run -a -s "-screen 0 1400x900x24" python tools/inspect_screenshots.py digits docs/screenshots
    xvfb-run -a -s "-screen 0 1400x900x24" python tools/inspect_screenshots.py csv docs/screenshots

`digits` trains a copy of the digits_cnn example for a few epochs in the real window, then shows Grad-CAM on
the Explain page (explain-gradcam-WxH.png), a t-SNE on the Projector page with a sample under the pointer
(projector-WxH.png), the Adversarial examples page with both robustness curves (adversarial-robustness-WxH.png)
and the confusion matrix after the run (evaluation-digits-WxH.png). `csv` writes scikit-learn's wine data as a
CSV with named columns, trains a small MLP on it and shows KernelSHAP's bars (explain-shap-csv-WxH.png). Nothing
is written outside OUT and a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from shots import main_window, pump, wait_for


def open_window(app, project_path: Path, tmp: Path, size: tuple[int, int], epochs: int):
    """The real main window on a copy of a project, trained for `epochs` and evaluated, in Evaluate mode."""
    from nnstudio.io import load
    from nnstudio.layers.registry import default_registry

    registry = default_registry()
    project = load(project_path, registry)
    project.training = {**project.training, "epochs": epochs}
    window = main_window(app, project, registry, tmp, size, project_path)
    control = window.training
    control.build()
    control.ask_before_close = False
    bench = control.bench
    finished: list = []
    bench.run_finished.connect(finished.append)
    control.train()
    wait_for(app, lambda: finished and bench.session is None, 600, "the training run")
    view = bench.evaluation
    wait_for(app, lambda: view.result is not None, 180, "the evaluation")
    window.perspectives.set_mode("evaluate")
    bench.tabs.setCurrentWidget(view)
    pump(app, 0.5)
    return window, bench, view


def save(app, window, path: Path) -> None:
    pump(app, 0.8)
    window.grab().save(str(path))
    print("wrote", path)


def explain(app, view, method: str, sample: int, layer: str | None = None) -> None:
    page = view.explain_page
    view.tabs.setCurrentWidget(page)
    page.method.setCurrentIndex(page.method.findData(method))
    page.sample.setValue(sample)
    if layer:
        page.layer.setCurrentIndex(page.layer.findData(layer))
    page.request()
    wait_for(app, lambda: not page.busy and page.attribution is not None, 300, f"{method} attributions")


def digits(app, out: Path, tmp: Path, size: tuple[int, int], sample: int, layer: str | None) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QToolTip

    from nnstudio.examples import EXAMPLES

    source = tmp / "digits_cnn.nnstudio"
    shutil.copy(EXAMPLES["digits_cnn"].path, source)
    window, bench, view = open_window(app, source, tmp, size, epochs=4)
    suffix = f"{size[0]}x{size[1]}"
    view.tabs.setCurrentWidget(view.confusion)
    save(app, window, out / f"evaluation-digits-{suffix}.png")
    explain(app, view, "grad-cam", sample, layer)
    save(app, window, out / f"explain-gradcam-{suffix}.png")
    tab = view.adversarial_tab
    view.tabs.setCurrentWidget(tab)
    tab.method.setCurrentIndex(tab.method.findData("pgd"))
    tab.request()
    wait_for(app, lambda: not tab.busy and "pgd" in tab.plot.curves, 300, "the PGD curve")
    save(app, window, out / f"adversarial-robustness-{suffix}.png")
    page = view.projector
    view.tabs.setCurrentWidget(page)
    page.method.setCurrentIndex(page.method.findData("tsne"))
    page.request()
    wait_for(app, lambda: page.embedding is not None, 300, "the t-SNE")
    pump(app, 0.5)
    scatter, spot = max(((s, p) for s in page.scatters for p in s.points()), key=lambda sp: sp[1].pos().y())
    page._on_hovered(scatter, [spot], None)  # the top point: its tooltip opens downwards, over the plot
    box = page.plot.getPlotItem().getViewBox()
    where = page.plot.mapToGlobal(page.plot.mapFromScene(box.mapViewToScene(spot.pos())))
    QToolTip.showText(where, page._tip(0, 0, spot.data()), page.plot)
    pump(app, 1.0)
    path = out / f"projector-{suffix}.png"
    QGuiApplication.primaryScreen().grabWindow(0, 0, 0, *size).save(str(path))  # the tooltip is a window of its own
    print("wrote", path)
    bench.shutdown()


def wine_project(tmp: Path) -> Path:
    """scikit-learn's wine data as a CSV with short column names, and an MLP project that reads it."""
    import csv as csv_module

    from sklearn.datasets import load_wine

    from nnstudio.io import save as save_project
    from nnstudio.model.builder import GraphBuilder

    wine = load_wine()
    short = {"od280/od315_of_diluted_wines": "od280_od315", "alcalinity_of_ash": "alcalinity",  # 13 names fit 1400 px
             "nonflavanoid_phenols": "nonflav_phen", "proanthocyanins": "proanthocyan", "color_intensity": "color",
             "total_phenols": "phenols"}
    with open(tmp / "wine.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv_module.writer(stream)
        writer.writerow([*(short.get(name, name) for name in wine.feature_names), "cultivar"])
        for row, label in zip(wine.data, wine.target):
            writer.writerow([*(f"{value:g}" for value in row), f"cultivar_{'ABC'[label]}"])
    b = GraphBuilder(name="Wine MLP")
    b.sequential(("Input", {"shape": [13]}), ("Linear", {"out_features": 32}), "ReLU",
                 ("Linear", {"out_features": 3}), "Output")
    b.project.dataset = {"name": "csv", "params": {"path": "wine.csv", "target": "cultivar"},
                         "val_fraction": 0.2, "test_fraction": 0.2}
    b.project.training = {"epochs": 8, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01}}
    path = tmp / "wine.nnstudio"
    save_project(b.project, path)
    return path


def csv(app, out: Path, tmp: Path, size: tuple[int, int], sample: int, layer: str | None) -> None:
    window, bench, view = open_window(app, wine_project(tmp), tmp, size, epochs=8)
    explain(app, view, "kernel-shap", sample)
    save(app, window, out / f"explain-shap-csv-{size[0]}x{size[1]}.png")
    bench.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scene", choices=("digits", "csv"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1400x900", help="window size, WxH")
    parser.add_argument("--sample", type=int, default=0, help="the test sample explained")
    parser.add_argument("--layer", help="digits: Grad-CAM's convolution node (default: the last)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    from nnstudio.app import create_application

    app = create_application([])
    tmp = Path(tempfile.mkdtemp(prefix="nnstudio-shots-"))
    {"digits": digits, "csv": csv}[args.scene](app, args.out, tmp, size, args.sample, args.layer)
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)  # worker threads of the closed window need not be waited for


if __name__ == "__main__":
    main()
