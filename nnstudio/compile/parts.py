"""Parts of a compiled inference model: the layers from some of its Inputs to some of its Outputs.

A GAN's document holds two networks in one graph, the generator (noise → fake sample) and the discriminator
(sample → logit). Training calls each on its own, and feeds the generator's output to the discriminator, so
each needs to be a module of its own; export writes the generator alone. A part is a GraphModule over the
compiled model itself, so it runs the trained submodules, never copies of them: an update through one part is
seen by the other parts and by the whole model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from torch import fx

from nnstudio.compile.objective import NODE_META_KEY

if TYPE_CHECKING:
    from nnstudio.compile.builder import CompiledModel


class PartError(ValueError):
    """The requested part cannot be cut out; the message names the node and says why."""


def part(compiled: CompiledModel, inputs: Sequence[str], outputs: Sequence[str],
         class_name: str = "NNStudioPart") -> fx.GraphModule:
    """`part(*inputs) -> outputs`: the layers the given Outputs need, taking the given Inputs in that order.

    Ids are graph node ids of Input and Output nodes. It returns one tensor for one Output and a tuple for
    several, as the compiled model does. Raises PartError when an Output needs an Input that is not given.
    """
    source = compiled.module.graph
    for node_id in inputs:
        if node_id not in compiled.input_nodes:
            raise PartError(f"node {node_id!r} is not an Input of the inference model")
    for node_id in outputs:
        if node_id not in compiled.output_nodes:
            raise PartError(f"node {node_id!r} is not an Output of the inference model")
    returned = _returned(compiled, outputs)
    needed = _needed(returned)
    graph = fx.Graph()
    mapping: dict[fx.Node, fx.Node] = {}
    placeholders = {n.meta.get(NODE_META_KEY): n for n in source.nodes if n.op == "placeholder"}
    for node_id in inputs:  # the part's arguments, in the order asked for
        mapping[placeholders[node_id]] = graph.node_copy(placeholders[node_id], lambda n: mapping[n])
    for fx_node in source.nodes:
        if fx_node not in needed or fx_node in mapping:
            continue
        if fx_node.op == "placeholder":  # fx names a placeholder after its Input node
            raise PartError(f"the part's Outputs also need the Input '{fx_node.target}', which it does not take")
        mapping[fx_node] = graph.node_copy(fx_node, lambda n: mapping[n])
    graph.output(fx.map_arg(returned, lambda n: mapping[n]))
    graph.lint()
    return fx.GraphModule(compiled.module, graph, class_name=class_name)


def part_model(compiled: CompiledModel, inputs: Sequence[str], outputs: Sequence[str],
               class_name: str = "NNStudioPart") -> CompiledModel:
    """The part as a CompiledModel of its own (what export takes): its module, Inputs, Outputs and the
    submodules it calls. Its `network` is the part too, so the weights it saves are the part's alone."""
    module = part(compiled, inputs, outputs, class_name)
    used = {name for name, _ in module.named_children()}
    modules_of = {node_id: [a for a in attrs if a in used] for node_id, attrs in compiled.modules_of.items()}
    return replace(compiled, module=module, input_nodes=list(inputs), output_nodes=list(outputs),
                   modules_of={node_id: attrs for node_id, attrs in modules_of.items() if attrs},
                   constructs={a: c for a, c in compiled.constructs.items() if a in used},
                   objective=None, plan=None)


def _returned(compiled: CompiledModel, output_ids: Sequence[str]) -> fx.Node | tuple[fx.Node, ...]:
    """The compiled model's fx values of these Outputs, shaped as the part returns them."""
    (output,) = [n for n in compiled.module.graph.nodes if n.op == "output"]
    values = output.args[0] if isinstance(output.args[0], tuple) else (output.args[0],)
    chosen = tuple(values[compiled.output_nodes.index(out)] for out in output_ids)
    return chosen[0] if len(chosen) == 1 else chosen


def _needed(returned: fx.Node | tuple[fx.Node, ...]) -> set[fx.Node]:
    """Every fx node the returned values depend on (our layers are pure, so nothing else is kept)."""
    stack = list(returned) if isinstance(returned, tuple) else [returned]
    seen: set[fx.Node] = set()
    while stack:
        fx_node = stack.pop()
        if fx_node in seen:
            continue
        seen.add(fx_node)
        stack.extend(fx_node.all_input_nodes)
    return seen
