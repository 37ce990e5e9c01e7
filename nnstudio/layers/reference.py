"""The layer reference, read off the LayerSpecs: one JSON-ready entry per type, and docs/layers.md.

`nnstudio layers` prints it, and the docs page is this module's `markdown()` of the built-in catalogue, checked
in and compared with a fresh rendering by the test suite, so the documentation of a param, a port or a formula
cannot differ from what the app, the file loader and the compiler use. Like the rest of the catalogue this
imports neither torch nor Qt.
"""

from __future__ import annotations

import json
from typing import Any

from nnstudio.layers.params import ParamSpec
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import LayerSpec, PortSpec

REGENERATE = "nnstudio layers --markdown --builtin > docs/layers.md"


def param_entry(param: ParamSpec) -> dict[str, Any]:
    return {
        "name": param.name,
        "kind": param.kind.value,
        "default": param.default,
        "accepts": param.describe(),
        "minimum": param.minimum,
        "maximum": param.maximum,
        "choices": list(param.choices),
        "optional": param.optional,
        "doc": param.doc,
    }


def port_entry(port: PortSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": port.name, "doc": port.doc}
    if port.multi:
        entry.update(multi=True, min_count=port.min_count)
    if port.optional:
        entry["optional"] = True
    return entry


def layer_entry(spec: LayerSpec) -> dict[str, Any]:
    """Everything a user needs to place the layer, as plain JSON values."""
    return {
        "type": spec.type,
        "title": spec.title,
        "category": spec.category,
        "role": spec.role,
        "summary": spec.summary,
        "explanation": spec.explanation,
        "formula": spec.formula,
        "params": [param_entry(p) for p in spec.params],
        "inputs": [port_entry(p) for p in spec.inputs],
        "outputs": [port_entry(p) for p in spec.outputs],
        "has_weights": spec.has_weights,
        "version": spec.version,
        "legacy_types": list(spec.legacy_types),
    }


def catalogue(registry: Registry) -> list[dict[str, Any]]:
    """Every layer, grouped by category in palette order."""
    return [layer_entry(spec) for _, specs in registry.by_category() for spec in specs]


def value_text(value: Any) -> str:
    """A param value as a project file spells it (JSON): null, true, [3, 3]."""
    return json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(spec: LayerSpec) -> str:
    """The id GitHub gives the `### TYPE` heading: type names are letters and digits only."""
    return spec.type.lower()


def _ports(ports: tuple[PortSpec, ...]) -> str:
    if not ports:
        return "none"
    parts = []
    for port in ports:
        many = f" (several, at least {port.min_count})" if port.multi else " (optional)" if port.optional else ""
        parts.append(f"`{port.name}`{many}" + (f": {port.doc}" if port.doc else ""))
    return "; ".join(parts)


def _section(spec: LayerSpec) -> list[str]:
    lead = f"*{spec.summary}*" if spec.title == spec.type else f"**{spec.title}**: *{spec.summary}*"
    lines = [f"### {spec.type}", "", lead, "", spec.explanation, "", "```text", spec.formula, "```", "",
             f"- Inputs: {_ports(spec.inputs)}", f"- Outputs: {_ports(spec.outputs)}"]
    if spec.has_weights:
        lines.append("- Has weights (the weight init applies).")
    if spec.legacy_types:
        lines.append(f"- Older files may call it {', '.join(f'`{t}`' for t in spec.legacy_types)}.")
    lines.append("")
    if spec.params:
        lines += ["| Param | Kind | Default | Accepts | What it does |", "|---|---|---|---|---|"]
        lines += [f"| `{p.name}` | {p.kind.value} | `{_cell(value_text(p.default))}` | {_cell(p.describe())} | "
                  f"{_cell(p.doc)} |" for p in spec.params]
    else:
        lines.append("No params.")
    lines.append("")
    return lines


def markdown(registry: Registry) -> str:
    """docs/layers.md: contents by category, then one section per layer."""
    groups = registry.by_category()
    lines = [
        "# Layer reference",
        "",
        "<!-- Generated from the layer declarations (nnstudio/layers/builtin); do not edit by hand. -->",
        f"Generated from the layer declarations with `{REGENERATE}`; a test regenerates it and fails when "
        "this file differs. `nnstudio layers TYPE` shows one layer, `nnstudio layers --json` all of them as data.",
        "",
        f"{len(registry)} layer types in {len(groups)} categories. Shapes are written without the batch "
        "dimension (`[N, …]` where it matters), and dims count from the first dim after the batch.",
        "",
        "## Contents",
        "",
    ]
    for category, specs in groups:
        links = ", ".join(f"[{spec.type}](#{_anchor(spec)})" for spec in specs)
        lines.append(f"- **{category}**: {links}")
    lines.append("")
    for category, specs in groups:
        lines += [f"## {category}", ""]
        for spec in specs:
            lines += _section(spec)
    return "\n".join(lines).rstrip() + "\n"
