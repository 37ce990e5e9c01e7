"""A self-organising map's evaluation page: the final U-matrix and hit map on the held-out split.

The engine's evaluator (som_trainer.evaluate_map) computes both with the checkpoint's prototypes; they are
drawn by the live view's own plots (ui/plots/som.py), fed a record shaped like the trainer's "som" records, so
the map looks the same in the Evaluation tab as it did in the last epoch of training, now on unseen samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from nnstudio.ui.plots.base import set_title
from nnstudio.ui.plots.som import HitMapPlot, UMatrixPlot


@dataclass
class SomMap:
    record: dict  # as a "som" record: height, width, topology, umatrix, hits, majority, purity
    start_map: dict  # as the "start" record's "map": positions (y, x) of the units, class names
    split: str


def som_map(report, class_names: list[str] | None) -> SomMap | None:
    """The evaluator's map view as the live plots take it; None when the report holds no view."""
    from nnstudio.layers.som_module import grid_positions

    view = getattr(report, "view", None)
    if view is None or not view.umatrix:
        return None
    height, width = len(view.umatrix), len(view.umatrix[0])
    record = {"kind": "som", "epoch": None, "height": height, "width": width, "topology": report.topology,
              "split": report.split, **view.to_json()}
    positions = grid_positions(height, width, report.topology).tolist()
    return SomMap(record, {"positions": positions, "classes": class_names if view.majority else None},
                  report.split)


class SomPage(QSplitter):
    """The U-matrix beside the hit map."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.umatrix, self.hits = UMatrixPlot(), HitMapPlot()
        self.addWidget(self.umatrix)
        self.addWidget(self.hits)
        self.setChildrenCollapsible(False)

    def show_map(self, som: SomMap) -> None:
        self.umatrix.show_map(som.record, som.start_map)
        self.hits.show_map(som.record, som.start_map)
        set_title(self.umatrix.item, f"U-matrix · {som.split} split")
        set_title(self.hits.item, f"Hit map · {som.split} split")
