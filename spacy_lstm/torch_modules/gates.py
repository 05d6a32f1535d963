"""The gates of a recurrent network, step by step.

torch's fused RNN kernels return only the hidden states. To show what the
gates let through, the layers are run again here one step at a time from the
same weights, with the textbook equations (torch's gate order and biases), so
that the hidden states come out equal to the fused ones (tested) and every
gate is there to read.
"""

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

# What each cell records per step, in order.
RECORDED = {
    "LSTM": ("input", "forget", "candidate", "output", "cell", "hidden"),
    "GRU": ("reset", "update", "candidate", "hidden"),
    "RNN_TANH": ("hidden",),
    "RNN_RELU": ("hidden",),
}
# The gates worth a glance, by cell name: what token summaries and pictures show.
MAIN_GATES = {"lstm": ("forget", "input", "output"), "gru": ("update", "reset")}


def gate_activations(
    rnn: nn.RNNBase, inputs: torch.Tensor
) -> List[Dict[str, torch.Tensor]]:
    """Run a unidirectional torch LSTM, GRU or RNN over one sequence from a
    zero state, without dropout, and return for each layer its activations at
    every step: (steps, width) tensors named as in RECORDED. An LSTM has input,
    forget and output gates, the candidate cell update and the cell state; a
    GRU reset and update gates and its candidate; a vanilla RNN no gates.

    inputs (torch.Tensor): (steps, input width).
    """
    if rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError(
            "gate_activations reads unidirectional layers without projections."
        )
    layers = []
    with torch.no_grad():
        x = inputs
        for layer in range(rnn.num_layers):
            weights = _layer_weights(rnn, layer)
            layers.append(_run_layer(rnn.mode, x, *weights))
            x = layers[-1]["hidden"]
    return layers


def _layer_weights(
    rnn: nn.RNNBase, layer: int
) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    w_ih = getattr(rnn, f"weight_ih_l{layer}")
    w_hh = getattr(rnn, f"weight_hh_l{layer}")
    b_ih = getattr(rnn, f"bias_ih_l{layer}") if rnn.bias else None
    b_hh = getattr(rnn, f"bias_hh_l{layer}") if rnn.bias else None
    return w_ih, w_hh, b_ih, b_hh


def _run_layer(
    mode: str,
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: Optional[torch.Tensor],
    b_hh: Optional[torch.Tensor],
) -> Dict[str, torch.Tensor]:
    """One layer, step by step, with torch's equations and gate order."""
    width = w_hh.shape[1]
    from_input = x @ w_ih.T + (b_ih if b_ih is not None else 0)
    hidden_bias = b_hh if b_hh is not None else torch.zeros(w_hh.shape[0])
    h = x.new_zeros(width)
    c = x.new_zeros(width)
    steps: Dict[str, List[torch.Tensor]] = {name: [] for name in RECORDED[mode]}
    for t in range(x.shape[0]):
        from_hidden = h @ w_hh.T + hidden_bias
        if mode == "LSTM":
            i, f, g, o = (from_input[t] + from_hidden).chunk(4)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            values = (i, f, g, o, c, h)
        elif mode == "GRU":
            x_r, x_z, x_n = from_input[t].chunk(3)
            h_r, h_z, h_n = from_hidden.chunk(3)
            r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
            n = (x_n + r * h_n).tanh()
            h = (1 - z) * n + z * h
            values = (r, z, n, h)
        else:
            pre = from_input[t] + from_hidden
            h = pre.tanh() if mode == "RNN_TANH" else pre.relu()
            values = (h,)
        for name, value in zip(RECORDED[mode], values):
            steps[name].append(value)
    return {name: torch.stack(values) for name, values in steps.items()}


def birnn_gate_activations(birnn, inputs: torch.Tensor) -> List[Dict[str, Dict]]:
    """The same for spacy-lstm's bidirectional encoder (torch_modules.rnn.
    BiRNN) over one sequence: per layer, {"forward": activations, "backward":
    activations}, each (steps, width) and in the sequence's order (the
    backward direction reads it from the end). Each layer reads the one below
    as the encoder does: both directions' hidden states, or with separate
    directions its own direction's only.

    inputs (torch.Tensor): (steps, input width), the encoder's input vectors.
    """
    layers: List[Dict[str, Dict]] = []
    forward_input = backward_input = inputs
    for forward_rnn, backward_rnn in zip(birnn.forward_layers, birnn.backward_layers):
        forward = gate_activations(forward_rnn, forward_input)[0]
        backward = gate_activations(backward_rnn, backward_input.flip(0))[0]
        backward = {name: values.flip(0) for name, values in backward.items()}
        layers.append({"forward": forward, "backward": backward})
        if birnn.separate_directions:
            forward_input, backward_input = forward["hidden"], backward["hidden"]
        else:
            both = torch.cat([forward["hidden"], backward["hidden"]], dim=1)
            forward_input = backward_input = both
    return layers
