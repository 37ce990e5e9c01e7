"""Make a trained model smaller or faster: magnitude pruning and int8 quantisation, each with a report.

    job = load_trained(project, base_dir, "runs/1/checkpoints/best")
    report = compress(job, CompressOptions(method="global", amount=0.5), out_dir)

`METHODS` (methods.py) declares every method once; the CLI, the Runs tab's dialog and the docs read it.
Qt-free, so the dialog runs it on a worker thread and the CLI in-process. Names are imported lazily, so that
reading METHODS for a parser or a menu does not import torch.
"""

from __future__ import annotations

from nnstudio.util.lazy import lazy_exports

_EXPORTS = {
    "METHODS": ".methods",
    "SWEEP_AMOUNTS": ".methods",
    "CompressError": ".methods",
    "CompressOptions": ".methods",
    "Method": ".methods",
    "CompressionReport": ".report",
    "ReportRow": ".report",
    "compress": ".run",
    "load_trained": ".run",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports("nnstudio.training.compress", _EXPORTS)
