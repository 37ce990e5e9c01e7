"""Issue 15: a Transformer layer's FLOPs include attention's two matmuls, QKᵀ and A·V, checked against a
hand count of every matmul in the layer."""

import pytest

from nnstudio.compile import build_module, summarize
from nnstudio.model.builder import GraphBuilder

L, D, H, F = 12, 16, 4, 40  # steps, width, heads, feed-forward width


def _flops(layer: str, **params) -> int:
    b = GraphBuilder(name="attention")
    b.chain(b.add("Input", "x", shape=[L, D]), b.add(layer, "attn", **params), b.add("Output", "y"))
    compiled = build_module(b.project)
    (row,) = [r for r in summarize(compiled, b.project.graph).rows if r.name == "attn"]
    return row.flops


def matmul(rows: int, inner: int, cols: int) -> int:
    """A (rows × inner) by (inner × cols) product: one multiply and one add per term."""
    return 2 * rows * inner * cols


# QKᵀ: for each head, (L × d) by (d × L); A·V: (L × L) by (L × d). Summed over H heads of d = D / H, each is
# 2·L²·D per sample (2·N·L²·D for a batch of N).
ATTENTION = H * (matmul(L, D // H, L) + matmul(L, L, D // H))
PROJECTIONS = matmul(L, D, 3 * D) + matmul(L, D, D)  # Q, K, V in one, then the output projection


def test_the_attention_matmuls_are_2_l2_d_each():
    assert ATTENTION == 2 * (2 * L * L * D)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_counts_qk_and_av(norm_first):
    feed_forward = matmul(L, D, F) + matmul(L, F, D)
    expected = PROJECTIONS + ATTENTION + feed_forward
    assert _flops("TransformerEncoderLayer", nhead=H, dim_feedforward=F, dropout=0.0, norm_first=norm_first) == expected


def test_multihead_attention_counts_the_same_matmuls():
    assert _flops("MultiheadAttention", num_heads=H) == PROJECTIONS + ATTENTION
