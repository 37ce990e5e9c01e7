"""Gradient check: correct layers pass, a layer with a wrong backward is named, dropout is skipped."""

from __future__ import annotations

import torch
from torch import nn

from nnstudio.training.sanity import FAIL, PASS, run_checks
from nnstudio.training.sanity.gradcheck import check_module
from tests.training.sanity_helpers import FAST, context


class _WrongSquare(torch.autograd.Function):
    """x² whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class WrongSquare(nn.Module):
    def forward(self, x):
        return _WrongSquare.apply(x)


def _node_id(ctx, name: str) -> str:
    return next(node for node, node_name in ctx.names.items() if node_name == name)


def test_every_layer_of_a_correct_mlp_passes():
    [result] = run_checks(context(), FAST, ["gradcheck"])
    assert result.status == PASS, result.details
    assert result.figures["checked"] >= 3 and result.figures["failed"] == []


def test_a_layer_with_a_wrong_backward_is_named(monkeypatch):
    ctx = context()
    relu = next(name for name in ctx.names.values() if name.lower().startswith("relu"))
    [attribute] = ctx.job.compiled.modules_of[_node_id(ctx, relu)]
    monkeypatch.setattr(ctx.job.compiled.module, attribute, WrongSquare())
    [result] = run_checks(ctx, FAST, ["gradcheck"])
    assert result.status == FAIL
    assert result.figures["failed"] == [relu]
    assert any(line.startswith(f"FAIL  {relu}:") for line in result.details)
    assert "hand-written gradient" in result.advice


def test_dropout_is_skipped_and_said_so():
    [result] = run_checks(context(dropout=0.5), FAST, ["gradcheck"])
    assert result.status == PASS
    assert any("skipped: random behaviour" in line for line in result.details)


def test_integer_inputs_are_skipped():
    status, why = check_module(nn.Embedding(5, 3), (torch.tensor([[1, 2], [3, 4]]),))
    assert status == "skip" and "integer" in why
    assert check_module(nn.Linear(3, 2), (torch.randn(2, 3),)) == ("pass", "")


def test_a_layer_that_cannot_run_alone_is_skipped_not_fatal():
    from nnstudio.training.sanity.gradcheck import _checked

    class NeedsTwo(nn.Module):
        def forward(self, x):
            raise RuntimeError("needs its partner")

    status, why = _checked(NeedsTwo(), (torch.randn(2, 3),), 0)
    assert status == "skip" and "could not be run alone" in why and "needs its partner" in why
