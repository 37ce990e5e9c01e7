"""fx surgery on a compiled model: the decoder after a VAE's latent node runs the trained layers from z."""

from __future__ import annotations

import pytest
import torch

from nnstudio.compile.builder import build_module
from nnstudio.compile.subgraph import SubgraphError, decoder_from, latent_nodes, latent_shape
from tests.helpers import mlp
from tests.objective_graphs import vae


def compiled_vae():
    b = vae(latent=4)
    return b, build_module(b.project)


def test_the_decoder_equals_the_inference_model_with_the_latent_replaced():
    b, compiled = compiled_vae()
    (node_id,) = latent_nodes(compiled)
    assert b.project.graph.nodes[node_id].name == "z"
    assert latent_shape(compiled, node_id) == (4,)
    decoder = decoder_from(compiled, node_id)
    module = compiled.module.eval()
    x = torch.rand(5, 1, 8, 8)
    w = torch.randn(5, 4)
    sample = module.get_submodule("z")
    handle = sample.register_forward_hook(lambda _m, _args, _out: w)  # whatever z was, it is now w
    try:
        expected = module(x)
    finally:
        handle.remove()
    assert torch.equal(decoder(w), expected)
    assert not torch.equal(module(x), expected), "the hook really changed what the model computed"


def test_the_decoder_shares_the_trained_submodules_and_drops_the_encoder():
    _, compiled = compiled_vae()
    decoder = decoder_from(compiled, latent_nodes(compiled)[0])
    assert decoder.get_submodule("dec") is compiled.module.get_submodule("dec")
    called = {n.target for n in decoder.graph.nodes if n.op == "call_module"}
    assert called == {"dec"}
    assert [n.name for n in decoder.graph.nodes if n.op == "placeholder"] == ["z"]
    with torch.no_grad():
        compiled.module.get_submodule("dec").bias.add_(1.0)  # "training" the model changes the decoder too
    z = torch.zeros(2, 4)
    assert torch.allclose(decoder(z), compiled.module.get_submodule("dec")(z))


def test_nodes_that_cannot_be_cut_are_named():
    b, compiled = compiled_vae()
    kl = next(i for i, n in b.project.graph.nodes.items() if n.name == "kl")
    with pytest.raises(SubgraphError, match="not part of the inference model"):
        decoder_from(compiled, kl)
    plain = build_module(mlp().project)
    assert latent_nodes(plain) == []


def test_a_decoder_that_still_reads_the_input_is_refused():
    b = vae()
    graph = b.project.graph
    names = {n.name: i for i, n in graph.nodes.items()}
    join = b.add("Add", "skip")
    # recon = dec(z) + flat(x): the layers after z also need x itself
    out_edge = next(e for e in graph.edges.values() if e.target.node == names["recon"])
    graph.remove_edge(out_edge.id)
    b.link(names["dec"], join, "inputs")
    b.link(names["flat"], join, "inputs")
    b.link(join, names["recon"])
    compiled = build_module(b.project)
    with pytest.raises(SubgraphError, match="also read the input"):
        decoder_from(compiled, names["z"])


def test_outputs_computed_beside_the_code_are_left_out():
    b = vae(latent=4)
    names = {n.name: i for i, n in b.project.graph.nodes.items()}
    cls = b.add("Linear", "cls", out_features=10)
    label = b.add("Output", "label")
    b.link(names["split"], cls, "in", "first")
    b.link(cls, label)
    compiled = build_module(b.project)
    assert len(compiled.output_nodes) == 2
    (node_id,) = latent_nodes(compiled)
    decoder = decoder_from(compiled, node_id)
    z = torch.randn(3, 4)
    out = decoder(z)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 64)
    assert torch.equal(out, compiled.module.get_submodule("dec")(z))
    assert "cls" not in {n.target for n in decoder.graph.nodes if n.op == "call_module"}
