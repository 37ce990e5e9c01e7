"""The primers' blocks computed by hand: RBF, capsules (squash, primary, routing, length, margin loss), neural ODE.

The contract test already checks every block's shape rule against its module; these check the numbers, the
refusals that name the place, the missing-extra message, and that Python export can copy the modules' source.
"""

from __future__ import annotations

import math
import re
import sys

import pytest
import torch

from nnstudio.analysis import analyze
from nnstudio.compile import build_module
from nnstudio.io.export.source_copy import copy_sources
from nnstudio.layers import block_modules
from nnstudio.layers.block_modules import (
    RBF,
    CapsuleLength,
    MarginLoss,
    NeuralODE,
    PrimaryCapsules,
    RoutingCapsules,
    Squash,
    squash,
)
from nnstudio.layers.registry import default_registry
from nnstudio.model.builder import GraphBuilder
from tests.layers.layer_samples import f, i, wrap_layer

pytest.importorskip("torchdiffeq")


# ---- RBF ---------------------------------------------------------------------------------------------------

def test_rbf_is_a_gaussian_of_the_distance_to_each_centre():
    layer = RBF(in_features=2, centres=3, width=0.5)
    with torch.no_grad():
        layer.centres.copy_(torch.tensor([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]]))
        layer.log_width.copy_(torch.log(torch.tensor([0.5, 1.0, 2.0])))
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    expected = torch.empty(2, 3)
    for n in range(2):
        for k, sigma in enumerate((0.5, 1.0, 2.0)):
            distance = sum((float(x[n, d]) - float(layer.centres[k, d].detach())) ** 2 for d in range(2))
            expected[n, k] = math.exp(-distance / (2 * sigma**2))
    torch.testing.assert_close(layer(x), expected)
    assert layer(x)[0, 0].item() == pytest.approx(1.0)  # at its own centre a unit answers 1


def test_rbf_widths_can_be_fixed_yet_are_saved():
    layer = RBF(in_features=4, centres=5, width=0.3, learn_widths=False)
    assert [name for name, _ in layer.named_parameters()] == ["centres"]
    assert torch.allclose(layer.state_dict()["log_width"].exp(), torch.full((5,), 0.3))
    learnable = RBF(in_features=4, centres=5)
    assert {name for name, _ in learnable.named_parameters()} == {"centres", "log_width"}


def test_rbf_gradients_stay_finite_at_a_centre():
    layer = RBF(in_features=3, centres=2)
    x = layer.centres.detach()[:1].clone().requires_grad_(True)
    layer(x).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(layer.centres.grad).all()


# ---- capsules ----------------------------------------------------------------------------------------------

def test_squash_keeps_direction_and_maps_length_to_a_probability():
    s = torch.tensor([[3.0, 4.0], [0.0, 0.0], [0.3, 0.4]])
    v = squash(s)
    lengths = v.norm(dim=-1)
    torch.testing.assert_close(lengths, torch.tensor([25 / 26, 0.0, 0.25 / 1.25]))
    torch.testing.assert_close(v[0] / lengths[0], torch.tensor([0.6, 0.8]))
    assert torch.isfinite(v).all()
    torch.testing.assert_close(Squash(dim=1)(s.t().unsqueeze(0))[0].t(), v)  # any dim can hold the vectors


def test_primary_capsules_cut_conv_channels_into_squashed_vectors():
    layer = PrimaryCapsules(in_channels=2, capsules=3, capsule_dim=4, kernel_size=3, stride=2)
    x = torch.randn(2, 2, 7, 7)
    u = layer(x)
    conv = layer.conv(x)  # [2, 12, 3, 3]
    assert u.shape == (2, 3 * 3 * 3, 4)
    for k, row, col in ((0, 0, 0), (2, 1, 2), (1, 2, 1)):
        index = k * 9 + row * 3 + col
        torch.testing.assert_close(u[:, index], squash(conv[:, k * 4:(k + 1) * 4, row, col]))


