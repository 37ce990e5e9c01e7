"""Per-node health badges: the statistics a run already samples, turned into ok / watch / bad with a plain-words
explanation and a suggested fix for each node of the graph.

The rules are declared once in BADGE_RULES (what each measures, its thresholds, its advice); docs/health.md lists
the same table ("Health badges on the canvas") and a test keeps the two in step. They read only the records of
a run's MetricHistory (`grads`, `activations`, `weights`, `step`), so the same code shows a live run, replays a
finished one from its history.json, and runs in tests without Qt.

`HealthTracker.ingest(records)` keeps the latest reading of every node and a timeline of snapshots, one per
sampled step, which the canvas's time scrubber replays.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    """Ordered, so a node's badge takes the worst of its readings."""

    OK = 0
    WATCH = 1
    BAD = 2


@dataclass(frozen=True)
class BadgeRule:
    name: str
    label: str  # a short tag for the badge and the tooltip's first word
    what: str  # what the rule measures
    applies: str  # which nodes it is read for
    watch: str  # when it shows "watch"
    bad: str  # when it shows "bad"
    advice: str  # what to try (no final full stop)


# Thresholds, each justified in docs/health.md.
VANISHED_GRAD = 1e-7  # the same as training.health's vanishing_gradient_norm: float32's relative precision
FADING_GRAD = 1e-4  # a node's gradient this many times smaller than the largest node's: the flow is dying
RATIO_WATCH_HIGH, RATIO_BAD_HIGH, RATIO_WATCH_LOW = 1e-2, 1e-1, 1e-5  # around Karpathy's ~1e-3
DEAD_WATCH, DEAD_BAD = 0.50, 0.80
SATURATION_WATCH, SATURATION_BAD = 0.25, 0.50
SATURATION_MARGIN = 0.01  # of the output range: where tanh' and sigmoid' are below ~4 % of their peak

DEAD_TYPES = frozenset({"ReLU"})  # outputs exactly zero for every negative input
SATURATING = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}  # output bounds

BADGE_RULES: dict[str, BadgeRule] = {
    rule.name: rule
    for rule in (
        BadgeRule(
            "gradient", "grad",
            "the norm of the node's parameter gradients at the latest gradient sample (`grads_every`)",
            "nodes with trainable weights",
            f"below {FADING_GRAD:g} × the largest node's norm in the same sample (the gradient fades on its way "
            "back)",
            f"below {VANISHED_GRAD:g} (vanished)",
            "Use ReLU-like activations instead of saturating sigmoid or tanh, He or Xavier initialisation, "
            "normalisation layers or residual links, or a higher learning rate",
        ),
        BadgeRule(
            "update_ratio", "Δw/w",
            "lr × ‖g‖ / ‖w‖: the step plain SGD takes, relative to the size of the node's weights; ‖w‖ from the "
            "latest epoch's weight summary",
            "nodes with trainable weights, once the first epoch has ended",
            f"above {RATIO_WATCH_HIGH:g}, or below {RATIO_WATCH_LOW:g}",
            f"above {RATIO_BAD_HIGH:g}",
            "Near 0.001 is healthy. Far above: lower the learning rate (e.g. by 10×) or turn on gradient clipping; "
            "far below: the layer barely learns, raise the learning rate unless it is meant to be nearly frozen",
        ),
        BadgeRule(
            "dead_units", "dead",
            "the share of the node's output units that are zero for every sample of the latest activation sample",
            "ReLU nodes",
            f"{DEAD_WATCH:.0%} or more",
            f"{DEAD_BAD:.0%} or more",
            "Try LeakyReLU, a lower learning rate, or He initialisation",
        ),
        BadgeRule(
            "saturation", "sat",
            f"the share of the node's outputs within {SATURATION_MARGIN:.0%} of the output range of a bound "
            "(sigmoid: below 0.01 or above 0.99; tanh: beyond ±0.98), read from the activation histogram",
            "Sigmoid and Tanh nodes",
            f"{SATURATION_WATCH:.0%} or more",
            f"{SATURATION_BAD:.0%} or more",
            "Standardise the inputs, use Xavier initialisation, a lower learning rate, a normalisation layer before "
            "the activation, or ReLU in hidden layers",
        ),
        BadgeRule(
            "nonfinite", "NaN",
            "the share of NaN or infinite values in the node's sampled outputs, weights and gradient",
            "every sampled node",
            "never (a non-finite value is always bad)",
            "any non-finite value",
            "Lower the learning rate, turn on gradient clipping, check the inputs for NaN or inf, and guard logs "
            "and divisions against zero",
        ),
    )
}


