"""The probe's cases: project files and command lines (see probe_reliability.py for how they run)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "nnstudio" / "examples"


@dataclass
class Case:
    """One hostile input: `prepare` writes its files into a fresh folder and returns the CLI arguments."""

    name: str
    prepare: Callable[[Path], list[str] | None]
    expect: str = "refuse"  # or "accept"
    check_lost: Callable[[Path], str | None] | None = None


@dataclass
class Outcome:
    case: Case
    kind: str
    detail: str


def example(name: str = "spirals") -> dict:
    return json.loads((EXAMPLES / f"{name}.nnstudio").read_text(encoding="utf-8"))


def small(project: dict) -> dict:
    """A quick-to-train copy: one short epoch on few samples."""
    project = copy.deepcopy(project)
    project.setdefault("training", {})["epochs"] = 1
    dataset = project.setdefault("dataset", {"name": "spirals"})
    if dataset.get("name") == "spirals":
        dataset["params"] = {"samples": 200}
    return project


def text_case(name: str, text: str | bytes, command: str = "validate", expect: str = "refuse",
              extra: tuple[str, ...] = ()) -> Case:
    """A project file with exactly this text, given to one subcommand."""

    def prepare(folder: Path) -> list[str]:
        path = folder / "p.nnstudio"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return [command, str(path), *extra]

    return Case(name, prepare, expect)


def project_case(name: str, edit: Callable[[dict], None], commands: tuple[str, ...] = ("validate", "summary"),
                 expect: str = "refuse") -> list[Case]:
    project = small(example())
    edit(project)
    text = json.dumps(project)  # small(): one epoch already, so no --epochs that would hide a bad setting
    return [text_case(f"{name}/{c}", text, c, expect) for c in commands]


def _node_in(nodes: list, node_id: str) -> dict:
    return next(n for n in nodes if n["id"] == node_id)


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def edit(project: dict) -> None:
        target = project
        for key in path[:-1]:
            target = _node_in(target, key) if isinstance(target, list) else target[key]
        target[path[-1]] = value
    return edit


def _nested(depth: int) -> Callable[[dict], None]:
    def edit(project: dict) -> None:
        project["training"]["extra"] = json.loads("[" * depth + "]" * depth)
    return edit


def project_cases() -> list[Case]:
    base = json.dumps(small(example()))
    cases = [text_case("valid/validate", base, expect="accept"),
             text_case("valid-bom/validate", "\ufeff" + base, expect="accept"),
             text_case("big-int", base.replace('"out_features": 64', '"out_features": ' + "9" * 5000, 1)),
             text_case("big-int/summary", base.replace('"out_features": 64', '"out_features": ' + "9" * 5000, 1),
                       "summary"),
             text_case("duplicate-key", base.replace('"version": 2', '"version": 2, "version": 2', 1)),
             text_case("empty", ""), text_case("null", "null"), text_case("list", "[]"),
             text_case("utf16", base.encode("utf-16")),
             text_case("nan-literal", base.replace('"lr": 0.01', '"lr": NaN', 1), "train", extra=("--epochs", "1")),
             text_case("deep-200000", base[:-1] + ', "x": ' + "[" * 200000 + "]" * 200000 + "}")]
    rng = random.Random(0)
    for _ in range(6):
        cut = rng.randrange(1, len(base) - 1)
        cases.append(text_case(f"truncated-{cut}", base[:cut]))
    for i in range(3):
        cases.append(text_case(f"random-bytes-{i}", bytes(rng.randrange(256) for _ in range(400))))
    cases += project_case("deep-900", _nested(900), ("validate", "train"))
    cases += project_case("out-features-1e12", _set(("graph", "nodes", "n_fc1", "params", "out_features"), 10**12),
                          ("validate", "summary", "train"))
    cases += project_case("out-features-neg", _set(("graph", "nodes", "n_fc1", "params", "out_features"), -3))
    cases += project_case("out-features-str", _set(("graph", "nodes", "n_fc1", "params", "out_features"), "abc"))
    cases += project_case("params-list", _set(("graph", "nodes", "n_fc1", "params"), [1, 2]))
    cases += project_case("nodes-string", _set(("graph", "nodes"), "nodes"))
    cases += project_case("version-999", _set(("version",), 999))
    cases += project_case("version-one", _set(("version",), "one"))
    cases += project_case("lr-negative", _set(("training", "optimizer", "lr"), -1.0), ("validate", "train"))
    cases += project_case("epochs-negative", _set(("training", "epochs"), -4), ("validate", "train"))
    cases += project_case("unknown-dataset", _set(("dataset", "name"), "nope"), ("validate", "train"))
    cases += project_case("input-mismatch", _set(("graph", "nodes", "n_points", "params", "shape"), [3]),
                          ("validate", "train"))
    cases += project_case("five-class-head-digits", _digits_head(5), ("validate", "train"))
    cases += project_case("unknown-layer", _set(("graph", "nodes", "n_fc1", "type"), "Linearr"))
    return cases


def _digits_head(classes: int) -> Callable[[dict], None]:
    def edit(project: dict) -> None:
        digits = small(example("digits_cnn"))
        project.clear()
        project.update(digits)
        linears = [n for n in project["graph"]["nodes"] if n["type"] == "Linear"]
        linears[-1]["params"]["out_features"] = classes
    return edit


def _command(name: str, argv: list[str], expect: str = "refuse") -> Case:
    def prepare(folder: Path) -> list[str]:
        (folder / "p.nnstudio").write_text(json.dumps(small(example())), encoding="utf-8")
        return [a.replace("{p}", str(folder / "p.nnstudio")).replace("{dir}", str(folder)) for a in argv]
    return Case(name, prepare, expect)


def _unwritable_out(folder: Path) -> list[str]:
    (folder / "p.nnstudio").write_text(json.dumps(small(example())), encoding="utf-8")
    (folder / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    return ["train", str(folder / "p.nnstudio"), "--out", str(folder / "blocker" / "out")]


def command_cases() -> list[Case]:
    return [_command("typo-trian", ["trian", "{p}"]), _command("typo-exprot", ["exprot", "{p}"]),
            _command("threads-0", ["train", "{p}", "--threads", "0"]),
            _command("threads-neg", ["train", "{p}", "--threads", "-2"]),
            _command("epochs-0", ["train", "{p}", "--epochs", "0"]),
            _command("lr-neg-flag", ["train", "{p}", "--lr", "-0.1"]),
            _command("batch-0", ["train", "{p}", "--batch-size", "0"]),
            _command("missing-file", ["validate", "{dir}/nope.nnstudio"]),
            _command("folder-as-file", ["validate", "{dir}"]),
            _command("bad-example", ["train", "example:nope"]),
            _command("export-bad-format", ["export", "{p}", "--format", "gif", "--out", "{dir}/m.gif"]),
            _command("export-to-root", ["export", "{p}", "--format", "torchscript", "--out", "/"]),
            _command("resume-missing", ["train", "{p}", "--resume", "{dir}/nope"]),
            _command("init-weights-missing", ["train", "{p}", "--init-weights", "{dir}/nope.safetensors"]),
            Case("unwritable-out", _unwritable_out),
            _command("valid-train", ["train", "{p}", "--epochs", "1", "--out", "{dir}/run"], expect="accept")]


HOSTILE_VALUES = (None, -1, 0, 10**20, 1e308, "x", "", [], {}, True, [[[[]]]], {"a": {"b": None}})


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document (keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: dict, path: tuple, value: object) -> dict:
    document = copy.deepcopy(document)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def mutation_cases(count: int = 120, seed: int = 0) -> list[Case]:
    """Random single-value replacements anywhere in a valid project, given to `validate` and `train`.

    Either answer is right for a replacement that happens to be valid (a different seed, say), so these
    cases count only crashes: `expect` is decided by what a clean refusal or a clean run looks like.
    """
    rng = random.Random(seed)
    base = small(example())
    paths = _paths(base)
    cases = []
    for number in range(count):
        path = rng.choice(paths)
        value = rng.choice(HOSTILE_VALUES)
        command = "train" if number % 4 == 0 else "validate"
        text = json.dumps(_replaced(base, path, value))
        name = f"mutation-{number}/{command}:{'.'.join(map(str, path))}={json.dumps(value)[:20]}"
        cases.append(text_case(name, text, command, expect="either"))
    return cases
