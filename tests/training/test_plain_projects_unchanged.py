"""Projects without loss nodes train exactly as before the graph could declare its own objective.

tests/data/weights_before_objective.json holds SHA-256 digests of the final weights of shipped examples,
trained for 2 epochs on one thread by the release before loss nodes (commit 28f9b96) with the function below.
Float results depend on the torch build and the CPU's vector unit, so the comparison runs where both match
the recording (CI's machine) and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from nnstudio.examples import example_path
from nnstudio.io.project_file import load
from nnstudio.training.engine import Trainer
from nnstudio.training.job import prepare, with_overrides

RECORDED = json.loads((Path(__file__).parents[1] / "data" / "weights_before_objective.json").read_text())
EXAMPLES = ("spirals", "digits_cnn", "autoencoder", "residual_cnn")


def weights_digest(name: str) -> str:
    project = load(example_path(name))
    project.training = with_overrides(project.training, epochs=2)
    job = prepare(project)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert Trainer(job).run().ok
    finally:
        torch.set_num_threads(threads)
    digest = hashlib.sha256()
    for key, value in sorted(job.compiled.module.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_weights_are_bitwise_those_of_the_release_before_loss_nodes(name: str) -> None:
    here = (torch.__version__, torch.backends.cpu.get_cpu_capability())
    if here != (RECORDED["torch"], RECORDED["cpu_capability"]):
        pytest.skip(f"recorded with torch {RECORDED['torch']} on {RECORDED['cpu_capability']}; this is {here}")
    assert weights_digest(name) == RECORDED["sha256"][name]
