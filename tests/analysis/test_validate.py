from nnstudio.analysis import analyze, can_connect, validate
from nnstudio.layers import TensorType
from nnstudio.model import Endpoint
from nnstudio.model.builder import GraphBuilder
from tests.helpers import mlp, residual


def codes(graph):
    return sorted(d.code for d in validate(graph))


def test_valid_mlp_has_shapes_on_every_edge():
    b = mlp(width=16, classes=3)
    analysis = analyze(b.graph)
    assert analysis.ok, analysis.diagnostics
    shapes = [analysis.shapes.of_edge(e) for e in b.graph.edges.values()]
    assert [str(s) for s in shapes] == ["[N, 2]", "[N, 16]", "[N, 16]", "[N, 3]"]


def test_residual_branch_and_merge():
    analysis = analyze(residual().graph)
    assert analysis.ok
    join = residual().graph.node_by_name("join")
    assert join is not None


def test_cycle_names_the_nodes_on_it():
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[4])
    a = b.add("Linear", "a", out_features=4)
    c = b.add("Linear", "c", out_features=4)
    add = b.add("Add", "join")
    b.add("Output", "y")
    b.chain(x, a, add)
    b.chain(add, c)
    b.link(c, add, "inputs")  # join → c → join
    (cycle,) = [d for d in validate(b.graph) if d.code == "cycle"]
    assert "join" in cycle.message and "c" in cycle.message and "→" in cycle.message
    assert set(cycle.related) == {add, c}


def test_missing_input_output_and_unconnected_ports():
    b = GraphBuilder()
    b.add("Linear", "lonely")
    found = codes(b.graph)
    assert {"no-input", "no-output", "unconnected-input"} <= set(found)


def test_unreachable_and_dead_end():
    b = mlp()
    stray = b.add("Linear", "stray")
    b.add("ReLU", "loose_end")
    b.link(b.graph.node_by_name("relu").id, b.graph.node_by_name("loose_end").id)
    diagnostics = {d.code: d for d in validate(b.graph)}
    assert diagnostics["unreachable"].node_id == stray
    assert diagnostics["dead-end"].severity.value == "warning"


def test_param_out_of_range_names_node_and_param():
    b = mlp()
    node = b.graph.node_by_name("linear")
    b.graph.set_param(node.id, "out_features", -5)
    (problem,) = [d for d in validate(b.graph) if d.code == "bad-param"]
    assert problem.message == "linear.out_features: expected an integer in [1, 16777216], got -5"
    assert problem.param == "out_features"


def test_shape_mismatch_names_both_ends():
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[8])
    short = b.add("Linear", "short", out_features=4)
    join = b.add("Add", "join")
    b.add("Output", "y")
    b.chain(x, short, join)
    b.link(x, join, "inputs")
    b.link(join, b.graph.node_by_name("y").id)
    (problem,) = [d for d in validate(b.graph) if d.code == "shape-mismatch"]
    assert problem.message.startswith("join.inputs:")
    assert "[N, 4]" in problem.message and "[N, 8]" in problem.message
    assert "short" in problem.message and "x" in problem.message


def test_too_many_inputs_on_single_port():
    b = mlp()
    x, relu = b.graph.node_by_name("input"), b.graph.node_by_name("relu")
    b.link(x.id, relu.id)
    assert "too-many-inputs" in codes(b.graph)


def test_unknown_layer_is_a_diagnostic_not_a_crash():
    b = mlp()
    b.add("FancyPluginLayer", "fancy")
    (problem,) = [d for d in validate(b.graph) if d.code == "unknown-layer"]
    assert "FancyPluginLayer" in problem.message


def test_can_connect_explains_refusals():
    b = mlp()
    g = b.graph
    x, fc, relu = g.node_by_name("input"), g.node_by_name("linear"), g.node_by_name("relu")
    out = g.node_by_name("output")
    registry_verdict = can_connect
    from nnstudio.layers import default_registry

    reg = default_registry()
    assert not registry_verdict(g, reg, Endpoint(relu.id, "out"), Endpoint(fc.id, "in")).ok  # occupied
    verdict = can_connect(g, reg, Endpoint(out.id, "out"), Endpoint(fc.id, "in"))
    assert "not an output port" in verdict.reason
    g.remove_edge(g.incoming(fc.id)[0].id)
    cyc = can_connect(g, reg, Endpoint(relu.id, "out"), Endpoint(fc.id, "in"))
    assert not cyc.ok and "cycle" in cyc.reason
    assert can_connect(g, reg, Endpoint(x.id, "out"), Endpoint(fc.id, "in")).ok


def test_can_connect_checks_dtype_when_shapes_known():
    b = GraphBuilder()
    tokens = b.add("Input", "tokens", shape=[5], dtype="int64")
    fc = b.add("Linear", "fc")
    from nnstudio.layers import default_registry

    shapes = analyze(b.graph).shapes
    assert shapes.of(tokens) == TensorType((5,), "int64")
    verdict = can_connect(b.graph, default_registry(), Endpoint(tokens, "out"), Endpoint(fc, "in"), shapes)
    assert not verdict.ok and "float32" in verdict.reason