@dataclass(frozen=True)
class Reading:
    rule: str
    value: float
    level: Level
    message: str  # what was seen, in plain words with the figure; the advice is added by text()

    def text(self) -> str:
        if self.level is Level.OK:
            return f"{self.message}."
        return f"{self.message}. {BADGE_RULES[self.rule].advice}."


@dataclass(frozen=True)
class NodeHealth:
    node_id: str
    readings: tuple[Reading, ...]

    @property
    def level(self) -> Level:
        return max((r.level for r in self.readings), default=Level.OK)

    def worst(self) -> Reading | None:
        return max(self.readings, key=lambda r: r.level, default=None)

    def summary(self) -> str:
        """The badge's short text: the worst reading's tag and figure, e.g. "dead 82 %"."""
        reading = self.worst()
        if reading is None:
            return ""
        return f"{BADGE_RULES[reading.rule].label} {format_value(reading.rule, reading.value)}"

    def tooltip(self) -> str:
        """Every reading, the worst first, each with its explanation and fix."""
        ordered = sorted(self.readings, key=lambda r: -r.level)
        return "\n".join(f"[{r.level.name.lower()}] {r.text()}" for r in ordered)


def format_value(rule: str, value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if rule in ("dead_units", "saturation", "nonfinite"):
        return f"{value:.0%}".replace("%", " %")
    return f"{value:.1e}"


# --- the rules, one function each --------------------------------------------------------------------
def assess_gradient(name: str, norm: float, largest: float) -> Reading:
    if norm < VANISHED_GRAD:
        return Reading("gradient", norm, Level.BAD, f"{name}'s gradient norm is {norm:.1e}: its weights get "
                       "almost no signal to learn from (the gradient has vanished)")
    if largest > 0 and norm < FADING_GRAD * largest:
        return Reading("gradient", norm, Level.WATCH, f"{name}'s gradient norm ({norm:.1e}) is "
                       f"{largest / norm:.0e} times smaller than the largest layer's ({largest:.1e}): the gradient "
                       "fades on its way back")
    return Reading("gradient", norm, Level.OK, f"{name}'s gradient norm is {norm:.2g}")


def assess_update_ratio(name: str, ratio: float, lr: float) -> Reading:
    said = f"each step moves {name}'s weights by about {ratio:.1e} × their size (lr {lr:g} × ‖g‖ / ‖w‖)"
    if ratio > RATIO_BAD_HIGH:
        return Reading("update_ratio", ratio, Level.BAD, f"{said.capitalize()}: far more than the healthy ~1e-3, "
                       "so the learning rate is too high for this layer")
    if ratio > RATIO_WATCH_HIGH:
        return Reading("update_ratio", ratio, Level.WATCH, f"{said.capitalize()}: more than the healthy ~1e-3")
    if ratio < RATIO_WATCH_LOW:
        return Reading("update_ratio", ratio, Level.WATCH, f"{said.capitalize()}: far less than the healthy "
                       "~1e-3, so this layer learns very slowly")
    return Reading("update_ratio", ratio, Level.OK, said.capitalize())


def assess_dead(name: str, fraction: float) -> Reading:
    share = format_value("dead_units", fraction)
    if fraction >= DEAD_BAD:
        return Reading("dead_units", fraction, Level.BAD, f"{share} of {name}'s units output zero for every sample "
                       "of the last sampled batch: they have died and no longer learn")
    if fraction >= DEAD_WATCH:
        return Reading("dead_units", fraction, Level.WATCH, f"{share} of {name}'s units output zero for every "
                       "sample of the last sampled batch: they may be dying")
    return Reading("dead_units", fraction, Level.OK, f"{share} of {name}'s units are dead")


def assess_saturation(name: str, fraction: float) -> Reading:
    share = format_value("saturation", fraction)
    said = f"{share} of {name}'s outputs sit at its bounds, where it passes back less than 4 % of the gradient"
    if fraction >= SATURATION_BAD:
        return Reading("saturation", fraction, Level.BAD, f"{said}: the units are saturated")
    if fraction >= SATURATION_WATCH:
        return Reading("saturation", fraction, Level.WATCH, f"{said}: many units are saturating")
    return Reading("saturation", fraction, Level.OK, f"{share} of {name}'s outputs are saturated")


def assess_nonfinite(name: str, fraction: float, where: str) -> Reading:
    if fraction > 0 or math.isnan(fraction):
        return Reading("nonfinite", fraction, Level.BAD, f"{format_value('nonfinite', fraction)} of {name}'s "
                       f"{where} are NaN or infinite")
    return Reading("nonfinite", 0.0, Level.OK, f"{name}'s values are all finite")


def saturated_fraction(hist: Mapping[str, Any], bounds: tuple[float, float]) -> float | None:
    """The share of a histogram's mass within SATURATION_MARGIN of the range of either bound; each bin's count is
    taken as spread evenly over the bin, so a bin half inside the zone counts half."""
    counts = hist.get("counts") or []
    lo, hi = hist.get("lo"), hist.get("hi")
    total = sum(counts)
    if not counts or total <= 0 or lo is None or hi is None or hi <= lo:
        return None
    low, high = bounds
    margin = SATURATION_MARGIN * (high - low)
    width = (hi - lo) / len(counts)
    inside = 0.0
    for index, count in enumerate(counts):
        start, end = lo + index * width, lo + (index + 1) * width
        covered = max(0.0, min(end, low + margin) - start) + max(0.0, end - max(start, high - margin))
        inside += count * min(1.0, covered / width)
    return inside / total


def weight_norm(summary: Mapping[str, Any]) -> float | None:
    """‖w‖ from a weight summary: n values with that mean and standard deviation have Σw² = n (mean² + std²);
    n is the histogram's total count (the finite values)."""
    mean, std, hist = summary.get("mean"), summary.get("std"), summary.get("hist") or {}
    n = sum(hist.get("counts") or [])
    if mean is None or std is None or n <= 0:
        return None
    return math.sqrt(n * (mean * mean + std * std))


# --- following a run ---------------------------------------------------------------------------------
@dataclass
class Snapshot:
    step: int
    epoch: int
    nodes: dict[str, NodeHealth]
    links: dict[str, float]  # node id -> the gradient norm its outgoing links are coloured by


@dataclass
class _Latest:
    lr: float | None = None
    grads: dict[str, float | None] = field(default_factory=dict)
    weights: dict[str, dict[str, Any]] = field(default_factory=dict)
    activations: dict[str, dict[str, Any]] = field(default_factory=dict)


class HealthTracker:
    """Reads records (live or from a history file) and keeps each node's health and a timeline of snapshots.

    `types` maps node ids to layer type names (which rules apply), `names` to what the messages call them.
    """

    def __init__(self, types: Mapping[str, str], names: Mapping[str, str] | None = None) -> None:
        self.types = dict(types)
        self.names = dict(names or {})
        self.latest = _Latest()
        self.timeline: list[Snapshot] = []
        self.findings: list[dict[str, Any]] = []

    def ingest(self, records: Iterable[dict[str, Any]]) -> set[str]:
        """Take new records; returns the ids of the nodes whose health changed."""
        changed: set[str] = set()
        for record in records:
            kind = record.get("kind")
            if kind == "start":
                self.names.update({k: v for k, v in (record.get("layers") or {}).items() if k not in self.names})
            elif kind == "step" and isinstance(record.get("lr"), (int, float)):
                self.latest.lr = float(record["lr"])
            elif kind == "finding":
                self.findings.append(record)
            elif kind in ("grads", "activations", "weights"):
                self._take_layers(kind, record.get("layers") or {})
                changed |= self._snapshot(int(record.get("step", 0)), int(record.get("epoch", 0)))
        return changed

    def _take_layers(self, kind: str, layers: dict[str, Any]) -> None:
        latest = self.latest
        if kind == "grads":
            latest.grads = dict(layers)
        elif kind == "weights":
            latest.weights = dict(layers)
        else:
            latest.activations = dict(layers)

    def _snapshot(self, step: int, epoch: int) -> set[str]:
        nodes = self.assess()
        previous = self.timeline[-1].nodes if self.timeline else {}
        links = {k: v for k, v in self.latest.grads.items() if isinstance(v, (int, float)) and math.isfinite(v)}
        snapshot = Snapshot(step, epoch, nodes, links)
        if self.timeline and self.timeline[-1].step == step:  # grads and activations of the same step: one point
            self.timeline[-1] = snapshot
        else:
            self.timeline.append(snapshot)
        return {k for k in nodes.keys() | previous.keys() if nodes.get(k) != previous.get(k)}

    def name(self, node_id: str) -> str:
        return self.names.get(node_id, node_id)

    def assess(self) -> dict[str, NodeHealth]:
        """Every node's readings from the latest samples."""
        latest = self.latest
        finite = [v for v in latest.grads.values() if isinstance(v, (int, float)) and math.isfinite(v)]
        largest = max(finite, default=0.0)
        ids = list(dict.fromkeys([*latest.grads, *latest.activations, *latest.weights]))
        result = {}
        for node_id in ids:
            readings = self._readings(node_id, largest)
            if readings:
                result[node_id] = NodeHealth(node_id, tuple(readings))
        return result

    def _readings(self, node_id: str, largest: float) -> list[Reading]:
        latest, name, kind = self.latest, self.name(node_id), self.types.get(node_id, "")
        readings: list[Reading] = []
        bad_values = []
        grad = latest.grads.get(node_id, 0.0) if node_id in latest.grads else None
        if node_id in latest.grads and not (isinstance(grad, (int, float)) and math.isfinite(grad)):
            bad_values.append(("gradient", math.nan))
        elif grad is not None:
            readings.append(assess_gradient(name, grad, largest))
            norm = weight_norm(latest.weights.get(node_id) or {})
            if norm and latest.lr is not None:
                readings.append(assess_update_ratio(name, latest.lr * grad / norm, latest.lr))
        activation = latest.activations.get(node_id)
        if activation:
            if kind in DEAD_TYPES and isinstance(activation.get("dead_fraction"), (int, float)):
                readings.append(assess_dead(name, activation["dead_fraction"]))
            if kind in SATURATING:
                share = saturated_fraction(activation.get("hist") or {}, SATURATING[kind])
                if share is not None:
                    readings.append(assess_saturation(name, share))
            if activation.get("nonfinite_fraction"):
                bad_values.append(("outputs", activation["nonfinite_fraction"]))
        weights = latest.weights.get(node_id)
        if weights and weights.get("nonfinite_fraction"):
            bad_values.append(("weights", weights["nonfinite_fraction"]))
        if bad_values:
            readings.extend(assess_nonfinite(name, value, where) for where, value in bad_values)
        elif activation or weights or grad is not None:
            readings.append(assess_nonfinite(name, 0.0, "values"))
        return readings

    def at(self, step: int) -> Snapshot | None:
        """The latest snapshot at or before `step` (None before the first sample)."""
        steps = [s.step for s in self.timeline]
        index = bisect.bisect_right(steps, step) - 1
        return self.timeline[index] if index >= 0 else None


def link_sources(edges: Iterable[tuple[str, str, str]], with_weights: set[str]) -> dict[str, str]:
    """Which node's gradient norm each link is coloured by: the gradient flowing back through a link next
    reaches the weights of the node at its source end, or, when that node has none (an activation), of the
    closest node with weights upstream along first inputs. Links with no weights upstream are left out."""
    edges = list(edges)
    upstream: dict[str, str] = {}
    for _, source, target in edges:
        upstream.setdefault(target, source)
    result = {}
    for edge_id, source, _ in edges:
        node, seen = source, set()
        while node is not None and node not in with_weights and node not in seen:
            seen.add(node)
            node = upstream.get(node)
        if node is not None and node in with_weights:
            result[edge_id] = node
    return result


def link_strength(norm: float) -> float:
    """0 (a vanished gradient, 1e-7 or less) to 1 (100 or more), on a log scale: the colour and width of a link."""
    if norm <= 0 or not math.isfinite(norm):
        return 0.0
    return min(1.0, max(0.0, (math.log10(norm) + 7.0) / 9.0))
