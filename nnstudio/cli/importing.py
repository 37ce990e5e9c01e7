"""`nnstudio import SOURCE --out FILE.nnstudio`: a PyTorch class, or a bundle, into an editable project.

SOURCE is `model.py:ClassName`, `package.module:ClassName` (this runs that code, and says so), or an
nnstudio bundle (.zip, read without running anything). The weights go beside the project as
FILE.safetensors, ready for `nnstudio export FILE.nnstudio --checkpoint FILE.safetensors`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.cli.common import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help="turn a PyTorch nn.Module class or an nnstudio bundle into a project",
        description="Import a model. For a Python class this RUNS its code: the file is imported and the class "
                    "instantiated without arguments, then traced with torch.fx. Layers the catalogue knows "
                    "become nodes with their weights; anything else is refused, naming the line.")
    parser.add_argument("source", help="model.py:ClassName, package.module:ClassName, or bundle.zip")
    parser.add_argument("--out", "-o", required=True, metavar="FILE.nnstudio",
                        help="the project to write; the weights go beside it as FILE.safetensors")
    parser.add_argument("--input-shape", action="append", default=None, metavar="SHAPE",
                        help="shape of one input sample without the batch, e.g. 1,28,28 or 16:int64 for token "
                             "ids; repeat for several inputs (a first Linear layer's size is used otherwise)")
    parser.add_argument("--name", help="the project's name (default: the class name)")
    parser.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix != ".nnstudio":
        raise CliError(f"--out {args.out}: the project file must end in .nnstudio")
    if not out.parent.is_dir():
        raise CliError(f"--out {args.out}: the folder {out.parent} does not exist")
    if is_bundle(args.source):
        return _import_bundle(args, out)
    return _import_class(args, out)


def is_bundle(source: str) -> bool:
    """A bundle is any .zip (or .ZIP) path; `file.py:Class` references name a class instead."""
    name = Path(source).name
    return ":" not in name and Path(name).suffix.lower() == ".zip"


def _import_class(args: argparse.Namespace, out: Path) -> int:
    from nnstudio.io.importing import ImportModelError, import_model, parse_input_shape, save_import
    from nnstudio.io.importing.source import RUNS_CODE_WARNING

    print(f"warning: {RUNS_CODE_WARNING}", file=sys.stderr)
    try:
        shapes = [parse_input_shape(text) for text in args.input_shape] if args.input_shape else None
        result = import_model(args.source, shapes, args.name)
    except ImportModelError as exc:
        raise CliError(str(exc)) from None
    project_path, weights_path = _write(lambda: save_import(result, out), out)
    for message in result.messages:
        print(message)
    print(f"wrote {project_path}\nwrote {weights_path}")
    return 0


def _import_bundle(args: argparse.Namespace, out: Path) -> int:
    from safetensors.torch import save_file

    from nnstudio.io.importing import BundleError, open_bundle
    from nnstudio.io.project_file import save
    from nnstudio.util.atomic import atomic_write

    try:
        bundle = open_bundle(args.source)
        bundle.compiled()  # refuses weights that do not fit the project
    except BundleError as exc:
        raise CliError(str(exc)) from None
    if args.name:
        bundle.project.metadata.name = args.name
    weights = out.with_suffix(".safetensors")

    def write() -> tuple[Path, Path]:
        atomic_write(weights, lambda temp: save_file(bundle.state, temp))
        save(bundle.project, out)
        return out, weights

    _write(write, out)
    trained = "trained" if bundle.manifest.get("trained") else "untrained"
    print(f"opened bundle {args.source} ({bundle.project.metadata.name}, {trained} weights, "
          f"nnstudio {bundle.manifest.get('nnstudio_version', '?')})")
    if bundle.history is not None:
        print("the bundle holds a metrics history (history.json); it is not copied into the project")
    print(f"wrote {out}\nwrote {weights}")
    return 0


def _write(write, out: Path):
    try:
        return write()
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
