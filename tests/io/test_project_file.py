import json
from pathlib import Path

import pytest

from nnstudio.analysis import analyze
from nnstudio.io import MAX_FILE_BYTES, ProjectFileError, dumps, load, loads, migrations, save
from tests.helpers import residual

DATA = Path(__file__).parent.parent / "data"


def _doc(**overrides):
    document = json.loads(dumps(residual().project))
    document.update(overrides)
    return document


def _error(document) -> str:
    with pytest.raises(ProjectFileError) as info:
        loads(json.dumps(document) if not isinstance(document, (str, bytes)) else document)
    return str(info.value)


def test_golden_v1_loads_and_validates():
    project = load(DATA / "golden_v1.nnstudio")
    assert project.metadata.name == "Golden v1"
    assert project.metadata.extra == {"author": "nnstudio tests"}
    assert project.init.scheme == "xavier_uniform" and project.init.seed == 7
    assert project.graph.node_by_name("fc2").init == "zeros"
    assert analyze(project.graph).ok


def test_round_trip_is_exact(tmp_path):
    project = load(DATA / "golden_v1.nnstudio")
    path = tmp_path / "copy.nnstudio"
    save(project, path)
    again = load(path)
    assert dumps(again) == dumps(project)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "p.nnstudio"
    save(residual().project, path)
    assert [p.name for p in tmp_path.iterdir()] == ["p.nnstudio"]


def test_not_json_names_line_and_column():
    assert "line 1, column 2: not valid JSON" in _error("{nope")


def test_not_utf8():
    with pytest.raises(ProjectFileError, match="not UTF-8"):
        loads(b"\xff\xfe\x00garbage")


def test_wrong_format_name():
    assert "not an nnstudio project" in _error(_doc(format="keras"))


def test_version_from_the_future():
    assert "version: version 99 is newer" in _error(_doc(version=99))


def test_missing_field_named():
    document = _doc()
    del document["graph"]["nodes"][1]["type"]
    assert _error(document) == "graph.nodes[1].type: missing field"


def test_wrong_type_named():
    document = _doc()
    document["graph"]["nodes"][0]["params"] = [1, 2]
    assert _error(document) == "node 'x' (Input): params: expected an object, got a list"


def test_bad_param_value_named_like_the_issue_example():
    document = _doc()
    document["graph"]["nodes"][1]["params"]["out_features"] = -5
    assert _error(document) == "node 'fc1' (Linear): out_features: expected an integer in [1, 16777216], got -5"


def test_edge_to_missing_node_and_port():
    document = _doc()
    document["graph"]["edges"][0]["target"]["node"] = "ghost"
    assert "graph.edges[0].target.node: no node with id 'ghost'" in _error(document)
    document = _doc()
    document["graph"]["edges"][0]["target"]["port"] = "sideways"
    assert "graph.edges[0].target.port: Linear node 'fc1' has no input port 'sideways'" in _error(document)


def test_duplicate_ids_and_names():
    document = _doc()
    document["graph"]["nodes"][2]["id"] = document["graph"]["nodes"][1]["id"]
    assert "graph.nodes[2].id: duplicate node id" in _error(document)
    document = _doc()
    document["graph"]["nodes"][2]["name"] = document["graph"]["nodes"][1]["name"]
    assert "graph.nodes[2].name: duplicate node name" in _error(document)


def test_unknown_layer_loads_as_placeholder_with_diagnostic():
    document = _doc()
    document["graph"]["nodes"][2]["type"] = "QuantumLayer"
    document["graph"]["nodes"][2]["params"] = {"qubits": 3}
    project = loads(json.dumps(document))
    node = project.graph.node_by_name("act")
    assert node.type == "QuantumLayer" and node.params == {"qubits": 3}
    assert any(d.code == "unknown-layer" for d in analyze(project.graph).diagnostics)
    assert json.loads(dumps(project))["graph"]["nodes"][2]["params"] == {"qubits": 3}  # kept on save


def test_size_cap(tmp_path):
    path = tmp_path / "huge.nnstudio"
    path.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(ProjectFileError, match="over the 16 MiB cap"):
        load(path)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ProjectFileError, match="missing.nnstudio"):
        load(tmp_path / "missing.nnstudio")


def test_non_finite_numbers_refused():
    text = dumps(residual().project).replace('"seed": 0', '"seed": NaN')
    assert "not valid JSON" in _error(text)


