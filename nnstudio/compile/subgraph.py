"""Parts of a compiled inference model, cut out by fx graph surgery: the decoder after a latent node.

A VAE's decoder is not a separate model in the document: it is whatever the inference graph computes after
its GaussianSample node. To draw samples from the prior, that node's value becomes a new input (`z`) and
everything only the encoder needed falls away. The result is a GraphModule over the compiled model itself,
so it runs the trained submodules, never copies of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
from torch import fx

from nnstudio.compile.objective import NODE_META_KEY

if TYPE_CHECKING:
    from nnstudio.compile.builder import CompiledModel

LATENT_TYPES = ("GaussianSample",)


class SubgraphError(ValueError):
    """The requested part cannot be cut out; the message names the node and says why."""


def decoder_from(compiled: CompiledModel, node_id: str) -> fx.GraphModule:
    """The inference graph after `node_id`, as a module taking that node's value: `decoder(z) -> outputs`.

    It returns the Outputs the node leads to (`decoded_outputs`), one tensor for one Output and a tuple for
    several, so an Output computed beside the code (a classifier on mu) does not drag the encoder along.
    """
    source = compiled.module.graph
    tagged = [n for n in source.nodes if n.meta.get(NODE_META_KEY) == node_id]
    if not tagged or not decoded_outputs(compiled, node_id):
        raise SubgraphError(f"node {node_id} is not part of the inference model (it leads to no Output)")
    leaving = [n for n in tagged if any(u.meta.get(NODE_META_KEY) != node_id for u in n.users)]
    name = (leaving or tagged)[-1].name  # fx names follow the node's name
    if len(leaving) != 1:
        raise SubgraphError(f"node '{name}' has {len(leaving)} values used after it; a decoder needs exactly one")
    graph = fx.Graph()
    latent = graph.placeholder(name)
    mapping: dict[fx.Node, fx.Node] = {leaving[0]: latent}
    returned = _returned(compiled, decoded_outputs(compiled, node_id))
    for fx_node in source.nodes:
        if fx_node in mapping or fx_node in tagged or fx_node.op == "output":
            continue
        mapping[fx_node] = graph.node_copy(fx_node, lambda n: mapping[n])
    graph.output(fx.map_arg(returned, lambda n: mapping[n]))
    _drop_unused(graph, keep=latent)
    still_read = [n.target for n in graph.nodes if n.op == "placeholder" and n is not latent]
    if still_read:
        raise SubgraphError(f"the layers after '{name}' also read the input(s) {', '.join(map(str, still_read))} "
                            f"directly, so they cannot run from '{name}' alone")
    graph.lint()
    return fx.GraphModule(compiled.module, graph, class_name="NNStudioDecoder")


def decoded_outputs(compiled: CompiledModel, node_id: str) -> list[str]:
    """The Output node ids a node's value reaches, in the inference model's return order."""
    digraph = compiled.analysis.structure.digraph
    return [out for out in compiled.output_nodes if node_id in digraph and nx.has_path(digraph, node_id, out)]


def _returned(compiled: CompiledModel, output_ids: list[str]) -> fx.Node | tuple[fx.Node, ...]:
    """The source graph's fx values of these Outputs, shaped as the decoder returns them."""
    (output,) = [n for n in compiled.module.graph.nodes if n.op == "output"]
    values = output.args[0] if isinstance(output.args[0], tuple) else (output.args[0],)
    chosen = tuple(values[compiled.output_nodes.index(out)] for out in output_ids)
    return chosen[0] if len(chosen) == 1 else chosen


def latent_nodes(compiled: CompiledModel) -> list[str]:
    """Latent-sampling nodes (GaussianSample) whose value reaches an Output, in the order they compute."""
    structure = compiled.analysis.structure
    inference = {n.meta.get(NODE_META_KEY) for n in compiled.module.graph.nodes}
    return [node_id for node_id in structure.order if node_id in inference
            and structure.specs[node_id].type in LATENT_TYPES and decoded_outputs(compiled, node_id)]


def latent_shape(compiled: CompiledModel, node_id: str) -> tuple[int, ...] | None:
    """The shape of one sample of a node's value (without the batch), or None when a size is not fixed."""
    spec = compiled.analysis.structure.specs[node_id]
    found = compiled.analysis.shapes.of(node_id, spec.outputs[0].name)
    if found is None:
        return None
    dims = tuple(found.shape)
    return dims if all(isinstance(d, int) and d > 0 for d in dims) else None


def _drop_unused(graph: fx.Graph, keep: fx.Node) -> None:
    """Dead code out, last to first (as compile.objective does: every layer we emit is pure)."""
    for fx_node in reversed(list(graph.nodes)):
        if fx_node.op != "output" and fx_node is not keep and not fx_node.users:
            graph.erase_node(fx_node)
