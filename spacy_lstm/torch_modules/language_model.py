"""A recurrent language model in plain PyTorch: embeddings, a stack of
unidirectional RNN layers, and a softmax over the vocabulary."""

import math
from typing import List, Optional, Tuple, Union

import torch
from torch import nn

from .rnn import CELLS
from .serialize import deserializer_for, serialize_with_config

State = Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]
# Rows scored at a time outside training (see target_log_probs)
SCORING_ROWS = 1024


class RNNLanguageModel(nn.Module):
    """Predicts each next token from the ones before it.

    n_vocab (int): Vocabulary size, special tokens included.
    width (int): Embedding and hidden width (one width, so that the input and
        output embeddings can be tied).
    depth (int): Recurrent layers.
    cell (str): "lstm", "gru" or "rnn".
    dropout (float): Dropout on the embeddings, between layers and on the
        output (variational dropout and weight-drop are not used).
    tie (bool): Share the input embeddings with the output softmax
        (Press & Wolf 2017; Inan et al. 2017): fewer parameters, lower
        perplexity.
    cutoffs (Optional[List[int]]): Use an adaptive softmax (Grave et al. 2017)
        with these frequency-rank cutoffs, for large vocabularies. Token ids
        must then be ordered by frequency. Not tied.
    sampled (int): Train on a softmax over the targets and this many words
        sampled per batch instead of the whole vocabulary (sampled softmax,
        Jean et al. 2015); 0 trains on all of it. Evaluation and
        inference always use the full softmax, tied or not. Token ids must be
        ordered by frequency: candidates are drawn log-uniformly by rank.
    """

    def __init__(
        self,
        n_vocab: int,
        width: int = 200,
        depth: int = 2,
        cell: str = "lstm",
        dropout: float = 0.2,
        tie: bool = True,
        cutoffs: Optional[List[int]] = None,
        sampled: int = 0,
    ) -> None:
        super().__init__()
        self.config = dict(
            n_vocab=n_vocab, width=width, depth=depth, cell=cell, dropout=dropout,
            tie=tie, cutoffs=list(cutoffs) if cutoffs else None, sampled=sampled,
        )  # fmt: skip
        if sampled and cutoffs:
            raise ValueError("Choose an adaptive or a sampled softmax, not both.")
        self.sampled = sampled
        if cell not in CELLS:
            raise ValueError(
                f"Unknown recurrent cell {cell!r}: expected one of {sorted(CELLS)}."
            )
        self.embed = nn.Embedding(n_vocab, width)
        self.dropout = nn.Dropout(dropout)
        self.rnn = CELLS[cell](
            width, width, num_layers=depth, dropout=dropout if depth > 1 else 0.0,
            batch_first=True,
        )  # fmt: skip
        self.adaptive: Optional[nn.AdaptiveLogSoftmaxWithLoss] = None
        self.decoder: Optional[nn.Linear] = None
        if cutoffs:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                width, n_vocab, cutoffs=list(cutoffs), div_value=4.0
            )
        else:
            self.decoder = nn.Linear(width, n_vocab)
            if tie:
                self.decoder.weight = self.embed.weight
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)

    def forward(
        self, ids: torch.Tensor, state: Optional[State] = None
    ) -> Tuple[torch.Tensor, State]:
        """ids (batch, steps) -> hidden outputs (batch, steps, width) and the
        final recurrent state, to carry into the next segment."""
        output, state = self.rnn(self.dropout(self.embed(ids)), state)
        return self.dropout(output), state

    def loss(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood (nats) of the targets; in training
        with `sampled`, its sampled-softmax estimate."""
        if self.training and self.decoder is not None:
            n_vocab = self.decoder.weight.shape[0]
            if 0 < self.sampled < n_vocab:
                flat_hidden = hidden.reshape(-1, hidden.shape[-1])
                return -self._sampled_log_probs(flat_hidden, targets.reshape(-1)).sum()
        return -self.target_log_probs(hidden, targets).sum()

    def _sampled_log_probs(
        self, hidden: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """The targets' log-probabilities in a softmax over themselves and the
        batch's sampled words, each logit corrected by the log of the chance
        that its word was drawn (TensorFlow's sampled_softmax_loss). Each step
        costs (targets x sampled) instead of (targets x vocabulary)."""
        weight, bias = self.decoder.weight, self.decoder.bias  # type: ignore[union-attr]
        n_vocab = weight.shape[0]
        log_range = math.log(n_vocab + 1)
        # Log-uniform by rank, Zipf's law for a frequency-ordered vocabulary.
        draws = torch.rand(self.sampled, device=hidden.device) * log_range
        candidates = (torch.exp(draws).long() - 1).clamp_(0, n_vocab - 1).unique()

        def log_drawn(ids: torch.Tensor) -> torch.Tensor:
            # log P(the word is among `sampled` draws with replacement)
            p = torch.log1p(1.0 / (ids.float() + 1.0)) / log_range
            return torch.log(-torch.expm1(self.sampled * torch.log1p(-p)))

        true = (hidden * weight[targets]).sum(-1) + bias[targets] - log_drawn(targets)
        sampled = hidden @ weight[candidates].t() + bias[candidates]
        sampled = sampled - log_drawn(candidates)
        # A target drawn as a candidate is not its own negative.
        sampled = sampled.masked_fill(targets.unsqueeze(1) == candidates, -math.inf)
        logits = torch.cat([true.unsqueeze(1), sampled], dim=1)
        return true - torch.logsumexp(logits, dim=1)

    def target_log_probs(
        self, hidden: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """Log-probability of each target, shaped like targets. The adaptive
        softmax computes only the clusters the targets fall in."""
        flat_hidden, flat_targets = (
            hidden.reshape(-1, hidden.shape[-1]),
            targets.reshape(-1),
        )
        if not torch.is_grad_enabled() and len(flat_targets) > SCORING_ROWS:
            # The logits of a block of rows stay in the CPU's cache: blocks of
            # 1,024 rows scored EWT dev in 0.79 s, blocks of 4,096 in 1.18 s
            # (2x200 LM, adaptive softmax over 50,000 words).
            return torch.cat(
                [
                    self.target_log_probs(
                        flat_hidden[start : start + SCORING_ROWS],
                        flat_targets[start : start + SCORING_ROWS],
                    )
                    for start in range(0, len(flat_targets), SCORING_ROWS)
                ]
            ).view(targets.shape)
        if self.adaptive is not None:
            chosen = self.adaptive(_autocast_input(flat_hidden), flat_targets).output
        else:
            logits = self.decoder(flat_hidden)  # type: ignore[misc]
            chosen = -nn.functional.cross_entropy(
                logits, flat_targets, reduction="none"
            )
        return chosen.view(targets.shape)

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the vocabulary, (..., n_vocab)."""
        if self.adaptive is not None:
            flat = self.adaptive.log_prob(
                _autocast_input(hidden.reshape(-1, hidden.shape[-1]))
            )
            return flat.view(*hidden.shape[:-1], -1)
        return torch.log_softmax(self.decoder(hidden), dim=-1)  # type: ignore[misc]


def _autocast_input(hidden: torch.Tensor) -> torch.Tensor:
    """The adaptive softmax's input in autocast's dtype, where autocast is on.
    The softmax writes its clusters' products (in autocast's dtype) into a
    buffer of its input's dtype, which fails when they differ: autocast
    leaves GRU and vanilla RNN layers, and LSTMs outside oneDNN, in float32."""
    device = hidden.device.type
    if torch.is_autocast_enabled(device):
        return hidden.to(torch.get_autocast_dtype(device))
    return hidden


# The vocabulary size is set in initialize: the model is saved with its shape.
serialize_language_model = serialize_with_config
deserialize_language_model = deserializer_for(RNNLanguageModel)


def detach_state(state: State) -> State:
    """Cut the graph between segments (truncated backpropagation through time)."""
    if isinstance(state, tuple):
        return tuple(part.detach() for part in state)  # type: ignore[return-value]
    return state.detach()
