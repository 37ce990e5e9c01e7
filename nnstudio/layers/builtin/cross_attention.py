"""Attention between two sequences: CrossAttention (separate query, key and value inputs) and the Transformer
decoder layer, each with an optional causal mask. attention.py lists them.

The causal mask is built in the compiled graph from the query's own tensor (`q.new_ones((T, S), dtype=bool)
.triu(1)`), so it lives on the model's device and every export format carries it as two ordinary ops. True
marks a pair that may not attend: step t sees steps 0..t of the keys only.
"""

from __future__ import annotations

from typing import Any

from nnstudio.layers.builtin.common import require_float, require_int, require_rank, trimmed
from nnstudio.layers.params import bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, PortSpec, ShapeError, TensorType

_SEQUENCE = "[N, steps, embed] (a float sequence, batch first)"


def _sequence(x: TensorType, port: str) -> TensorType:
    require_float(x, port)
    require_rank(x, (2,), _SEQUENCE, port)
    return x


def causal_mask(ctx, like: Any, rows: int, columns: int) -> Any:
    """[rows, columns] bool, True above the diagonal: query t may not attend to keys after t."""
    import torch  # only while compiling: the catalogue itself does not import torch

    ones = ctx.method("new_ones", like, (rows, columns), dtype=torch.bool)
    return ctx.method("triu", ones, 1)


def _below_one(params) -> list[tuple[str, str]]:
    return [("dropout", f"must be below 1, got {params['dropout']}")] if params["dropout"] >= 1.0 else []


def _infer_cross(params, inputs: Inputs) -> TensorType:
    query, key, value = (_sequence(inputs.one(p), p) for p in ("query", "key", "value"))
    if query.shape[1] % params["num_heads"]:
        raise ShapeError(f"needs num_heads={params['num_heads']} to divide the query's embedding size, but "
                         f"{query} has {query.shape[1]}", "query")
    if key.shape[0] != value.shape[0]:
        raise ShapeError(f"key {key} and value {value} must have the same number of steps", "value")
    if inputs.has("padding"):
        tokens = inputs.one("padding")
        require_int(tokens, "padding")
        if tokens.shape != key.shape[:1]:
            raise ShapeError(f"expects the token ids of the key's {key.shape[0]} steps, [N, {key.shape[0]}], got "
                             f"{tokens}", "padding")
    return query


def _build_cross(params, types: Inputs) -> Construct:
    embed = types.one("query").shape[1]
    kwargs: dict[str, Any] = {"embed_dim": embed, "num_heads": params["num_heads"], "dropout": params["dropout"],
                              "bias": params["bias"], "kdim": types.one("key").shape[1],
                              "vdim": types.one("value").shape[1]}
    kwargs = trimmed(kwargs, {"dropout": 0.0, "bias": True, "kdim": embed, "vdim": embed})
    kwargs["batch_first"] = True
    return Construct("torch.nn.MultiheadAttention", kwargs)


def _emit_cross(ctx, params, values: Inputs, types: Inputs):
    query, key, value = (values.one(p) for p in ("query", "key", "value"))
    kwargs: dict[str, Any] = {"need_weights": False}
    if values.has("padding"):  # True where the key is padding: those steps are not attended to
        kwargs["key_padding_mask"] = ctx.function("operator.eq", values.one("padding"), params["pad_id"])
    if params["causal"]:
        kwargs["attn_mask"] = causal_mask(ctx, query, types.one("query").shape[0], types.one("key").shape[0])
    result = ctx.module(_build_cross(params, types), query, key, value, **kwargs)
    return ctx.function("operator.getitem", result, 0)  # (output, weights) -> output


def _infer_dot_product(params, inputs: Inputs) -> TensorType:
    query, key, value = (inputs.one(p) for p in ("query", "key", "value"))
    for port, x in (("query", query), ("key", key), ("value", value)):
        require_float(x, port)
        require_rank(x, (2, 3), "[N, steps, embed] or [N, heads, steps, embed]", port)
    if not query.shape[:-2] == key.shape[:-2] == value.shape[:-2]:
        raise ShapeError(f"query {query}, key {key} and value {value} must agree in the dims before the last two "
                         "(heads, say); broadcasting has no node", "key")
    if key.shape[-1] != query.shape[-1]:
        raise ShapeError(f"key {key} must have the query's embedding size {query.shape[-1]}", "key")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"key {key} and value {value} must have the same number of steps", "value")
    return TensorType((*query.shape[:-1], value.shape[-1]))


def _emit_dot_product(ctx, params, values: Inputs, types: Inputs):
    """[N, T, d] inputs get a heads dim of 1 for the call and lose it after: ONNX export takes 4-D only."""
    kwargs = {"is_causal": True} if params["causal"] else {}
    tensors = [values.one(p) for p in ("query", "key", "value")]
    single = len(types.one("query").shape) == 2
    if single:
        tensors = [ctx.method("unsqueeze", t, 1) for t in tensors]
    result = ctx.function("torch.nn.functional.scaled_dot_product_attention", *tensors, **kwargs)
    return ctx.method("squeeze", result, 1) if single else result


def _infer_decoder(params, inputs: Inputs) -> TensorType:
    x, memory = _sequence(inputs.one("in"), "in"), _sequence(inputs.one("memory"), "memory")
    if x.shape[1] % params["nhead"]:
        raise ShapeError(f"needs nhead={params['nhead']} to divide the model width, but {x} has {x.shape[1]}",
                         "in")
    if memory.shape[1] != x.shape[1]:
        raise ShapeError(f"the memory {memory} must have the width of the sequence {x} ({x.shape[1]})", "memory")
    return x


