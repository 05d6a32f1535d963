"""A bidirectional recurrent network that never reads padding, in plain PyTorch."""

from typing import Dict, List, Tuple, Type

import torch
from torch import nn

CELLS: Dict[str, Type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}

# One group of equal-width padded sequences: (steps, sequences, gather index
# for the forward direction, gather index for the backward direction).
PaddedGroup = Tuple[int, int, torch.Tensor, torch.Tensor]


class BiRNN(nn.Module):
    """A stack of bidirectional LSTM, GRU or tanh RNN layers over a batch of
    sequences laid end to end in one (n_tokens, nI) tensor.

    Each layer runs two unidirectional torch RNNs over right-padded batches:
    the forward one over the sequences, the backward one over each sequence
    reversed within its own length. Padding therefore only ever follows the
    real tokens, so no real output depends on it and a sequence's output does
    not depend on what it is batched with.

    Why not `PackedSequence`: on CPU a packed batch leaves torch's oneDNN RNN
    kernels for a step-by-step fallback, which measured 5x slower to train
    here (torch 2.13, 2 threads) than the two padded passes used instead.
    """

    def __init__(
        self,
        nI: int,
        nH: int,
        depth: int,
        dropout: float,
        cell: str = "lstm",
        input_dropout: float = 0.0,
        separate_directions: bool = False,
        word_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(
                f"Unknown recurrent cell {cell!r}: expected one of {sorted(CELLS)}."
            )
        # Separate directions: each direction's layer reads only its own
        # previous layer (ELMo's biLM), so the forward half of the output has
        # seen no later token and the backward half no earlier one.
        self.separate_directions = separate_directions
        sizes = [nI] + [nH if separate_directions else 2 * nH] * (depth - 1)
        self.forward_layers = nn.ModuleList(CELLS[cell](n, nH) for n in sizes)
        self.backward_layers = nn.ModuleList(CELLS[cell](n, nH) for n in sizes)
        self.dropout = nn.Dropout(dropout)
        self.input_dropout = (
            nn.Dropout(input_dropout) if input_dropout else nn.Identity()
        )
        self.word_dropout = word_dropout

    def forward(
        self,
        X: torch.Tensor,
        groups: List[PaddedGroup],
        forward_rows: torch.Tensor,
        backward_rows: torch.Tensor,
    ) -> torch.Tensor:
        """X (torch.Tensor): The tokens of all sequences, one after another.
        groups (List[PaddedGroup]): The padded batches to run. Their gather
            indices point into X, with len(X) for a padding position.
        forward_rows (torch.Tensor): For each token, its row in the forward
            outputs of all groups, flattened and concatenated.
        backward_rows (torch.Tensor): The same for the backward outputs.
        RETURNS (torch.Tensor): (n_tokens, 2 * nH), in the row order of X.
        """
        if X.is_cuda:
            # Thinc's optimizer writes the weights back one tensor at a time,
            # which breaks cuDNN's single weight buffer; re-pack it once here.
            for rnn in [*self.forward_layers, *self.backward_layers]:
                rnn.flatten_parameters()
        H = self.input_dropout(self._drop_words(X))
        if self.separate_directions:
            forward = backward = H
            for i, rnn in enumerate(self.forward_layers):
                forward = self._run(rnn, self._layer_input(forward, i), groups, 2)
                forward = forward.index_select(0, forward_rows)
            for i, rnn in enumerate(self.backward_layers):
                backward = self._run(rnn, self._layer_input(backward, i), groups, 3)
                backward = backward.index_select(0, backward_rows)
            return torch.cat([forward, backward], dim=1)
        layers = zip(self.forward_layers, self.backward_layers)
        for i, (forward_rnn, backward_rnn) in enumerate(layers):
            H = self._layer_input(H, i)
            forward = self._run(forward_rnn, H, groups, 2).index_select(0, forward_rows)
            backward = self._run(backward_rnn, H, groups, 3)
            H = torch.cat([forward, backward.index_select(0, backward_rows)], dim=1)
        return H

    def _drop_words(self, X: torch.Tensor) -> torch.Tensor:
        """In training, zero the whole input vector of a word_dropout share of
        the tokens (Dozat & Manning's word dropout; Iyyer et al. 2015), scaling
        the rest to keep the expected input: the network must then place a
        word from its context alone, as it must for a word it never saw."""
        if not self.training or not self.word_dropout:
            return X
        keep = torch.rand(X.shape[0], 1, device=X.device) >= self.word_dropout
        return X * keep.to(X.dtype) / (1.0 - self.word_dropout)

    def _layer_input(self, H: torch.Tensor, layer: int) -> torch.Tensor:
        """Dropout between layers, and a zero row for padding positions to read."""
        if layer:
            H = self.dropout(H)
        return torch.cat([H, H.new_zeros(1, H.shape[1])])

    def _run(
        self,
        rnn: nn.RNNBase,
        H: torch.Tensor,
        groups: List[PaddedGroup],
        direction: int,
    ) -> torch.Tensor:
        """One direction of one layer over every padded group, in group order:
        `direction` is the position of the gather index in each group (2
        forward, 3 backward)."""
        out = []
        for group in groups:
            steps, size, index = group[0], group[1], group[direction]
            padded = H.index_select(0, index).view(steps, size, -1)
            out.append(rnn(padded)[0].reshape(steps * size, -1))
        return torch.cat(out)


def mixed_state_from_separate(
    state: Dict[str, torch.Tensor],
) -> Dict[str, torch.Tensor]:
    """Turn the state dict of a BiRNN with separate directions into one for the
    same BiRNN with mixed directions that computes exactly the same function.

    Above the first layer, a mixed layer reads [forward; backward] of the layer
    below, a separate one only its own half. Padding each upper layer's input
    weights with zeros for the other direction's half keeps every output, and
    fine-tuning can then learn to mix the directions (function-preserving
    widening, as in Net2Net)."""
    mixed = dict(state)
    for key, weights in state.items():
        direction, layer, name = key.split(".", 2)
        if int(layer) == 0 or not name.startswith("weight_ih"):
            continue
        zeros = torch.zeros_like(weights)
        halves = [weights, zeros] if direction == "forward_layers" else [zeros, weights]
        mixed[key] = torch.cat(halves, dim=1)
    return mixed
