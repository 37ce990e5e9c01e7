"""The self-organising map recipe: Kohonen's competitive learning in the base Trainer's loop, no gradients.

The layers before the map hold no weights (the recipe's check refuses any), so what reaches the map is a
fixed function of each sample: it is computed once per split, in eval mode, and the epochs shuffle and batch
those vectors as the supervised loop batches samples. Each step is one vectorised update of every prototype:

    Δwⱼ = α(t) · Σᵢ hᵢⱼ (xᵢ − wⱼ) / max(1, Σᵢ hᵢⱼ),   hᵢⱼ = exp(−‖gⱼ − g_bmu(i)‖² / 2σ(t)²)

with the BMUs found against the prototypes of the moment and gⱼ unit j's place on the grid. With a batch of
one it is exactly Kohonen's online rule w ← w + α·h·(x − w). With larger batches it sums the online updates
of the batch against the same prototypes, but a unit whose neighbourhood mass Σᵢ hᵢⱼ passes 1 moves at most
the share α of the way to the h-weighted mean of its samples, as in Kohonen's batch map (which is the case
α = 1 with the whole set as one batch). So the step never overshoots (each prototype stays a convex mix of
itself and the samples), yet a unit won by one sample of a large batch learns from it as much as the online
rule would. σ and α are closed-form functions of the step index, so the loop position in every checkpoint is
the whole schedule state, and nothing draws random numbers but the shuffle: resuming is bitwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch

from nnstudio.layers.som_module import SOM, grid_positions
from nnstudio.metrics.layers import ActivationProbe
from nnstudio.metrics.som import Grid, MapView, map_quality, map_view, squared_distances
from nnstudio.training.device import resolve_device
from nnstudio.training.early import Monitor
from nnstudio.training.engine import Trainer
from nnstudio.training.evaluation import EvaluationReport, choose_split
from nnstudio.training.events import Event, EventInfo
from nnstudio.training.loop_state import Diverged, LoopState
from nnstudio.training.node_training import NodeTrainingPlan
from nnstudio.training.recipes.som_init import pca_prototypes, sample_prototypes

BATCH = 4096  # samples per pass when computing what reaches the map


class KohonenSchedule:
    """σ(t) and α(t), from their start to their end values over the run's steps (t = 0 … T − 1)."""

    def __init__(self, params: dict[str, Any], grid: Grid, total_steps: int) -> None:
        self.decay = params["decay"]
        self.radius_start = params["radius_start"] or max(grid.height, grid.width) / 2
        self.radius_end = params["radius_end"]
        self.rate_start, self.rate_end = params["rate_start"], params["rate_end"]
        self.total_steps = max(1, total_steps)

    def _at(self, start: float, end: float, step: int) -> float:
        fraction = min(step, self.total_steps - 1) / max(1, self.total_steps - 1)
        if self.decay == "linear":
            return start + (end - start) * fraction
        return start * (end / start) ** fraction

    def radius(self, step: int) -> float:
        return self._at(self.radius_start, self.radius_end, step)

    def rate(self, step: int) -> float:
        return self._at(self.rate_start, self.rate_end, step)

    def state_dict(self) -> dict[str, Any]:
        """For the checkpoint's reader: the curve the run follows (the position is the loop's step count)."""
        return {"decay": self.decay, "total_steps": self.total_steps, "radius": [self.radius_start, self.radius_end],
                "rate": [self.rate_start, self.rate_end]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore: σ and α follow from the step; a resumed run with more epochs stretches the curve."""
        if not {"decay", "total_steps"} <= set(state):
            raise KeyError("the checkpoint holds no Kohonen schedule (was it written by another recipe?)")


class KohonenUpdate:
    """The recipe's optimizer: one Kohonen step on a batch of map inputs. `param_groups` reports α as `lr`."""

    def __init__(self, prototypes: torch.Tensor, grid: Grid, schedule: KohonenSchedule) -> None:
        self.prototypes, self.grid, self.schedule = prototypes, grid, schedule
        self.param_groups = [{"lr": schedule.rate(0), "radius": schedule.radius(0)}]

    @torch.no_grad()
    def step(self, xb: torch.Tensor, step: int) -> None:
        rate, radius = self.schedule.rate(step), self.schedule.radius(step)
        w = self.prototypes
        bmu = squared_distances(xb, w).argmin(1)
        h = torch.exp(self.grid.squared[bmu] * (-0.5 / radius ** 2))  # [B, K]
        mass = h.sum(0)
        w.add_((h.t() @ xb - mass[:, None] * w) * (rate / mass.clamp_min(1.0))[:, None])
        self.param_groups[0].update(lr=rate, radius=radius)

    def state_dict(self) -> dict[str, Any]:
        return {}  # the prototypes are in the weights, the position in the loop state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError("the checkpoint's optimizer state is not the som recipe's (it keeps none)")


class KohonenRunner:
    """The epoch's batches, with pause and stop honoured between steps as in StepRunner.run_batches."""

    scaler = None

    def __init__(self, trainer: SomTrainer) -> None:
        self.trainer = trainer
        self.probe = ActivationProbe({}, 1)  # the base loop detaches it at the end; the map has no activations

    def run_batches(self, epoch: int) -> bool:
        t = self.trainer
        st, size, x = t.state, t.batch_size, t.x
        control, events, update = t.control, t.events, t.optimizer
        for batch in range(st.batch, t.steps_per_epoch):
            if control.pending and t._honour_requests():
                return True
            update.step(x.index_select(0, st.perm[batch * size:(batch + 1) * size]), st.step)
            st.step += 1
            st.batch = batch + 1
            if events.has(Event.STEP):
                events.fire(EventInfo(Event.STEP, epoch, st.step))
        return False


class _Reached(Exception):
    """Raised by the capture hook: the values reached the map, the rest of the graph need not run."""


def map_inputs(compiled: Any, som: SOM, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """What reaches the map for each sample: the inference graph run up to the SOM node, [N, features].

    The caller has put the graph in eval mode; nothing here draws random numbers."""
    captured: list[torch.Tensor] = []

    def capture(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        captured.append(args[0].detach())
        raise _Reached

    handle = som.register_forward_pre_hook(capture)
    try:
        with torch.no_grad():
            for start in range(0, x.shape[0], BATCH):
                with contextlib.suppress(_Reached):
                    compiled.module(x[start:start + BATCH].to(device))
    finally:
        handle.remove()
    if not captured:
        return torch.zeros(0, som.in_features, device=device)
    return torch.cat(captured).reshape(-1, som.in_features)


class SomTrainer(Trainer):
    """Trains a graph's one SOM layer with Kohonen updates; epochs, pause, stop and checkpoints are the base's."""

    def setup(self) -> None:
        if self._ready:
            return
        s, job = self.settings, self.job
        torch.manual_seed(s.seed)
        self.generator = torch.Generator().manual_seed(s.seed)
        self.module.to(self.device).eval()  # eval: any dropout or noise before the map is off, the map is fixed
        self.som_node, self.som = _find_map(job.compiled)
        self.grid = Grid.of(self.som.height, self.som.width, self.som.topology, self.device)
        self.x, self.y = self._map_inputs(job.data.train.x), job.data.train.y.to(self.device)
        val = job.data.val
        self.val = (self._map_inputs(val.x), val.y.to(self.device)) if val is not None and len(val) else None
        self.data_init = self._place_prototypes()
        self.node_training = NodeTrainingPlan([])
        self.params, self.weight_groups, self.criterion = [], {}, None
        self.batch_size = s.batch_size
        self.steps_per_epoch = math.ceil(len(job.data.train) / s.batch_size)
        self.schedule = KohonenSchedule(job.recipe_params, self.grid, s.epochs * self.steps_per_epoch)
        self.optimizer = KohonenUpdate(self.som.prototypes, self.grid, self.schedule)
        metric = "val_quantisation_error" if self.val is not None else "train_quantisation_error"
        self.monitor = Monitor(metric, dataclasses.replace(s.early_stopping, enabled=False))
        self.runner = KohonenRunner(self)
        self.state = LoopState.fresh(self.generator, self.device)
        self._ready = True

    def _map_inputs(self, x: torch.Tensor) -> torch.Tensor:
        return map_inputs(self.job.compiled, self.som, x, self.device)

    def _place_prototypes(self) -> str:
        """Apply the layer's `prototype_init`; returns what was done, for the start record."""
        init, report = self.som.prototype_init, self.job.init_report
        if report is not None and any(key.endswith("prototypes") for keys in report.matched.values() for key in keys):
            return "from init.weights"
        if init == "random" or self.x.shape[0] == 0:
            return "random"
        with torch.no_grad():
            if init == "pca":
                self.som.prototypes.copy_(pca_prototypes(self.x, self.som.height, self.som.width, self.som.topology))
            else:
                self.som.prototypes.copy_(sample_prototypes(self.x, self.grid.units, self.settings.seed))
        return init

    # --- records -----------------------------------------------------------------------------
    def _start(self) -> None:
        job, s = self.job, self.settings
        self.state.clock_start()
        self.history.add({
            "kind": "start", "epoch": self.state.epoch, "step": self.state.step,
            "layers": {self.som_node: job.names[self.som_node]},
            "epochs": s.epochs, "steps_per_epoch": self.steps_per_epoch, "batch_size": s.batch_size,
            "train_samples": len(job.data.train), "val_samples": len(job.data.val) if job.data.val else 0,
            "device": str(self.device), "precision": "float32", "task": job.task, "loss": None,
            "optimizer": "kohonen", "monitor": self.monitor.metric,
            "resumed_from": str(self._restored.path) if self._restored else None, "terms": [], "recipe": "som",
            "map": {"node_id": self.som_node, "height": self.grid.height, "width": self.grid.width,
                    "topology": self.grid.topology, "features": self.som.in_features, "init": self.data_init,
                    "positions": grid_positions(self.grid.height, self.grid.width, self.grid.topology).tolist(),
                    "classes": job.data.class_names if self._labels() is not None else None},
        })
        if self._restored is None:
            self._log_map(0)  # the map as it starts, so the views show it unfold
        self._fire(Event.STARTED)

    def _labels(self) -> torch.Tensor | None:
        data = self.job.data
        return self.y if data.task == "classification" and data.num_classes else None

    def _log_map(self, epoch: int) -> None:
        view = map_view(self.som.prototypes.detach(), self.grid, self.x, self._labels(), self.job.data.num_classes)
        step = max(0, self.state.step - 1)
        self.history.add({"kind": "som", "epoch": epoch, "step": self.state.step, "node_id": self.som_node,
                          "height": self.grid.height, "width": self.grid.width, "topology": self.grid.topology,
                          "split": "train", "radius": self.schedule.radius(step), "rate": self.schedule.rate(step),
                          **view.to_json()})

    # --- epochs --------------------------------------------------------------------------------
    def _scores(self, x: torch.Tensor) -> dict[str, float]:
        quality = map_quality(x, self.som.prototypes.detach(), self.grid)
        return {"quantisation_error": quality.quantisation_error, "topographic_error": quality.topographic_error}

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        """The map's two errors on a split of raw samples (the test split at the end of a run)."""
        return self._scores(self._map_inputs(x))

    def _end_epoch(self, epoch: int) -> bool:
        state, params = self.state, self.job.recipe_params
        if not bool(torch.isfinite(self.som.prototypes).all()):
            raise Diverged(f"the map's prototypes became non-finite in epoch {epoch}: the data reaching "
                           f"'{self.job.names[self.som_node]}' holds NaN or infinite values", self.som_node)
        metrics = {f"train_{k}": v for k, v in self._scores(self.x).items()}
        if self.val is not None:
            metrics.update({f"val_{k}": v for k, v in self._scores(self.val[0]).items()})
            self._fire(Event.VALIDATED, metrics=dict(metrics))
        step = max(0, state.step - 1)
        metrics.update(lr=self.schedule.rate(step), radius=self.schedule.radius(step))
        improved = self.monitor.update(epoch, metrics)
        self._log_epoch(epoch, metrics)
        every = params["map_every"]
        if (every and epoch % every == 0) or epoch == self.settings.epochs:
            self._log_map(epoch)
        state.end_epoch(epoch, self.generator)
        state.last_metrics = metrics
        if improved:
            self._checkpoint("best", metrics)
        self._checkpoint("last", metrics)
        self._fire(Event.EPOCH_ENDED, metrics=metrics)
        return False


def _find_map(compiled: Any) -> tuple[str, SOM]:
    """(node id, module) of the graph's SOM layer; the recipe's check made sure there is exactly one."""
    for node_id in compiled.analysis.structure.order:
        for attribute in compiled.modules_of.get(node_id, []):
            module = compiled.network.get_submodule(attribute)
            if isinstance(module, SOM):
                return node_id, module
    raise ValueError("the som recipe needs a SOM layer in the graph")


@dataclass
class SomReport(EvaluationReport):
    """`nnstudio evaluate` and the Evaluation tab for a map: its two errors and its views on one split."""

    view: MapView | None = None
    topology: str = "rectangular"

    def to_json(self) -> dict:
        data = super().to_json()
        if self.view is not None:
            data["som"] = {"topology": self.topology, **self.view.to_json()}
        return data


def evaluate_map(job: Any, split: str = "auto") -> SomReport:
    """The map's quantisation and topographic errors, U-matrix and hit map on one split (test first under auto),
    with whatever prototypes the job's model holds (a checkpoint's, once loaded)."""
    split = choose_split(job, split)
    device = resolve_device(job.settings.device)
    compiled = job.compiled
    compiled.network.to(device).eval()
    _, som = _find_map(compiled)
    chosen = job.data.splits()[split]
    x = map_inputs(compiled, som, chosen.x, device)
    grid = Grid.of(som.height, som.width, som.topology, device)
    quality = map_quality(x, som.prototypes.detach(), grid)
    classes = job.data.task == "classification" and job.data.num_classes
    view = map_view(som.prototypes.detach(), grid, x, chosen.y.to(device) if classes else None,
                    job.data.num_classes if classes else None)
    metrics = {"quantisation_error": quality.quantisation_error, "topographic_error": quality.topographic_error}
    return SomReport(split, len(chosen), job.task, metrics, class_names=job.data.class_names if classes else None,
                     view=view, topology=som.topology)
