"""`nnstudio predict`: one sample through a trained model, with every layer's output on request.

Exit codes: 0 done; 2 bad input (file, checkpoint, a sample of the wrong size, an index out of range), one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nnstudio.cli.bars import bar_lines
from nnstudio.cli.common import CliError, open_project, positive_int, project_dir

TOP_K = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="run one sample through a trained model")
    add_sample_arguments(parser)
    parser.add_argument("--top", type=positive_int, default=TOP_K, help=f"classes to list (default {TOP_K})")
    parser.add_argument(
        "--layers",
        action="store_true",
        help="also summarise every layer's output for this sample (shape, mean, std, min, max)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (with --layers: the full values of small layer outputs)",
    )
    parser.set_defaults(func=run_predict)


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    """The project, checkpoint and sample arguments that predict and explain share."""
    parser.add_argument("file", help="a .nnstudio file, or example:NAME")
    parser.add_argument("--checkpoint", required=True, help="a checkpoint folder or weights file")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input",
        metavar="VALUES|FILE",
        help="comma-separated numbers (tabular inputs, in the order of the dataset's columns) or "
        "token ids; or an .npy file or an image file. Values that start with a minus sign need '=': "
        "--input=-1.5,2",
    )
    source.add_argument("--sample", type=int, metavar="I", help="sample I of a split (default: sample 0)")
    source.add_argument("--text", metavar="TEXT", help="typed text, for a project whose input is a CSV text column; "
                        "tokenised with the vocabulary saved in the checkpoint")
    parser.add_argument(
        "--split",
        choices=("test", "val", "train"),
        default=None,
        help="the split --sample picks from (default: test, else val, else train)",
    )


def trained_job(args: argparse.Namespace):
    """The project prepared for running, with the checkpoint's weights loaded (on the CPU)."""
    from nnstudio.compile.weights import WeightsError, load_weights
    from nnstudio.training import TrainingInputError, prepare

    project = open_project(args.file)
    try:
        job = prepare(project, project_dir(args.file))
    except TrainingInputError as exc:
        raise CliError(str(exc)) from None
    if not Path(args.checkpoint).exists():
        raise CliError(f"{args.checkpoint}: no such checkpoint")
    try:
        load_weights(job.compiled.network, args.checkpoint, strict=True)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    job.compiled.network.cpu()
    _checkpoint_vocabulary(job, Path(args.checkpoint))
    return job


def _checkpoint_vocabulary(job, checkpoint: Path) -> None:
    """Encode text with the vocabulary the weights were trained with (saved beside them) rather than the one the
    dataset builds today, saying so when the two differ."""
    from nnstudio.training.data import DatasetError
    from nnstudio.training.data.text import read_vocabulary

    if getattr(job.data, "vocabulary", None) is None:
        return
    try:
        saved = read_vocabulary(checkpoint if checkpoint.is_dir() else checkpoint.parent)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if saved is not None and saved != job.data.vocabulary:
        print(f"warning: {checkpoint}: the saved vocabulary differs from the one the dataset builds now; typed "
              "text is encoded with the saved one", file=sys.stderr)
    if saved is not None:
        job.data.vocabulary = saved


def chosen_sample(args: argparse.Namespace, job):
    """The sample the arguments name, as a batch of one: --input VALUES or FILE, else --sample of a split."""
    from nnstudio.training.evaluation import choose_split
    from nnstudio.training.inference import InferenceError, encode_text, parse_values, read_input_file, split_sample

    try:
        if getattr(args, "text", None) is not None:
            return encode_text(args.text, job)
        if args.input is not None:
            text = args.input
            looks_like_file = Path(text).suffix and not _numbers(text)
            return read_input_file(text, job) if looks_like_file else parse_values(text, job)
        split = args.split or choose_split(job)
        return split_sample(job, 0 if args.sample is None else args.sample, split)
    except (InferenceError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _numbers(text: str) -> bool:
    try:
        [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        return False
    return True


def run_predict(args: argparse.Namespace) -> int:
    from nnstudio.metrics import clean_json
    from nnstudio.training.inference import predict

    job = trained_job(args)
    prediction = predict(job, chosen_sample(args, job), layers=args.layers)
    if args.json:
        print(json.dumps(clean_json(prediction.to_json(args.top)), indent=2))
        return 0
    for line in prediction_lines(prediction, args.top):
        print(line, file=sys.stdout)
    return 0


def prediction_lines(prediction, top: int) -> list[str]:
    """The outputs as text: top-k classes with bars, or the raw values; then the layers when recorded."""
    if prediction.classes:
        shown = prediction.classes[:top]
        lines = [f"predicted: {prediction.predicted}  (top {len(shown)} of {len(prediction.classes)})"]
        lines += bar_lines(shown)
    else:
        values = ", ".join(f"{v:.6g}" for v in prediction.output[:20])
        more = f" … ({len(prediction.output)} values)" if len(prediction.output) > 20 else ""
        lines = [f"output: {values}{more}"]
    if prediction.nodes:
        lines.append("layers (this sample):")
        width = max(len(node.name) for node in prediction.nodes)
        for node in prediction.nodes:
            shape = "x".join(str(d) for d in node.shape) or "scalar"
            lines.append(
                f"  {node.name:<{width}}  {node.type:<14} {shape:<12} mean {node.mean:<10.4g} "
                f"std {node.std:<10.4g} min {node.min:<10.4g} max {node.max:.4g}"
            )
    return lines
