"""Issue 15: the memory a model needs is checked before anything is allocated, and a model too large for the
machine is refused with one line naming the node and the size (summary, train and every compile)."""

import pytest

from nnstudio.analysis import analyze
from nnstudio.cli import main
from nnstudio.compile import CompileError, build_module, memory
from nnstudio.compile.memory import CODE, human_bytes, memory_problem, node_bytes
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder


def _wide(width: int = 2**24, inputs: int = 2**20) -> GraphBuilder:
    """Within every param bound, yet 2**20 × 2**24 weights: 64 TiB."""
    b = GraphBuilder(name="wide")
    b.chain(
        b.add("Input", "x", shape=[inputs]),
        b.add("Linear", "fc1", out_features=width),
        b.add("Linear", "fc2", out_features=3),
        b.add("Output", "y"),
    )
    return b


def test_bytes_per_node_are_weights_buffers_and_outputs():
    b = GraphBuilder(name="small")
    b.chain(
        b.add("Input", "x", shape=[5]),
        b.add("Linear", "fc", out_features=7),
        b.add("BatchNorm1d", "bn"),
        b.add("Output", "y"),
    )
    sizes = node_bytes(analyze(b.graph))
    by_name = {b.graph.nodes[n].name: size for n, size in sizes.items()}
    assert by_name["fc"] == (5 * 7 + 7) * 4 + 7 * 4
    # weight, bias, running mean and variance (float32), num_batches_tracked (int64), and the output
    assert by_name["bn"] == 4 * 7 * 4 + 8 + 7 * 4
    assert by_name["x"] == 5 * 4


def test_a_huge_model_is_estimated_without_allocating_it():
    sizes = node_bytes(analyze(_wide().graph))
    assert max(sizes.values()) > 2**46  # 64 TiB, counted on the meta device in no time and no memory


def test_the_problem_names_the_largest_node_and_the_sizes():
    b = _wide()
    problem = memory_problem(b.graph, analyze(b.graph), available=8 * 2**30)
    assert problem.code == CODE and problem.node_id == b.graph.node_by_name("fc1").id
    assert problem.message == (
        "fc1: needs 64.0 TiB for its weights and one sample's output; the model needs "
        "64.0 TiB in all, more than the 8.0 GiB of memory available"
    )
    assert memory_problem(b.graph, analyze(b.graph), available=2**50) is None


def test_build_module_refuses_before_allocating(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    with pytest.raises(CompileError) as info:
        build_module(_wide(width=2**14, inputs=2**14).project)  # 1 GiB of weights: a real allocation if it got there
    assert [d.code for d in info.value.diagnostics] == [CODE]


def test_summary_says_it_in_one_line_with_exit_2(tmp_path, capsys):
    path = tmp_path / "wide.nnstudio"
    save(_wide().project, path)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"nnstudio summary: {path}: node 'fc1' (Linear): needs 64.0 TiB for its weights")


def test_human_bytes():
    assert [human_bytes(n) for n in (12, 1536, 3 * 2**30, 2**52)] == ["12 bytes", "1.5 KiB", "3.0 GiB", "4096.0 TiB"]


def test_available_memory_is_known_here():
    assert memory.available_memory() > 0