def test_migrations_run_in_order(monkeypatch):
    """Every step from the file's version up runs once, in order: v1 → v2 → v3 (the real ones) → v4 (a test one)."""
    calls = []

    def v3_to_v4(document):
        calls.append(3)
        document["metadata"]["name"] += " (migrated)"
        return document

    monkeypatch.setattr(migrations, "CURRENT_VERSION", 4)
    monkeypatch.setitem(migrations.MIGRATIONS, 3, v3_to_v4)
    monkeypatch.setattr("nnstudio.io.project_file.CURRENT_VERSION", 4)
    project = load(DATA / "golden_v1.nnstudio")
    assert calls == [3] and project.metadata.name == "Golden v1 (migrated)"


def test_a_v1_file_is_saved_as_the_current_version_with_the_same_meaning(tmp_path):
    project = load(DATA / "golden_v1.nnstudio")
    assert all(node.training.is_default for node in project.graph.nodes.values())
    assert project.init.weights is None
    save(project, tmp_path / "p.nnstudio")
    document = json.loads((tmp_path / "p.nnstudio").read_text())
    assert document["version"] == 3 and "weights" not in document["init"] and "search" not in document
    assert not any("training" in node for node in document["graph"]["nodes"])


def test_golden_v2_loads_with_its_objective_and_node_training():
    project = load(DATA / "golden_v2.nnstudio")
    graph = project.graph
    assert project.metadata.name == "Golden v2"
    assert project.init.weights == "runs/pretrained/checkpoints/best"
    trunk = graph.node_by_name("trunk").training
    assert trunk.frozen and trunk.update_stats and trunk.lr_scale == 1.0
    assert graph.node_by_name("classes").training.lr_scale == 0.5
    assert {n.type for n in graph.nodes.values()} >= {"Target", "ClassMap", "CrossEntropyLoss", "ActivityL1Loss"}
    assert analyze(graph).ok
    assert dumps(loads(dumps(project))) == dumps(project)


@pytest.mark.parametrize(("training", "message"), [
    ({"frozen": "yes"}, "node 'x' (Input): training.frozen: expected a boolean, got a string"),
    ({"lr_scale": -1}, "node 'x' (Input): training.lr_scale: expected a number in [0, 1000000], got -1"),
    ({"speed": 2}, "node 'x' (Input): training.speed: unknown key; expected frozen, lr_scale, update_stats"),
])
def test_bad_node_training_names_the_place(training, message):
    document = json.loads((DATA / "golden_v2.nnstudio").read_text())
    document["graph"]["nodes"][0]["training"] = training
    assert _error(json.dumps(document)) == message


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    path = tmp_path / "p.nnstudio"
    save(residual().project, path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_save_removes_temporary_files_of_killed_saves_only(tmp_path):
    """Issue 15: kill -9 during a save leaves `.NAME.nnstudio.PID.XXXXXXXX.tmp`; the next save in the folder
    removes those whose writer is gone, and keeps a live writer's and every file that is not ours."""
    import os
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    killed = [tmp_path / f".p.nnstudio.{dead_pid}.ab12cd34.tmp", tmp_path / f".other.nnstudio.{dead_pid}.x_9.tmp"]
    live = tmp_path / f".p.nnstudio.{os.getppid()}.ef56gh78.tmp"
    mine = [tmp_path / "notes.tmp", tmp_path / f".p.nnstudio.{dead_pid}.tmp.bak"]
    for path in [*killed, live, *mine]:
        path.write_text("partial")
    save(residual().project, tmp_path / "p.nnstudio")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.nnstudio", live.name, *(p.name for p in mine)])


def test_the_search_section_round_trips_and_a_v2_file_has_none():
    project = load(DATA / "golden_v2.nnstudio")
    assert project.search == {}
    project.search = {"space": [{"param": "training.optimizer.lr", "kind": "float", "low": 1e-4, "high": 1e-1}]}
    again = loads(dumps(project))
    assert again.search == project.search
    assert json.loads(dumps(again))["version"] == 3


def test_golden_v3_loads_with_its_search_comments_augmentation_and_tensorboard():
    """Pinned: a version-3 file with every key that version added keeps loading, and means the same."""
    from nnstudio.search.study import parse_search
    from nnstudio.training.data.catalogue import dataset_problems
    from nnstudio.training.settings import parse_settings

    project = load(DATA / "golden_v3.nnstudio")
    assert project.metadata.name == "Golden v3" and analyze(project.graph).ok
    assert [c.kind for c in project.annotations] == ["frame", "note"]
    assert [step["type"] for step in project.dataset["augment"]] == ["hflip", "mixup"]
    assert dataset_problems(project.dataset) == []
    settings, problems = parse_settings(project.training)
    assert problems == [] and settings.instrumentation.tensorboard == "runs/tb"
    space, problems = parse_search(project, {})
    assert problems == [] and len(space.dimensions) == 4 and space.study.second == "params"
    assert dumps(loads(dumps(project))) == dumps(project)
