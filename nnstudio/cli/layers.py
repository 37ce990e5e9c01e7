"""`nnstudio layers`: the layer catalogue, as text, JSON or the Markdown of docs/layers.md.

Everything printed comes from the LayerSpecs (through nnstudio.layers.reference), the same declarations the
palette, the inspector, the file loader and the compiler read.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys

from nnstudio.cli.common import CliError
from nnstudio.layers.reference import REGENERATE, catalogue, markdown, value_text
from nnstudio.layers.registry import Registry, builtin_registry, default_registry


def register(subparsers: argparse._SubParsersAction) -> None:
    layers = subparsers.add_parser(
        "layers", help="list the layer catalogue: types, params, ports and formulas",
        description="List the layer types a project can use, by category, with their params (kind, default, "
                    "accepted values), input and output ports and formula. Name types to see only those, in full.")
    layers.add_argument("types", nargs="*", metavar="TYPE", help="only these layer types (e.g. Conv2d Upsample)")
    layers.add_argument("--category", help="only the layers of this category (e.g. Activation)")
    form = layers.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the entries as JSON")
    form.add_argument("--markdown", action="store_true",
                      help=f"print the layer reference as Markdown (docs/layers.md is `{REGENERATE}`)")
    layers.add_argument("--builtin", action="store_true", help="leave out layers from installed plugins")
    layers.set_defaults(func=run_layers)


def run_layers(args: argparse.Namespace) -> int:
    registry = builtin_registry() if args.builtin else default_registry()
    for problem in registry.plugin_errors:  # listed without the plugin's layers; say why they are missing
        print(f"nnstudio layers: warning: {problem}", file=sys.stderr)
    if args.markdown:
        if args.types or args.category:
            raise CliError("--markdown renders the whole catalogue; leave out TYPE and --category")
        return _write(markdown(registry))
    entries = _selected(registry, args.types, args.category)
    if args.json:
        return _write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    lines: list[str] = []
    for index, entry in enumerate(entries):
        if index == 0 or entry["category"] != entries[index - 1]["category"]:
            lines += [""] if lines else []
            lines.append(entry["category"])
        lines += _text(entry, full=bool(args.types))
    return _write("\n".join(lines) + "\n")


def _write(text: str) -> int:
    """Print all of it; a reader that stops early (`nnstudio layers | head`) is no error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exiting does not fail again
    return 0


def _selected(registry: Registry, types: list[str], category: str | None) -> list[dict]:
    entries = catalogue(registry)
    if category is not None:
        categories = list(dict.fromkeys(e["category"] for e in entries))
        wanted = next((c for c in categories if c.lower() == category.lower()), None)
        if wanted is None:
            raise CliError(f"--category: no category {category!r}; the categories are {', '.join(categories)}")
        entries = [e for e in entries if e["category"] == wanted]
    if types:
        for name in types:
            if name not in registry:
                close = difflib.get_close_matches(name, [e["type"] for e in catalogue(registry)], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "; `nnstudio layers` lists them"
                raise CliError(f"no layer type {name!r}{hint}")
        wanted_types = {registry.canonical(name) for name in types}
        entries = [e for e in entries if e["type"] in wanted_types]
    return entries


def _ports(ports: list[dict]) -> str:
    marks = {"multi": " (several)", "optional": " (optional)"}
    return ", ".join(p["name"] + "".join(m for k, m in marks.items() if p.get(k)) for p in ports) or "none"


def _text(entry: dict, full: bool) -> list[str]:
    """A layer as a few indented lines; `full` adds the explanation and each param's doc."""
    lines = [f"  {entry['type']}: {entry['summary']}"]
    if full:
        lines += [f"    {entry['explanation']}"]
    lines.append(f"    ports: in {_ports(entry['inputs'])}; out {_ports(entry['outputs'])}")
    for param in entry["params"]:
        line = f"    {param['name']} ({param['kind']}) = {value_text(param['default'])}: {param['accepts']}"
        lines.append(line + (f". {param['doc']}" if full else ""))
    lines.append(f"    formula: {entry['formula']}")
    return lines
