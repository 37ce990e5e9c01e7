"""Attention layers over [T, E] sequences (batch first): self-attention, Transformer encoder, positions; and,
from cross_attention, attention between two sequences and the Transformer decoder."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float, require_rank, trimmed
from nnstudio.layers.builtin.cross_attention import CAUSAL, CROSS_SPECS, causal_mask
from nnstudio.layers.params import bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

_SEQUENCE = "[N, steps, embed] (a float sequence, batch first)"


def _sequence(params, inputs: Inputs, heads: str | None = None) -> TensorType:
    x = inputs.one()
    require_float(x)
    require_rank(x, (2,), _SEQUENCE)
    if heads is not None and x.shape[1] % params[heads]:
        raise ShapeError(f"needs {heads}={params[heads]} to divide the embedding size, but {x} has "
                         f"{x.shape[1]}", "in")
    return x


def _infer_attention(params, inputs: Inputs) -> TensorType:
    return _sequence(params, inputs, "num_heads")


def _infer_encoder(params, inputs: Inputs) -> TensorType:
    return _sequence(params, inputs, "nhead")


def _below_one(*names: str):
    def check(params) -> list[tuple[str, str]]:
        return [(name, f"must be below 1, got {params[name]}") for name in names if params[name] >= 1.0]

    return check


def _build_attention(params, types: Inputs) -> Construct:
    kwargs = {"embed_dim": types.one().shape[1], "num_heads": params["num_heads"], "dropout": params["dropout"],
              "bias": params["bias"]}
    kwargs = trimmed(kwargs, {"dropout": 0.0, "bias": True})
    kwargs["batch_first"] = True
    return Construct("torch.nn.MultiheadAttention", kwargs)


def _emit_attention(ctx, params, values: Inputs, types: Inputs):
    x = values.one()
    result = ctx.module(_build_attention(params, types), x, x, x, need_weights=False)
    return ctx.function("operator.getitem", result, 0)  # (output, weights) -> output


def _build_encoder(params, types: Inputs) -> Construct:
    kwargs = {"d_model": types.one().shape[1], **{k: v for k, v in params.items() if k != "causal"}}
    kwargs = trimmed(kwargs, {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu",
                              "norm_first": False})
    kwargs["batch_first"] = True
    return Construct("torch.nn.TransformerEncoderLayer", kwargs)


def _emit_encoder(ctx, params, values: Inputs, types: Inputs):
    x = values.one()
    if not params["causal"]:
        return ctx.module(_build_encoder(params, types), x)
    steps = types.one().shape[0]
    return ctx.module(_build_encoder(params, types), x, src_mask=causal_mask(ctx, x, steps, steps), is_causal=True)


def _infer_positional(params, inputs: Inputs) -> TensorType:
    x = _sequence(params, inputs)
    if x.shape[0] > params["max_len"]:
        raise ShapeError(f"has {x.shape[0]} steps, more than max_len={params['max_len']}; raise max_len", "in")
    return x


def _build_positional(params, types: Inputs) -> Construct:
    target = {"sinusoidal": "SinusoidalPositionalEncoding", "learned": "LearnedPositionalEncoding"}[params["kind"]]
    kwargs = trimmed({"d_model": types.one().shape[1], "max_len": params["max_len"],
                      "dropout": params["dropout"]}, {"dropout": 0.0})
    return Construct(f"nnstudio.layers.modules.{target}", kwargs)


_DROPOUT = float_param("dropout", 0.0, "Dropout on the attention weights while training.", minimum=0.0,
                       maximum=1.0)

SPECS = [
    LayerSpec(
        type="MultiheadAttention",
        category="Attention",
        title="Multi-head self-attention",
        summary="Every step gathers information from every other step, weighted by learned relevance.",
        explanation=(
            "Projects each step to a query, a key and a value; a step's output is the average of all values "
            "weighted by how well its query matches each key. Several heads do this in parallel on slices "
            "of the embedding, so num_heads must divide it. Used here as self-attention on one sequence."
        ),
        formula="Attention(Q, K, V) = softmax(Q·Kᵀ / √d_head)·V,  heads concatenated then projected",
        infer=_infer_attention,
        build=_build_attention,
        emit=_emit_attention,
        params=(
            int_param("num_heads", 4, "Parallel attention heads; must divide the embedding size.", minimum=1),
            _DROPOUT,
            bool_param("bias", True, "Learn biases in the input and output projections."),
        ),
        glyph="◈",
        key_params=("num_heads",),
        has_weights=True,
        check=_below_one("dropout"),
    ),
    LayerSpec(
        type="TransformerEncoderLayer",
        category="Attention",
        title="Transformer encoder layer",
        summary="Self-attention plus a feed-forward block, each with a residual and LayerNorm.",
        explanation=(
            "The building block of encoder Transformers such as BERT. Self-attention lets steps exchange "
            "information, then a two-layer MLP transforms each step on its own; both sub-blocks add their "
            "result to their input and are normalised. Stack several for depth. The model width is read "
            "from the input; nhead must divide it. Order carries no meaning to it: add a PositionalEncoding. "
            "With causal on, each step sees only itself and earlier steps: the stack of a GPT-style language "
            "model."
        ),
        formula="h = LN(x + MHA(x)),  y = LN(h + W₂·act(W₁·h))   (norm_first: x + MHA(LN(x)) …)",
        infer=_infer_encoder,
        build=_build_encoder,
        emit=_emit_encoder,
        params=(
            int_param("nhead", 4, "Attention heads; must divide the model width.", minimum=1),
            int_param("dim_feedforward", 256, "Hidden width of the feed-forward block.", minimum=1),
            float_param("dropout", 0.1, "Dropout after attention and inside the feed-forward block.",
                        minimum=0.0, maximum=1.0),
            choice_param("activation", "relu", ("relu", "gelu"), "Activation of the feed-forward block."),
            bool_param("norm_first", False, "Normalise before each sub-block (pre-LN): steadier for deep "
                       "stacks."),
            CAUSAL,
        ),
        glyph="⋈",
        key_params=("nhead", "dim_feedforward"),
        has_weights=True,
        check=_below_one("dropout"),
    ),
    LayerSpec(
        type="PositionalEncoding",
        category="Attention",
        title="Positional encoding",
        summary="Adds a position signal to each step so attention can tell order apart.",
        explanation=(
            "Attention treats a sequence as an unordered set. This layer adds a vector that depends only "
            "on the position: fixed sine and cosine waves of many frequencies ('sinusoidal'), or one "
            "trained vector per position ('learned'). Sequences may be at most max_len long."
        ),
        formula="y[t] = x[t] + P[t];  sinusoidal: P[t, 2i] = sin(t / 10000^(2i/E)), P[t, 2i+1] = cos(…)",
        infer=_infer_positional,
        build=_build_positional,
        params=(
            choice_param("kind", "sinusoidal", ("sinusoidal", "learned"), "Fixed waves or trained vectors."),
            int_param("max_len", 512, "Longest sequence the table covers.", minimum=1),
            float_param("dropout", 0.0, "Dropout applied after adding the positions.", minimum=0.0,
                        maximum=1.0),
        ),
        glyph="∿",
        key_params=("kind",),
        has_weights=True,
        check=_below_one("dropout"),
    ),
    *CROSS_SPECS,
]
