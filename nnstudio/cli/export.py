"""`nnstudio export FILE --format F --out PATH [--checkpoint CKPT]`: models out, checked for parity."""

from __future__ import annotations

import argparse
from pathlib import Path

from nnstudio.cli.common import CliError, open_project
from nnstudio.io.export.formats import FORMATS, LIMIT


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = "; ".join(f"{f.name} ({f.extension or 'folder'}{', needs nnstudio[' + f.extra + ']' if f.extra else ''})"
                        for f in FORMATS.values())
    parser = subparsers.add_parser(
        "export", help="export a model (TorchScript, torch.export, ONNX, safetensors, Python, bundle)",
        description="Export the model of a project. Every export is loaded back and run on a held-out batch; "
                    "it is refused (and nothing is written) unless every output matches the app's model within "
                    f"{LIMIT} (the magnitude being the output's largest |value|). "
                    f"Formats: {listing}.")
    parser.add_argument("file", help="a .nnstudio file, or example:NAME")
    parser.add_argument("--format", "-f", required=True, metavar="F", help=f"one of: {', '.join(FORMATS)}")
    parser.add_argument("--out", "-o", required=True, metavar="PATH",
                        help="the file to write (a folder for --format python)")
    parser.add_argument("--checkpoint", "-c", metavar="CKPT",
                        help="a training checkpoint folder or a .safetensors/.pt weights file; without it the "
                             "freshly initialised (untrained) weights are exported")
    parser.add_argument("--batch", type=int, default=None, metavar="N",
                        help="size of the held-out batch for the parity check (default 5)")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from nnstudio.io.export import ExportError, export_model

    project = open_project(args.file)
    base_dir = None if args.file.startswith("example:") else Path(args.file).resolve().parent
    try:
        result = export_model(project, args.format, args.out, checkpoint=args.checkpoint, batch=args.batch,
                              base_dir=base_dir)
    except ExportError as exc:
        raise CliError(str(exc), exit_code=2 if exc.bad_input else 1) from None
    for message in result.messages:
        print(message)
    for path in result.paths:
        print(f"wrote {path}")
    return 0
