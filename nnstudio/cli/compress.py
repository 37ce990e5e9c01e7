"""`nnstudio compress FILE --checkpoint DIR (--prune AMOUNT [--structured] [--finetune N] | --sweep |
--quantize int8 [--static]) --out DIR`: a smaller or faster model, and a report of what it cost.

Pruned weights are written as model.safetensors with the graph's own tensor names, so `nnstudio export FILE
--checkpoint DIR/model.safetensors` exports them in any format; quantised models as TorchScript
(model_int8.pt). Exit codes: 0 done; 2 bad input (a missing checkpoint, an AMOUNT outside (0, 1), nothing
prunable or quantisable), one line each.
"""

from __future__ import annotations

import argparse
import json

from nnstudio.cli.common import CliError, open_project, project_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    from nnstudio.training.compress.methods import METHODS, SWEEP_AMOUNTS

    listing = "; ".join(f"{m.title}: {m.summary}" for m in METHODS.values())
    parser = subparsers.add_parser(
        "compress",
        help="prune or quantise a trained model and report size, speed and score",
        description=f"Compress a trained model. {listing}",
    )
    parser.add_argument("file", help="a .nnstudio file, or example:NAME")
    parser.add_argument(
        "--checkpoint",
        "-c",
        required=True,
        metavar="DIR",
        help="a checkpoint folder, a run folder (its best checkpoint) or a weights file",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--prune", metavar="AMOUNT", help="prune this fraction of the weights (0 < AMOUNT < 1)")
    what.add_argument(
        "--sweep",
        action="store_true",
        help="prune at sparsities "
        + ", ".join(f"{a:g}" for a in SWEEP_AMOUNTS)
        + " and tabulate the score (report only)",
    )
    what.add_argument("--quantize", choices=("int8",), help="quantise to int8 (dynamic: Linear and LSTM)")
    parser.add_argument(
        "--structured",
        action="store_true",
        help="with --prune/--sweep: remove whole output neurons/channels (L2 norm) per layer",
    )
    parser.add_argument(
        "--finetune",
        type=int,
        default=0,
        metavar="EPOCHS",
        help="with --prune/--sweep: train this many epochs after pruning, masks kept",
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="with --quantize: static quantisation (convolutions too), calibrated on training data",
    )
    parser.add_argument(
        "--split",
        choices=("auto", "test", "val", "train"),
        default="auto",
        help="the split to score (auto: test, else validation)",
    )
    parser.add_argument("--repeats", type=int, default=None, metavar="N", help="latency runs per model")
    parser.add_argument("--out", "-o", required=True, metavar="DIR", help="the folder to write into")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run_compress)


def options_from(args: argparse.Namespace):
    """The CompressOptions the flags ask for; flags that do not go together are bad input."""
    from nnstudio.training.compress.methods import LATENCY_REPEATS, CompressOptions

    pruning = args.prune is not None or args.sweep
    if pruning and args.static:
        raise CliError("--static goes with --quantize, not with pruning")
    if not pruning and (args.structured or args.finetune):
        raise CliError("--structured and --finetune go with --prune or --sweep, not with --quantize")
    amount = 0.5
    if args.prune is not None:
        try:
            amount = float(args.prune)
        except ValueError:
            raise CliError(f"--prune {args.prune}: give a fraction strictly between 0 and 1") from None
    method = ("structured" if args.structured else "global") if pruning else ("static" if args.static else "dynamic")
    return CompressOptions(
        method=method,
        amount=amount,
        finetune=args.finetune,
        sweep=args.sweep,
        repeats=LATENCY_REPEATS if args.repeats is None else args.repeats,
        split=args.split,
    )


def run_compress(args: argparse.Namespace) -> int:
    from nnstudio.training.compress import CompressError, compress, load_trained

    options = options_from(args)
    try:
        options.check()  # before the data loads: a bad AMOUNT costs nothing
        job = load_trained(open_project(args.file), project_dir(args.file), args.checkpoint)
        report = compress(job, options, args.out)
    except CompressError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        from nnstudio.metrics import clean_json

        print(json.dumps(clean_json(report.to_json()), indent=2))
    else:
        print(report.text())
    return 0
