"""Run code in a fresh Python where nnstudio cannot be imported: only torch & co from site-packages.

`-I -S` skips site processing, so the editable install's path hook (a .pth file) is not loaded, and
the current folder is not on sys.path; the site-packages folders are added back by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SITE_DIRS = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]

PRELUDE = f"""
import sys
sys.path.extend({SITE_DIRS!r})
try:
    import nnstudio
except ImportError:
    pass
else:
    raise SystemExit("nnstudio is importable in the fresh process: the test would prove nothing")
"""


def run_without_nnstudio(script: str, cwd: Path, args: list[str] | None = None,
                         timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["OMP_NUM_THREADS"] = "1"
    code = PRELUDE + textwrap.dedent(script)
    return subprocess.run([sys.executable, "-I", "-S", "-c", code, *(args or [])], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def json_result(done: subprocess.CompletedProcess) -> Any:
    """The JSON the script printed last; fails with the script's stderr otherwise."""
    assert done.returncode == 0, f"fresh process failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# Loads every artefact of an export folder and prints the largest |difference| per format.
CHECK_ARTEFACTS = """
import json
from pathlib import Path

import torch

inputs = torch.load("inputs.pt", weights_only=True)
expected = torch.load("expected.pt", weights_only=True)


def flat(result):
    return [result] if isinstance(result, torch.Tensor) else [t for r in result for t in flat(r)]


def gap(outputs):
    outputs = [torch.as_tensor(o) for o in outputs]
    assert len(outputs) == len(expected), (len(outputs), len(expected))
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape, (got.shape, want.shape)
    return max(float((got - want).abs().max()) for got, want in zip(outputs, expected))


results = {}
here = Path(".")
if (here / "model.pt").exists():
    results["torchscript"] = gap(flat(torch.jit.load("model.pt")(*inputs)))
if (here / "model.pt2").exists():
    results["exported-program"] = gap(flat(torch.export.load("model.pt2").module()(*inputs)))
if (here / "model.onnx").exists():
    import onnxruntime

    session = onnxruntime.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)}
    results["onnx"] = gap(session.run(None, feed))
if (here / "python").exists():
    import sys
    sys.path.insert(0, "python")
    import model

    with torch.no_grad():
        results["python"] = gap(flat(model.load_model()(*inputs)))
    if (here / "model.safetensors").exists():
        from safetensors.torch import load_file

        net = model.Model()
        net.load_state_dict(load_file("model.safetensors"))
        with torch.no_grad():
            results["safetensors"] = gap(flat(net.eval()(*inputs)))
        sidecar = json.loads(Path("model.json").read_text())
        assert sidecar["architecture"]["format"] == "nnstudio.project", sidecar.keys()
print(json.dumps(results))
"""