def test_one_routing_iteration_couples_every_input_equally():
    layer = RoutingCapsules(in_capsules=5, in_dim=3, capsules=2, capsule_dim=4, iterations=1)
    u = torch.randn(2, 5, 3)
    predictions = torch.einsum("ijab,nib->nija", layer.weight, u)  # û_{j|i} = W_ij · u_i
    torch.testing.assert_close(layer(u), squash(predictions.sum(1) / 2))  # c_ij = softmax(0) = 1/J, J = 2


def test_routing_by_agreement_follows_sabour_et_al():
    layer = RoutingCapsules(in_capsules=4, in_dim=3, capsules=3, capsule_dim=2, iterations=3)
    u = torch.randn(1, 4, 3)
    w = layer.weight.detach()
    u_hat = [[[sum(float(w[i, j, d, a]) * float(u[0, i, a]) for a in range(3)) for d in range(2)]
              for j in range(3)] for i in range(4)]
    b = [[0.0] * 3 for _ in range(4)]
    for iteration in range(3):
        c = [[math.exp(b[i][j]) / sum(math.exp(x) for x in b[i]) for j in range(3)] for i in range(4)]
        s = [[sum(c[i][j] * u_hat[i][j][d] for i in range(4)) for d in range(2)] for j in range(3)]
        norm2 = [sum(x * x for x in s[j]) for j in range(3)]
        v = [[s[j][d] * norm2[j] / (1 + norm2[j]) / math.sqrt(norm2[j]) for d in range(2)] for j in range(3)]
        if iteration < 2:
            b = [[b[i][j] + sum(u_hat[i][j][d] * v[j][d] for d in range(2)) for j in range(3)] for i in range(4)]
    torch.testing.assert_close(layer(u)[0], torch.tensor(v), rtol=1e-5, atol=1e-6)


def test_capsule_length_and_margin_loss_by_hand():
    v = torch.tensor([[[0.6, 0.0], [0.0, 0.2], [0.3, 0.4]]])  # lengths 0.6, 0.2, 0.5
    lengths = CapsuleLength()(v)
    torch.testing.assert_close(lengths, torch.tensor([[0.6, 0.2, 0.5]]))
    loss = MarginLoss(m_plus=0.9, m_minus=0.1, down_weight=0.5)(lengths, torch.tensor([0]))
    expected = (0.9 - 0.6) ** 2 + 0.5 * (0.2 - 0.1) ** 2 + 0.5 * (0.5 - 0.1) ** 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    satisfied = MarginLoss()(torch.tensor([[0.95, 0.05], [0.0, 0.91]]), torch.tensor([0, 1]))
    assert satisfied.item() == 0.0  # every capsule on the right side of its margin costs nothing


def test_margin_head_scores_accuracy_by_the_longest_capsule():
    b = GraphBuilder()
    caps = b.add("Input", "caps", shape=[3, 2])
    length = b.add("CapsuleLength", "length")
    label = b.add("Target", "label", field="y", shape=[], dtype="int64")
    margin = b.add("MarginLoss", "margin")
    b.chain(caps, length, b.add("Output", "lengths"))
    b.link(length, margin, "input")
    b.link(label, margin, "target")
    compiled = build_module(b.project)
    (head,) = compiled.plan.heads
    assert (head.task, head.name) == ("classification", "lengths")
    x = torch.tensor([[[0.9, 0.0], [0.1, 0.0], [0.0, 0.2]], [[0.1, 0.0], [0.0, 0.1], [0.0, 0.8]]])
    _, _, predictions, _ = compiled.objective(x, torch.tensor([0, 2]))
    assert predictions[0].argmax(-1).tolist() == [0, 2]


# ---- neural ODE --------------------------------------------------------------------------------------------

