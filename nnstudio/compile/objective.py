"""The objective a graph declares with loss nodes, compiled beside the inference model.

One fx graph holds everything: Inputs and Targets become placeholders, layers their modules, loss nodes their
scalars. Its output is `(total, terms, predictions, targets)`: the weighted sum the trainer minimises, every
term unweighted (each gets its own curve), and each scored pair that metrics compare. The inference model is
the same graph cut down to Inputs → Outputs: losses, Targets and anything only they use (a teacher) fall away,
while the submodules stay shared, so training one trains the other.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from torch import fx

from nnstudio.analysis.structure import Structure
from nnstudio.model.graph import Endpoint, Graph

NODE_META_KEY = "nnstudio_node"  # fx_node.meta[NODE_META_KEY] is the graph node id it was emitted for


@dataclass(frozen=True)
class Term:
    """One loss node's contribution: total += weight · value."""

    node_id: str
    name: str
    type: str
    weight: float


@dataclass(frozen=True)
class Head:
    """A (prediction, target) pair a loss scores, named after the Output it feeds (or the loss node)."""

    name: str
    loss_id: str
    task: str  # classification, binary or regression
    threshold: float
    output_id: str | None
    prediction: Endpoint
    target: Endpoint


@dataclass
class ObjectivePlan:
    """What the trainer needs to call the objective and name what it returns."""

    placeholders: list[str]  # Input and Target node ids, in the objective's argument order
    fields: list[str]  # the dataset field each placeholder reads
    terms: list[Term] = field(default_factory=list)
    heads: list[Head] = field(default_factory=list)

    @property
    def term_names(self) -> list[str]:
        return [term.name for term in self.terms]


def plan_objective(graph: Graph, structure: Structure, placeholders: list[str],
                   losses: dict[str, fx.Node]) -> ObjectivePlan:
    fields = [str(structure.params[n].get("field", "x")) for n in placeholders]
    plan = ObjectivePlan(list(placeholders), fields)
    fed_outputs = {edges[0].source: node_id for node_id, ports in structure.incoming.items()
                   if structure.specs[node_id].role == "output" for edges in ports.values() if edges}
    for loss_id in losses:
        spec, node = structure.specs[loss_id], graph.nodes[loss_id]
        plan.terms.append(Term(loss_id, node.name, spec.type, float(structure.params[loss_id]["weight"])))
        role = spec.loss
        if role is None or role.task is None or role.prediction is None or role.target is None:
            continue
        prediction = structure.incoming[loss_id][role.prediction][0].source
        target = structure.incoming[loss_id][role.target][0].source
        output_id = fed_outputs.get(prediction)
        name = graph.nodes[output_id].name if output_id is not None else node.name
        task = role.task
        probabilities = task == "binary" and role.threshold == 0.5  # BCE on a Sigmoid's output
        if (task == "regression" or probabilities) and _reads_field(structure, target.node) == "x":
            # compared with its own input: RMSE and MAE of what it rebuilds, not a pixel "accuracy" or an R²
            task = "reconstruction"
        plan.heads.append(Head(name, loss_id, task, role.threshold, output_id, prediction, target))
    return plan


RESHAPING = frozenset({"Flatten", "Reshape"})  # layers that move values without changing them


def _reads_field(structure: Structure, node_id: str) -> str | None:
    """The dataset field a tensor is, looking back through reshapes; None if it is computed."""
    while structure.specs[node_id].type in RESHAPING:
        node_id = structure.incoming[node_id]["in"][0].source.node
    spec = structure.specs[node_id]
    return str(structure.params[node_id]["field"]) if spec.role == "target" else None


def emit_objective(fx_graph: fx.Graph, plan: ObjectivePlan, losses: dict[str, fx.Node],
                   values: dict[tuple[str, str], fx.Node]) -> None:
    """Add the weighted total and the returned tuple to the full graph."""
    total: fx.Node | None = None
    for term in plan.terms:
        value = losses[term.node_id]
        weighted = value if term.weight == 1.0 else fx_graph.call_function(operator.mul, (value, term.weight))
        weighted.meta[NODE_META_KEY] = term.node_id
        total = weighted if total is None else fx_graph.call_function(operator.add, (total, weighted))
    predictions = tuple(values[(h.prediction.node, h.prediction.port)] for h in plan.heads)
    targets = tuple(values[(h.target.node, h.target.port)] for h in plan.heads)
    terms = tuple(losses[term.node_id] for term in plan.terms)
    fx_graph.output((total, terms, predictions, targets))


def inference_graph(full: fx.Graph, placeholders: dict[str, fx.Node], input_nodes: list[str],
                    outputs: fx.Node | tuple[fx.Node, ...]) -> fx.Graph:
    """Inputs → Outputs only: a copy of the full graph without losses, Targets and what only they use."""
    graph = fx.Graph()
    mapping: dict[fx.Node, fx.Node] = {}
    for fx_node in full.nodes:
        if fx_node.op == "output":
            continue
        mapping[fx_node] = graph.node_copy(fx_node, lambda n: mapping[n])
    graph.output(fx.map_arg(outputs, lambda n: mapping[n]))
    kept = {mapping[placeholders[n]] for n in input_nodes}
    # Our own dead-code pass: fx's asks every module whether it is pure, which needs an owning module, and
    # nothing our layers emit has side effects beyond its result.
    for fx_node in reversed(list(graph.nodes)):
        if fx_node.op != "output" and fx_node not in kept and not fx_node.users:
            graph.erase_node(fx_node)
    graph.lint()
    return graph
