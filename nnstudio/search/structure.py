"""Structure dimensions: a block of nodes kept or bypassed, or repeated in series.

A block is any set of nodes with one way in and one way out: every edge that enters it comes from one output
port outside, and every edge that leaves it leaves from one output port inside. A chain `fc2 → relu2` is
one; so is a residual block `fc1 → act → fc2 → join` whose skip edge runs from the block's input to `join`.
Bypassing a block connects that outside port to every consumer of the exit; repeating it k times puts k
copies in series. Whether the result still has consistent shapes is not decided here: the analyzer decides
it for each sample, and an invalid one becomes a pruned trial with the analyzer's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnstudio.model.graph import Endpoint, Graph, Node, NodeTraining, new_id

COPY_OFFSET = (0.0, 140.0)  # where each copy of a repeated block is drawn, below the one before


@dataclass(frozen=True)
class Block:
    """A block's nodes (by name) and how it connects: the edge into it and the edges out of it."""

    names: tuple[str, ...]
    entries: tuple[Endpoint, ...]  # the input ports inside that read from outside
    source: Endpoint  # the one output port outside that feeds them
    exit_port: Endpoint  # the output port of the exit node everything outside reads
    consumers: tuple[Endpoint, ...]  # the input ports outside that read it


def find_block(graph: Graph, names: list[str]) -> tuple[Block | None, str | None]:
    """The block these node names form, or why they do not form one."""
    missing = [name for name in names if graph.node_by_name(name) is None]
    if missing:
        known = ", ".join(n.name for n in graph.nodes.values())
        return None, f"no node named {missing[0]!r}; the graph has {known}"
    if len(set(names)) != len(names):
        return None, "a node is listed twice"
    ids = {graph.node_by_name(name).id for name in names}
    entering = [e for e in graph.edges.values() if e.target.node in ids and e.source.node not in ids]
    leaving = [e for e in graph.edges.values() if e.source.node in ids and e.target.node not in ids]
    listed = ", ".join(names)
    sources = {e.source for e in entering}
    if len(sources) != 1:
        return None, (f"nodes {listed} must be fed from one output port of the rest of the graph "
                      f"(found {len(sources)})")
    if not leaving:
        return None, f"nodes {listed} feed nothing outside themselves, so nothing would read the block"
    ports = {e.source for e in leaving}
    if len(ports) != 1:
        return None, f"nodes {listed} must leave through one output port (found {len(ports)})"
    return Block(tuple(names), tuple(e.target for e in entering), next(iter(sources)), next(iter(ports)),
                 tuple(e.target for e in leaving)), None


def bypass(graph: Graph, block: Block) -> None:
    """Remove the block's nodes and feed its consumers from what fed the block."""
    for name in block.names:
        graph.remove_node(graph.node_by_name(name).id)
    for consumer in block.consumers:
        graph.connect(block.source, consumer, new_id("e"))


def repeat(graph: Graph, block: Block, count: int) -> None:
    """Put `count` copies of the block in series (the original first); 0 bypasses it, 1 leaves it."""
    if count <= 0:
        bypass(graph, block)
        return
    originals = [graph.node_by_name(name) for name in block.names]
    ids = {node.id for node in originals}
    inner = [e for e in graph.edges.values() if e.source.node in ids and e.target.node in ids]
    out_of_block = [e for e in graph.edges.values() if e.source == block.exit_port and e.target.node not in ids]
    previous = block.exit_port
    for copy_index in range(2, count + 1):
        mapping = {node.id: _copy_node(graph, node, copy_index) for node in originals}
        for edge in inner:
            graph.connect(Endpoint(mapping[edge.source.node], edge.source.port),
                          Endpoint(mapping[edge.target.node], edge.target.port), new_id("e"))
        for entry in block.entries:
            graph.connect(previous, Endpoint(mapping[entry.node], entry.port), new_id("e"))
        previous = Endpoint(mapping[block.exit_port.node], block.exit_port.port)
    if count > 1:
        for edge in out_of_block:
            graph.remove_edge(edge.id)
            graph.connect(previous, edge.target, new_id("e"))


def _copy_node(graph: Graph, node: Node, copy_index: int) -> str:
    name = f"{node.name}_{copy_index}"
    suffix = 2
    while graph.node_by_name(name) is not None:
        name, suffix = f"{node.name}_{copy_index}_{suffix}", suffix + 1
    x, y = node.position
    position = (x + COPY_OFFSET[0] * (copy_index - 1), y + COPY_OFFSET[1] * (copy_index - 1))
    copied = Node(new_id("n"), node.type, name, dict(node.params), position, node.init,
                  NodeTraining(node.training.frozen, node.training.update_stats, node.training.lr_scale))
    graph.add_node(copied)
    return copied.id