def test_euler_takes_the_fixed_steps_it_is_given():
    ode = NeuralODE(features=3, hidden=8, solver="euler", steps=4, time=2.0)
    x = torch.randn(5, 3)
    h, dt = x.clone(), 0.5
    for step in range(4):
        h = h + dt * ode.func(torch.tensor(step * dt), h)
    torch.testing.assert_close(ode(x), h)
    assert ode.func.evaluations == 4


@pytest.mark.parametrize(("solver", "steps", "time"), [("euler", 7, 0.7), ("rk4", 3, 1.0), ("rk4", 10, 0.7)])
def test_the_unrolled_solve_for_export_is_torchdiffeqs_step_for_step(solver, steps, time):
    ode = NeuralODE(features=4, hidden=8, solver=solver, steps=steps, time=time)
    x = torch.randn(5, 4)
    assert torch.equal(ode.unrolled(x, ode.times), ode(x))
    assert ode.func.evaluations == steps * (4 if solver == "rk4" else 1)  # exactly `steps`, never one more
    exported = torch.export.export(ode.eval(), (x,)).module()
    torch.testing.assert_close(exported(x), ode(x))
    traced = torch.jit.trace(ode, (x,), check_trace=False)
    torch.testing.assert_close(traced(x), ode(x))


def test_an_adaptive_solve_refuses_to_be_traced():
    ode = NeuralODE(features=2, hidden=4).eval()
    with pytest.raises(RuntimeError, match=r"exports only with a fixed-step solver \(euler or rk4\): dopri5"):
        torch.jit.trace(ode, (torch.randn(3, 2),), check_trace=False)


def test_rk4_and_dopri5_agree_on_the_same_flow():
    torch.manual_seed(0)
    fixed = NeuralODE(features=2, hidden=16, solver="rk4", steps=200)
    adaptive = NeuralODE(features=2, hidden=16, solver="dopri5", rtol=1e-7, atol=1e-8)
    adaptive.load_state_dict(fixed.state_dict())
    x = torch.randn(4, 2)
    torch.testing.assert_close(adaptive(x), fixed(x), rtol=1e-4, atol=1e-5)
    assert adaptive.func.evaluations >= 6  # one dopri5 step evaluates f six times


def test_time_input_is_optional():
    ode = NeuralODE(features=2, hidden=4, layers=1, time_input=False, solver="euler", steps=1)
    assert ode.func.net[0].in_features == 2
    x = torch.randn(3, 2)
    torch.testing.assert_close(ode(x), x + ode.func.net(x))


