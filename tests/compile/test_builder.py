import pytest
import torch

from nnstudio.compile import CompileError, build_module, example_inputs, summarize
from nnstudio.model import INIT_SCHEMES
from nnstudio.model.builder import GraphBuilder
from tests.helpers import mlp, residual


def test_mlp_compiles_with_readable_code_and_named_modules():
    compiled = build_module(mlp().project)
    assert "self.linear(input_1)" in compiled.code or "self.linear(input)" in compiled.code
    assert dict(compiled.module.named_children()).keys() == {"linear", "relu", "linear_1"}
    out = compiled.module(torch.randn(5, 2))
    assert out.shape == (5, 3)


def test_residual_and_concat_branches():
    compiled = build_module(residual().project)
    assert "+" in compiled.code
    b = GraphBuilder()
    x = b.add("Input", "x", shape=[4])
    left = b.add("Linear", "left", out_features=3)
    right = b.add("Linear", "right", out_features=5)
    cat = b.add("Concat", "cat", dim=-1)
    out = b.add("Output", "y")
    b.chain(x, left, cat)
    b.chain(x, right)
    b.link(right, cat, "inputs")
    b.link(cat, out)
    model = build_module(b.project).module
    assert model(torch.randn(2, 4)).shape == (2, 8)


def test_invalid_graph_raises_with_diagnostics():
    b = mlp()
    b.add("Linear", "stray")
    with pytest.raises(CompileError) as info:
        build_module(b.project)
    assert any(d.code == "unconnected-input" for d in info.value.diagnostics)
    assert "stray" in str(info.value)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_same_seed_gives_bitwise_equal_weights(scheme):
    first, second = mlp().project, mlp().project
    for project in (first, second):
        project.init.scheme, project.init.seed = scheme, 123
    a = build_module(first).module.state_dict()
    b = build_module(second).module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_seed_changes_weights_and_leaves_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    project = mlp().project
    w1 = build_module(project).module.linear.weight.clone()
    assert torch.equal(torch.rand(1), expected)
    project.init.seed = 1
    assert not torch.equal(build_module(project).module.linear.weight, w1)


def test_init_schemes_apply_per_project_and_per_node():
    project = mlp().project
    project.init.scheme = "zeros"
    node = project.graph.node_by_name("linear_1")
    project.graph.set_node_init(node.id, "orthogonal")
    model = build_module(project).module
    assert torch.count_nonzero(model.linear.weight) == 0
    assert torch.count_nonzero(model.linear.bias) == 0
    w = model.linear_1.weight  # 3 x 16: rows orthonormal
    assert torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)


def test_summary_counts_params_and_flops():
    project = mlp(width=16, classes=3).project
    compiled = build_module(project)
    summary = summarize(compiled, project.graph)
    rows = {r.name: r for r in summary.rows}
    assert rows["linear"].params == 2 * 16 + 16
    assert rows["linear"].flops == 2 * 2 * 16
    assert rows["linear"].output == "[N, 16]"
    assert summary.total_params == (2 * 16 + 16) + (16 * 3 + 3)
    assert summary.total_flops == 2 * (2 * 16 + 16 * 3)
    assert "Total params: 99" in summary.table()


def test_example_inputs_match_declared_shapes():
    compiled = build_module(mlp(inputs=5).project)
    (x,) = example_inputs(compiled, batch=4)
    assert x.shape == (4, 5) and x.dtype == torch.float32


def test_node_names_that_shadow_module_attributes_still_compile():
    b = GraphBuilder()
    b.sequential(("Input", {"shape": [3]}), ("Linear", {"out_features": 4}), "ReLU", "Output")
    g = b.graph
    g.rename_node(g.node_by_name("linear").id, "code")
    g.rename_node(g.node_by_name("relu").id, "training")
    compiled = build_module(b.project)
    assert compiled.modules_of[g.node_by_name("code").id] == ["code_"]
    assert compiled.module(torch.randn(2, 3)).shape == (2, 4)
    assert "def forward" in compiled.code


def test_recurrent_and_attention_flops_are_counted():
    b = GraphBuilder()
    b.sequential(("Input", {"shape": [20, 8]}), ("LSTM", {"hidden_size": 16, "output": "last"}), "Output")
    project = b.project
    rows = {r.type: r for r in summarize(build_module(project), project.graph).rows}
    assert rows["LSTM"].flops == 20 * 4 * 2 * 16 * (8 + 16)
    t = GraphBuilder()
    t.sequential(("Input", {"shape": [16, 32]}), ("TransformerEncoderLayer", {"nhead": 4}), "Output")
    rows = {r.type: r for r in summarize(build_module(t.project), t.graph).rows}
    assert rows["TransformerEncoderLayer"].flops > 0


def test_init_scheme_keeps_embedding_padding_row_zero():
    b = GraphBuilder()
    b.sequential(("Input", {"shape": [5], "dtype": "int64"}),
                 ("Embedding", {"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 0}), "Output")
    b.project.init.scheme = "xavier_normal"
    model = build_module(b.project).module
    (embedding,) = [m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    assert torch.count_nonzero(embedding.weight[0]) == 0 and torch.count_nonzero(embedding.weight[1]) > 0


def test_every_fx_node_knows_its_graph_node():
    from nnstudio.compile.builder import NODE_META_KEY

    b = residual()
    compiled = build_module(b.project)
    names = {n.id: n.name for n in b.graph.nodes.values()}
    tagged = {fx_node.name: names[fx_node.meta[NODE_META_KEY]]
              for fx_node in compiled.module.graph.nodes if fx_node.op != "output"}
    assert tagged["fc1"] == "fc1" and tagged["add"] == "join" and tagged["x"] == "x"
