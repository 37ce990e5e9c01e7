"""Sequence layers: token embeddings and the recurrent family (RNN, LSTM, GRU), batch first."""

from __future__ import annotations

from typing import Any

from nnstudio.layers.builtin.common import require_float, require_int, require_rank, trimmed
from nnstudio.layers.params import bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, TensorType


def _infer_embedding(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_int(x)
    return TensorType((*x.shape, params["embedding_dim"]))


def _build_embedding(params, types: Inputs) -> Construct:
    kwargs = {"num_embeddings": params["num_embeddings"], "embedding_dim": params["embedding_dim"],
              "padding_idx": params["padding_idx"]}
    return Construct("torch.nn.Embedding", trimmed(kwargs, {"padding_idx": None}))


def _check_embedding(params) -> list[tuple[str, str]]:
    index, count = params["padding_idx"], params["num_embeddings"]
    if index is not None and not -count <= index < count:
        return [("padding_idx", f"must be a valid token id below num_embeddings ({count}), got {index}")]
    return []


# --- recurrent layers ------------------------------------------------------------------------
def _rnn_params(with_nonlinearity: bool) -> tuple:
    params = [
        int_param("hidden_size", 64, "Size of the hidden state carried from step to step.", minimum=1),
        int_param("num_layers", 1, "Recurrent layers stacked on top of each other.", minimum=1),
        bool_param("bidirectional", False, "Also read the sequence backwards and join both directions."),
        float_param("dropout", 0.0, "Dropout between stacked layers (needs num_layers > 1).",
                    minimum=0.0, maximum=1.0),
        choice_param("output", "sequence", ("sequence", "last"),
                     "'sequence': the output at every step [T, H]; 'last': one summary vector [H]."),
        bool_param("bias", True, "Learn bias terms in the gates."),
    ]
    if with_nonlinearity:
        params.insert(1, choice_param("nonlinearity", "tanh", ("tanh", "relu"), "Activation of the cell."))
    return tuple(params)


def _check_rnn(params) -> list[tuple[str, str]]:
    if params["dropout"] >= 1.0:
        return [("dropout", "must be below 1")]
    if params["dropout"] > 0 and params["num_layers"] == 1:
        return [("dropout", "acts only between stacked layers: with num_layers = 1 it has no effect; "
                            "set it to 0 or stack more layers")]
    return []


def _infer_rnn(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    require_rank(x, (2,), "[N, steps, features] (a float sequence, batch first)")
    width = params["hidden_size"] * (2 if params["bidirectional"] else 1)
    return TensorType((x.shape[0], width) if params["output"] == "sequence" else (width,))


def _rnn_build(target: str):
    def build(params, types: Inputs) -> Construct:
        kwargs: dict[str, Any] = {"input_size": types.one().shape[-1], "hidden_size": params["hidden_size"]}
        kwargs.update({name: value for name, value in params.items() if name not in kwargs and name != "output"})
        kwargs = trimmed(kwargs, {"num_layers": 1, "bidirectional": False, "dropout": 0.0, "bias": True,
                                  "nonlinearity": "tanh"})
        kwargs["batch_first"] = True
        return Construct(target, kwargs)

    return build


def _rnn_emit(build, is_lstm: bool):
    """Call the module, then pick what the output param asks for from (output, h_n).

    'last' reads the final hidden state of the top layer. For a bidirectional layer the backward
    direction finishes at the first step, so its final state (h_n[-1]) is joined with the forward
    direction's (h_n[-2]); taking output[:, -1] would pair it with the backward state after one step.
    """

    def emit(ctx, params, values: Inputs, types: Inputs):
        result = ctx.module(build(params, types), values.one())
        if params["output"] == "sequence":
            return ctx.function("operator.getitem", result, 0)
        hidden = ctx.function("operator.getitem", result, 1)
        if is_lstm:
            hidden = ctx.function("operator.getitem", hidden, 0)  # (h_n, c_n) -> h_n
        if not params["bidirectional"]:
            return ctx.function("operator.getitem", hidden, -1)
        forward = ctx.function("operator.getitem", hidden, -2)
        backward = ctx.function("operator.getitem", hidden, -1)
        return ctx.function("torch.cat", [forward, backward], dim=1)

    return emit


_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _rnn_flops(type_name: str):
    """Each step of each layer and direction does gates·H·(in + H) multiply-adds (2 FLOPs each)."""

    def flops(params, types: Inputs) -> int:
        steps, features = types.one().shape
        hidden, directions = params["hidden_size"], 2 if params["bidirectional"] else 1
        total, width = 0, features
        for _ in range(params["num_layers"]):
            total += directions * steps * _GATES[type_name] * 2 * hidden * (width + hidden)
            width = hidden * directions
        return total

    return flops


def _recurrent(type_name: str, summary: str, explanation: str, formula: str) -> LayerSpec:
    build = _rnn_build(f"torch.nn.{type_name}")
    return LayerSpec(
        type=type_name,
        category="Sequence",
        title=type_name,
        summary=summary,
        explanation=explanation + " Input is [T, F] (steps, features); 'sequence' gives [T, H·dirs], 'last' "
                                  "gives [H·dirs], where dirs is 2 when bidirectional.",
        formula=formula,
        infer=_infer_rnn,
        build=build,
        emit=_rnn_emit(build, type_name == "LSTM"),
        params=_rnn_params(type_name == "RNN"),
        glyph="⟳",
        key_params=("hidden_size", "output"),
        has_weights=True,
        check=_check_rnn,
        flops=_rnn_flops(type_name),
    )


SPECS = [
    LayerSpec(
        type="Embedding",
        category="Sequence",
        title="Embedding",
        summary="Looks up a learned vector for each token id: int64 [T] → [T, E].",
        explanation=(
            "A trainable table with one row per token of the vocabulary. Each integer id in the input is "
            "replaced by its row, turning discrete symbols into vectors that later layers can compare. "
            "Ids must lie in [0, num_embeddings)."
        ),
        formula="y[t] = W[x[t]],  W ∈ ℝ^(num_embeddings × embedding_dim)",
        infer=_infer_embedding,
        build=_build_embedding,
        params=(
            int_param("num_embeddings", 1000, "Vocabulary size: token ids run from 0 to this minus 1.", minimum=1),
            int_param("embedding_dim", 64, "Length of each token's vector.", minimum=1),
            int_param("padding_idx", None, "Token id used for padding: its vector stays zero and is not "
                      "trained. Empty for none.", optional=True),
        ),
        glyph="⋮",
        key_params=("num_embeddings", "embedding_dim"),
        has_weights=True,
        check=_check_embedding,
    ),
    _recurrent("RNN", "Plain recurrent layer: a hidden state updated at every step.",
               "The simplest recurrence: each step mixes the new input with the previous hidden state through "
               "one activation. It forgets quickly and its gradients fade over long sequences.",
               "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)"),
    _recurrent("LSTM", "Long short-term memory: gated recurrence that keeps long-range information.",
               "Adds a memory cell guarded by input, forget and output gates, which decide what to store, "
               "what to drop and what to reveal at each step. This lets it carry information over many "
               "steps where a plain RNN would lose it.",
               "c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t,  h_t = o_t ⊙ tanh(c_t);  i, f, o = σ(…), g = tanh(…)"),
    _recurrent("GRU", "Gated recurrent unit: a lighter LSTM with two gates.",
               "Merges the LSTM's cell and hidden state and uses an update gate and a reset gate. It often "
               "matches an LSTM with fewer parameters.",
               "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1),  n_t = tanh(W_in·x_t + r_t ⊙ (W_hn·h_(t−1)))"),
]