def test_the_adjoint_gives_the_gradients_of_backpropagation():
    torch.manual_seed(1)
    direct = NeuralODE(features=3, hidden=8, solver="rk4", steps=8)
    adjoint = NeuralODE(features=3, hidden=8, solver="rk4", steps=8, adjoint=True)
    adjoint.load_state_dict(direct.state_dict())
    x = torch.randn(6, 3)
    grads = []
    for module in (direct, adjoint):
        module(x).square().sum().backward()
        grads.append([p.grad.clone() for p in module.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


def _ode_project():
    b = GraphBuilder()
    b.chain(b.add("Input", "points", shape=[2]), b.add("NeuralODE", "flow", hidden=8),
            b.add("Linear", "fc", out_features=3), b.add("Output", "logits"))
    b.project.dataset = {"name": "blobs"}
    b.project.training = {"epochs": 1}
    return b.project


def test_without_torchdiffeq_the_graph_validates_but_building_says_how_to_install(monkeypatch):
    from nnstudio.training import TrainingInputError, prepare

    project = _ode_project()
    monkeypatch.setitem(sys.modules, "torchdiffeq", None)  # `import torchdiffeq` now fails
    analysis = analyze(project.graph)
    assert analysis.ok and analysis.shapes.of(project.graph.node_by_name("flow").id).shape == (2,)
    with pytest.raises(ImportError, match=r'pip install "nnstudio\[ode\]"'):
        build_module(project)
    with pytest.raises(TrainingInputError) as caught:
        prepare(project)
    assert str(caught.value) == block_modules.TORCHDIFFEQ_MISSING
    assert "\n" not in str(caught.value)


# ---- refusals that name the place --------------------------------------------------------------------------

@pytest.mark.parametrize(("layer_type", "ports", "params", "port", "text"), [
    ("RBF", {"in": i(4)}, {}, "in", "expects a float32 tensor"),
    ("PrimaryCapsules", {"in": f(8, 8)}, {}, "in", r"expects \[N, channels, height, width\]"),
    ("PrimaryCapsules", {"in": f(1, 2, 2)}, {"kernel_size": 3}, "in", "would produce an output of height 0"),
    ("RoutingCapsules", {"in": f(16)}, {}, "in", r"expects capsules \[N, capsules, capsule_dim\]"),
    ("CapsuleLength", {"in": f(16)}, {}, "in", "expects capsules"),
    ("MarginLoss", {"input": f(10), "target": f(10)}, {}, "target", "expects class indices"),
    ("MarginLoss", {"input": f(4), "target": i(2)}, {}, "target", r"expects targets \[N\] int64"),
    ("NeuralODE", {"in": i(3)}, {}, "in", "expects a float32 tensor"),
])
def test_shape_rules_refuse_with_the_port(layer_type, ports, params, port, text):
    project, layer = wrap_layer(layer_type, ports, params)
    problems = [d for d in analyze(project.graph).diagnostics if d.node_id == layer and d.is_error]
    assert problems, f"{layer_type} accepted {ports}"
    assert problems[0].port == port
    assert any(re.search(text, d.message) for d in problems), [d.message for d in problems]


def test_margin_loss_refuses_margins_in_the_wrong_order():
    spec = default_registry()["MarginLoss"]
    _, problems = spec.resolve_params({"m_plus": 0.4, "m_minus": 0.6})
    assert problems == [("m_minus", "must be smaller than m_plus (0.4), got 0.6")]


def test_squash_dim_must_exist():
    project, layer = wrap_layer("Squash", {"in": f(4)}, {"dim": 2})
    messages = [d.message for d in analyze(project.graph).diagnostics if d.node_id == layer]
    assert any("dim 2 is out of range" in m for m in messages), messages


# ---- Python export copies the modules ----------------------------------------------------------------------

def test_the_block_modules_copy_into_standalone_code():
    classes = [RBF, PrimaryCapsules, RoutingCapsules, Squash, CapsuleLength, MarginLoss, NeuralODE]
    copied = copy_sources(classes)
    assert not any("nnstudio" in line for line in copied.imports), copied.imports
    source = "\n".join([*copied.imports, *copied.constants, *copied.blocks])
    namespace: dict = {}
    exec(compile(source, "<model.py>", "exec"), namespace)  # what an exported model.py holds
    torch.manual_seed(0)
    x = torch.randn(2, 1, 6, 6)
    ours = [PrimaryCapsules(1, 2, 4, 3), RoutingCapsules(32, 4, 3, 5), CapsuleLength()]
    theirs = [namespace[type(m).__name__](*args) for m, args in
              zip(ours, [(1, 2, 4, 3), (32, 4, 3, 5), ()])]
    for mine, copy in zip(ours, theirs):
        copy.load_state_dict(mine.state_dict())
    a, b = x, x
    for mine, copy in zip(ours, theirs):
        a, b = mine(a), copy(b)
    torch.testing.assert_close(a, b)
    ode = namespace["NeuralODE"](features=3, hidden=4, solver="rk4", steps=2)
    assert ode(torch.zeros(1, 3)).shape == (1, 3)
    margin = namespace["MarginLoss"]()  # its F resolved to torch.nn.functional
    loss = margin(torch.tensor([[0.5, 0.5]]), torch.tensor([0]))
    assert loss.item() == pytest.approx(0.16 + 0.5 * 0.16)
