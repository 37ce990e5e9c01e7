"""Parts of a compiled model: the layers between chosen Inputs and Outputs, sharing the trained submodules."""

from __future__ import annotations

import pytest
import torch

from nnstudio.compile.builder import build_module
from nnstudio.compile.parts import PartError, part, part_model
from tests.gan_graphs import gan, node
from tests.helpers import residual


def compiled_gan():
    b = gan(noise=4, sample=3)
    return b, build_module(b.project)


def test_each_part_computes_what_the_whole_model_computes_for_its_output():
    b, compiled = compiled_gan()
    generator = part(compiled, [node(b, "z")], [node(b, "fake")])
    critic = part(compiled, [node(b, "x")], [node(b, "logit")])
    z, x = torch.randn(5, 4), torch.randn(5, 3)
    fake, logit = compiled.module(z, x)
    assert torch.equal(generator(z), fake)
    assert torch.equal(critic(x), logit)
    assert [n.target for n in generator.graph.nodes if n.op == "placeholder"] == ["z"]
    assert {n.target for n in critic.graph.nodes if n.op == "call_module"} == {"d_fc1", "d_act", "d_fc2"}


def test_parts_share_the_submodules_so_training_one_is_seen_by_all():
    b, compiled = compiled_gan()
    generator = part(compiled, [node(b, "z")], [node(b, "fake")])
    assert generator.get_submodule("g_fc2") is compiled.module.get_submodule("g_fc2")
    with torch.no_grad():
        compiled.module.get_submodule("g_fc2").bias.add_(1.0)
    z = torch.zeros(2, 4)
    assert torch.equal(generator(z), compiled.module(z, torch.zeros(2, 3))[0])
    assert set(generator.state_dict()) == {"g_fc1.weight", "g_fc1.bias", "g_fc2.weight", "g_fc2.bias"}


def test_several_inputs_come_in_the_order_asked_and_several_outputs_as_a_tuple():
    b, compiled = compiled_gan()
    both = part(compiled, [node(b, "x"), node(b, "z")], [node(b, "logit"), node(b, "fake")])
    z, x = torch.randn(2, 4), torch.randn(2, 3)
    fake, logit = compiled.module(z, x)
    got_logit, got_fake = both(x, z)
    assert torch.equal(got_logit, logit) and torch.equal(got_fake, fake)


def test_a_part_missing_an_input_it_needs_is_refused_by_name():
    b, compiled = compiled_gan()
    with pytest.raises(PartError, match="also need the Input 'x', which it does not take"):
        part(compiled, [node(b, "z")], [node(b, "logit")])
    with pytest.raises(PartError, match="is not an Input of the inference model"):
        part(compiled, [node(b, "fake")], [node(b, "logit")])
    with pytest.raises(PartError, match="is not an Output of the inference model"):
        part(compiled, [node(b, "x")], [node(b, "d_fc2")])


def test_a_part_with_a_skip_connection_keeps_both_paths():
    b = residual()
    compiled = build_module(b.project)
    whole = part(compiled, [node(b, "x")], [node(b, "y")])
    x = torch.randn(3, 8)
    assert torch.equal(whole(x), compiled.module(x))


def test_part_model_is_a_compiled_model_of_the_part_alone():
    b, compiled = compiled_gan()
    generator = part_model(compiled, [node(b, "z")], [node(b, "fake")], class_name="NNStudioGenerator")
    assert generator.input_nodes == [node(b, "z")] and generator.output_nodes == [node(b, "fake")]
    assert set(generator.constructs) == {"g_fc1", "g_act", "g_fc2"}
    assert set(generator.modules_of) == {node(b, n) for n in ("g_fc1", "g_act", "g_fc2")}
    assert generator.network is generator.module and generator.objective is None
    assert type(generator.module).__name__ == "NNStudioGenerator"
    assert "def forward(self, z)" in generator.code