def _build_decoder(params, types: Inputs) -> Construct:
    kwargs = {"d_model": types.one("in").shape[1], **{k: v for k, v in params.items() if k != "causal"}}
    kwargs = trimmed(kwargs, {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "norm_first": False})
    kwargs["batch_first"] = True
    return Construct("torch.nn.TransformerDecoderLayer", kwargs)


def _emit_decoder(ctx, params, values: Inputs, types: Inputs):
    x, memory = values.one("in"), values.one("memory")
    kwargs: dict[str, Any] = {}
    if params["causal"]:
        steps = types.one("in").shape[0]
        kwargs = {"tgt_mask": causal_mask(ctx, x, steps, steps), "tgt_is_causal": True}
    return ctx.module(_build_decoder(params, types), x, memory, **kwargs)


CAUSAL = bool_param("causal", False, "Let step t attend only to steps 0..t (for generating a sequence step "
                     "by step, as a language model or a decoder does).")

CROSS_SPECS = [
    LayerSpec(
        type="ScaledDotProductAttention",
        category="Attention",
        title="Scaled dot-product attention",
        summary="Attention without weights: softmax(Q·Kᵀ/√d)·V of three given tensors.",
        explanation=(
            "The core of attention on its own, with no projections to learn: each query step averages the "
            "values, weighted by how well it matches each key. Build multi-head attention by hand with it "
            "(Linear projections, a Reshape and Permute to [heads, steps, d] before, and back after), or use it "
            "where a model calls F.scaled_dot_product_attention. Inputs are [T, d] or [heads, T, d], with the "
            "same heads."
        ),
        formula="y = softmax(Q·Kᵀ / √d + M)·V,  d = the embedding size of Q,  M[t, s] = −∞ where causal and s > t",
        infer=_infer_dot_product,
        emit=_emit_dot_product,
        params=(CAUSAL,),
        inputs=(PortSpec("query", "[…, Tq, d]"), PortSpec("key", "[…, Tk, d]"), PortSpec("value", "[…, Tk, dv]")),
        glyph="◈",
        key_params=("causal",),
    ),
    LayerSpec(
        type="CrossAttention",
        category="Attention",
        title="Cross-attention",
        summary="Each query step gathers information from another sequence's keys and values.",
        explanation=(
            "Multi-head attention with its three inputs apart: queries from one sequence, keys and values from "
            "another (the encoder's output, an image's patches, a memory). The output has the query's steps and "
            "width; key and value have the same steps but may have widths of their own. Wire one sequence into "
            "all three for self-attention, and set causal for the masked self-attention of a decoder. Wire the keys' "
            "token ids to the optional padding port to ignore padded steps (a sample of padding only gives NaN)."
        ),
        formula="Attention(Q, K, V) = softmax(Q·Kᵀ / √d_head + M)·V,  M[t, s] = −∞ where causal and s > t",
        infer=_infer_cross,
        build=_build_cross,
        emit=_emit_cross,
        params=(
            int_param("num_heads", 4, "Parallel attention heads; must divide the query's embedding size.",
                      minimum=1),
            float_param("dropout", 0.0, "Dropout on the attention weights while training.", minimum=0.0,
                        maximum=1.0),
            bool_param("bias", True, "Learn biases in the input and output projections."),
            CAUSAL,
            int_param("pad_id", 0, "With token ids on the padding port: the id that marks padding."),
        ),
        inputs=(PortSpec("query", "The sequence that asks: [Tq, E]; the output has its shape."),
                PortSpec("key", "The sequence attended to: [Tk, Ek]."),
                PortSpec("value", "What is read from it: [Tk, Ev], often the key itself."),
                PortSpec("padding", "The key's token ids [Tk] (int64); steps whose id is pad_id are not "
                         "attended to.", optional=True)),
        glyph="◈",
        key_params=("num_heads", "causal"),
        has_weights=True,
        check=_below_one,
    ),
    LayerSpec(
        type="TransformerDecoderLayer",
        category="Attention",
        title="Transformer decoder layer",
        summary="Self-attention, cross-attention to a memory, and a feed-forward block, each with a residual.",
        explanation=(
            "The building block of the decoder in encoder-decoder Transformers (translation, captioning). The "
            "sequence first attends to itself (causal: only to earlier steps), then to the memory, the "
            "encoder's output, then passes a two-layer MLP; each sub-block adds its result to its input and is "
            "normalised. The memory must have the sequence's width; nhead must divide it."
        ),
        formula="h = LN(x + SelfAttn(x)),  h' = LN(h + Attn(h, memory)),  y = LN(h' + W₂·act(W₁·h'))",
        infer=_infer_decoder,
        build=_build_decoder,
        emit=_emit_decoder,
        params=(
            int_param("nhead", 4, "Attention heads; must divide the model width.", minimum=1),
            int_param("dim_feedforward", 256, "Hidden width of the feed-forward block.", minimum=1),
            float_param("dropout", 0.1, "Dropout after each attention and inside the feed-forward block.",
                        minimum=0.0, maximum=1.0),
            choice_param("activation", "relu", ("relu", "gelu"), "Activation of the feed-forward block."),
            bool_param("norm_first", False, "Normalise before each sub-block (pre-LN): steadier for deep stacks."),
            CAUSAL,
        ),
        inputs=(PortSpec("in", "The sequence being decoded: [T, E]."),
                PortSpec("memory", "The encoder's output it attends to: [S, E].")),
        glyph="⋈",
        key_params=("nhead", "causal"),
        has_weights=True,
        check=_below_one,
    ),
]
