"""Thread planning: one core is left to the GUI, and the module imports no torch by itself."""

from __future__ import annotations

import subprocess
import sys

import torch

from nnstudio.training.threads import configure_torch, plan_threads


def test_small_machines_train_on_one_thread_and_leave_the_rest_to_the_gui():
    assert plan_threads(cores=1).intra_op == 1
    assert plan_threads(cores=2).intra_op == 1
    assert plan_threads(cores=4).intra_op == 3
    assert plan_threads(cores=64).intra_op == 8
    assert plan_threads(cores=2, leave_for_gui=False).intra_op == 2
    assert plan_threads(cores=4).inter_op == 1


def test_configure_torch_applies_an_explicit_count():
    before = torch.get_num_threads()
    try:
        plan = configure_torch(threads=1)
        assert plan.intra_op == 1 and torch.get_num_threads() == 1
        assert "torch._dynamo" in sys.modules
    finally:
        torch.set_num_threads(before)


def test_importing_the_module_does_not_import_torch():
    code = ("import sys, nnstudio.training.threads as t; t.configure_environment(); "
            "import os; print('torch' in sys.modules, os.environ['OMP_WAIT_POLICY'])")
    env = {"PATH": "", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["False", "PASSIVE"], out.stderr
