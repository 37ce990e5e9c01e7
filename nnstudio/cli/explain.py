"""`nnstudio explain`: which input values a trained model's output for one sample depends on, through Captum.

Exit codes: 0 done; 2 bad input (a method that does not apply, a target or sample out of range, Captum missing),
one line naming it.
"""

from __future__ import annotations

import argparse
import json

from nnstudio.cli.bars import bar_lines
from nnstudio.cli.common import CliError, positive_int
from nnstudio.cli.predict import add_sample_arguments, chosen_sample, trained_job
from nnstudio.training.explain.methods import CAPTUM_HINT, METHODS, captum_available

SHOWN_FEATURES = 20  # bars printed for a vector input; --json and --out carry them all


def register(subparsers: argparse._SubParsersAction) -> None:
    methods = "; ".join(f"{m.name}: {m.title}" for m in METHODS.values())
    parser = subparsers.add_parser(
        "explain", help=f"attribute a trained model's output for one sample to its inputs (Captum): {methods}"
    )
    add_sample_arguments(parser)
    parser.add_argument(
        "--method", required=True, choices=list(METHODS), metavar="M", help=f"one of {', '.join(METHODS)}"
    )
    parser.add_argument(
        "--target", metavar="CLASS", help="the class (index or name) to explain (default: the predicted class)"
    )
    parser.add_argument("--layer", metavar="NODE", help="grad-cam: the convolution node (default: the last one)")
    parser.add_argument("--steps", type=positive_int, help="integrated-gradients: steps along the path (32)")
    parser.add_argument("--samples", type=positive_int, help="kernel-shap, lime: perturbed samples (200)")
    parser.add_argument("--noise", type=float, help="smoothgrad: noise as a fraction of the input's range (0.15)")
    parser.add_argument(
        "--smooth", choices=("saliency", "integrated-gradients"), help="smoothgrad: the method it averages (saliency)"
    )
    parser.add_argument(
        "--window",
        type=positive_int,
        help="occlusion, kernel-shap, lime: patch side for images (about 1/8 of the image)",
    )
    parser.add_argument("--out", metavar="PNG|JSON", help="write a heatmap .png (image inputs) or a .json file")
    parser.add_argument("--json", action="store_true", help="print the attributions as JSON")
    parser.set_defaults(func=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from nnstudio.metrics import clean_json
    from nnstudio.training.explain import ExplainError, explain
    from nnstudio.training.explain.render import write_result

    if not captum_available():
        raise CliError(CAPTUM_HINT)
    if args.out and not args.out.lower().endswith((".png", ".json")):
        raise CliError(f"--out: {args.out}: expected a .png (heatmap) or a .json file")
    job = trained_job(args)
    sample = chosen_sample(args, job)
    options = {
        "layer": args.layer,
        "steps": args.steps,
        "samples": args.samples,
        "noise": args.noise,
        "smooth": args.smooth,
        "window": args.window,
    }
    try:
        attribution = explain(job, sample, args.method, args.target, **options)
        written = write_result(attribution, args.out) if args.out else None
    except (ExplainError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(clean_json(attribution.to_json()), indent=2))
        return 0
    for line in attribution_lines(attribution):
        print(line)
    if written is not None:
        print(f"written: {written}")
    return 0


def attribution_lines(attribution) -> list[str]:
    """A heading, then bars over features for a vector input, or where an image's attribution is strongest."""
    title = METHODS[attribution.method].title
    target = attribution.target_name or attribution.target
    lines = [f"{title} for output {target}" + (f" at layer {attribution.layer}" if attribution.layer else "")]
    if attribution.values.ndim == 1:
        rows = sorted(attribution.features(), key=lambda row: -abs(row[1]))
        lines += bar_lines(rows[:SHOWN_FEATURES], signed=True)
        if len(rows) > SHOWN_FEATURES:
            lines.append(f"  … {len(rows) - SHOWN_FEATURES} more (--json lists them all)")
        return lines
    values = attribution.values
    total = float(abs(values).sum()) or 1.0
    flat = abs(values).reshape(values.shape[0], -1).sum(axis=0) if values.ndim > 1 else abs(values)
    where = divmod(int(flat.argmax()), values.shape[-1]) if values.ndim == 3 else (int(flat.argmax()),)
    lines.append(
        f"  shape {list(values.shape)}, total |attribution| {total:.4g}, strongest at "
        f"{list(where)}; --out FILE.png draws the map"
    )
    return lines
