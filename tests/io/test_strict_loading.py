"""Issue 15: what json.loads accepts or chokes on, refused by the project loader with one line naming the place;
and every problem of a file reported in one load (issue 13 item 8)."""

import json

import pytest

from nnstudio.io import ProjectFileError, dumps, load, loads, save
from nnstudio.io.reader import MAX_REPORTED
from nnstudio.io.strict_json import MAX_DEPTH, MAX_INT_DIGITS
from tests.helpers import residual

TEXT = dumps(residual().project)


def _error(text: str | bytes) -> ProjectFileError:
    with pytest.raises(ProjectFileError) as info:
        loads(text)
    return info.value


def test_an_integer_of_more_than_4300_digits_names_the_line(tmp_path):
    huge = "9" * (MAX_INT_DIGITS + 1)
    text = TEXT.replace('"seed": 0', f'"seed": {huge}')
    line = next(n for n, row in enumerate(text.splitlines(), 1) if huge in row)
    path = tmp_path / "big.nnstudio"
    path.write_text(text)
    with pytest.raises(ProjectFileError) as info:
        load(path)
    assert str(info.value) == (f"{path}: line {line}, column 13: an integer of 4,301 digits; at most 4,300 are allowed")


def test_an_integer_at_the_limit_is_read_and_then_refused_by_its_range():
    text = TEXT.replace('"seed": 0', f'"seed": {"9" * MAX_INT_DIGITS}')
    assert "init.seed: expected an integer in [0, 2**63)" in str(_error(text))


def test_a_training_section_nested_900_deep_is_refused_on_load():
    document = json.loads(TEXT)
    nested: dict = {}
    document["training"] = {"optimizer": nested}
    for _ in range(900):
        nested["a"] = {}
        nested = nested["a"]
    error = _error(json.dumps(document))
    assert error.message == f"nested more than {MAX_DEPTH} levels deep"
    assert error.location.startswith("training.optimizer.a.a.") and error.location.endswith("…")
    assert len(str(error)) < 120


def test_nesting_deeper_than_python_recursion_is_one_error():
    assert "nested too deeply" in str(_error("[" * 200_000 + "]" * 200_000))


def test_duplicate_keys_are_refused_naming_key_and_place():
    text = TEXT.replace('"out_features": 8', '"out_features": 8, "out_features": 16', 1)
    assert str(_error(text)) == (
        "graph.nodes[1].params: duplicate key 'out_features': each key may appear only once in an object"
    )
    assert "duplicate key 'format'" in str(_error('{"format": "x", "format": "nnstudio.project"}'))


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.nnstudio"
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    assert dumps(load(path)) == TEXT
    assert dumps(loads("\ufeff" + TEXT)) == TEXT


def test_every_problem_of_a_file_is_reported_in_document_order(tmp_path):
    document = json.loads(TEXT)
    nodes = document["graph"]["nodes"]
    nodes[1]["params"]["out_features"] = 10**12
    nodes[3]["params"] = {"out_features": 0, "bias": "yes"}
    nodes[2]["name"] = "not a name"
    document["graph"]["edges"][0]["target"]["port"] = "sideways"  # into fc1, whose problem is reported already
    document["graph"]["edges"][-1]["target"]["port"] = "sideways"
    document["init"]["scheme"] = "magic"
    path = tmp_path / "many.nnstudio"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectFileError) as info:
        load(path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}: init.scheme: expected one of default, xavier_uniform, xavier_normal, kaiming_uniform, "
        "kaiming_normal, orthogonal, zeros, got 'magic'",
        f"{path}: node 'fc1' (Linear): out_features: expected an integer in [1, 16777216], got 1000000000000",
        f"{path}: graph.nodes[2].name: expected an identifier (letters, digits, underscores), got 'not a name'",
        f"{path}: node 'fc2' (Linear): out_features: expected an integer in [1, 16777216], got 0",
        f"{path}: node 'fc2' (Linear): bias: expected true or false, got 'yes'",
        f"{path}: graph.edges[{len(document['graph']['edges']) - 1}].target.port: Output node 'y' has no input "
        "port 'sideways'",
    ]
    assert [p.line() for p in info.value.problems] == lines


def test_edges_of_an_unreadable_node_are_not_reported_again():
    document = json.loads(TEXT)
    document["graph"]["nodes"][2]["type"] = 7  # act: every edge into or out of it would be a second error
    assert str(_error(json.dumps(document))) == "graph.nodes[2].type: expected a string, got a number"


def test_the_report_is_capped():
    document = json.loads(TEXT)
    document["graph"]["nodes"][1]["params"] = {f"p{i}": 1 for i in range(MAX_REPORTED + 5)}
    error = _error(json.dumps(document))
    lines = str(error).splitlines()
    assert len(error.problems) == MAX_REPORTED + 5 and len(lines) == MAX_REPORTED + 1
    assert lines[-1] == "... and 5 more problem(s)"
    assert lines[0] == "node 'fc1' (Linear): p0: no such parameter; Linear takes out_features, bias"


def test_a_file_saved_after_a_bom_load_has_no_bom(tmp_path):
    path = tmp_path / "bom.nnstudio"
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    save(load(path), path)
    assert path.read_bytes().startswith(b"{")


def test_values_written_back_verbatim_must_be_finite():
    """Metadata extras and a placeholder's params are saved as read: 1e999 would come back as Infinity."""
    text = TEXT.replace('"name": "', '"x": 1e999, "name": "', 1)
    assert str(_error(text)) == "metadata.x: expected a finite number"
    document = json.loads(TEXT)
    document["graph"]["nodes"][2].update(type="Quantum", params={"q": 1})
    assert str(_error(json.dumps(document).replace('"q": 1', '"q": 1e999'))) == (
        "node 'act' (Quantum): q: expected a finite number"
    )
