"""Biaffine arc and label scoring (Dozat & Manning 2017), in plain PyTorch."""

from typing import Any, Dict, List, Optional, Tuple

import numpy
import torch
from torch import nn

from ..parsing.mst import decode_tree, is_tree_grid
from ..util import bucket
from .serialize import deserializer_for, serialize_with_config

# Masked arc logits: finite, so that a row with no allowed head stays NaN-free,
# and low enough that its softmax weight underflows to zero.
MASKED = -1e9
# Tokens whose labels are scored at once (see BiaffineScorer.score_labels):
# a chunk's per-token (width, labels) matrices take 512 * 128 * 50 floats, 13 MB
LABEL_CHUNK = 512


class BiaffineScorer(nn.Module):
    """Scores every (dependent, head) pair of a sentence with a biaffine
    product of two MLP projections, plus a head prior; then scores the labels
    of the chosen (dependent, head) pairs with a bilinear + linear classifier.

    The model sees each sentence as ROOT followed by its tokens. ROOT is a
    learned vector rather than a padding row, so "attach to ROOT" is scored
    like any other head.
    """

    def __init__(
        self,
        nI: int,
        arc_width: int,
        label_width: int,
        n_labels: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.config: Dict[str, Any] = dict(
            nI=nI,
            arc_width=arc_width,
            label_width=label_width,
            n_labels=n_labels,
            dropout=dropout,
        )
        self.root = nn.Parameter(torch.randn(nI) * 0.1)
        self.arc_dep = mlp(nI, arc_width, dropout)
        self.arc_head = mlp(nI, arc_width, dropout)
        self.label_dep = mlp(nI, label_width, dropout)
        self.label_head = mlp(nI, label_width, dropout)
        # Zero-initialised as in Dozat & Manning: arcs start uniform.
        self.arc_weight = nn.Parameter(torch.zeros(arc_width, arc_width))
        self.arc_head_prior = nn.Parameter(torch.zeros(arc_width))
        # A bilinear term per label. Not nn.Bilinear: its backward loops over
        # the labels and took half of the training time; two matmuls don't.
        self.label_weight = nn.Parameter(
            torch.zeros(label_width, n_labels, label_width)
        )
        self.label_linear = nn.Linear(2 * label_width, n_labels)

    def forward(
        self,
        X: torch.Tensor,
        groups: List[Tuple[torch.Tensor, torch.Tensor]],
        token_rows: torch.Tensor,
        head_rows: torch.Tensor,
        heads: Optional[torch.Tensor] = None,
    ) -> Tuple[List[torch.Tensor], torch.Tensor, torch.Tensor]:
        """X (torch.Tensor): (n_tokens, nI) token vectors of all sentences.
        groups (List[Tuple[torch.Tensor, torch.Tensor]]): Sentences padded to
            a common length, as (index, head_mask). index (n_sents, steps)
            holds rows of [X; ROOT], ROOT first; padding points at ROOT.
            head_mask (n_sents, steps, steps) is True where [dependent, head]
            is an allowed arc.
        token_rows (torch.Tensor): For each token, its row in the flattened
            sentence grids of all groups, concatenated.
        head_rows (torch.Tensor): For each token, the row of its sentence's
            ROOT in the same grids.
        heads (Optional[torch.Tensor]): For each token, the head whose label
            to score (sentence position, 0 for ROOT). When None, the heads are
            decoded from the arc scores as well-formed trees.
        RETURNS (Tuple[List[torch.Tensor], torch.Tensor, torch.Tensor]): Arc
            logits per group (n_sents, steps, steps), label logits
            (n_tokens, n_labels) and the heads they were scored for.
        """
        X = torch.cat([X, self.root.unsqueeze(0)])
        # The MLPs run once per token (and ROOT), not per padded grid cell.
        arc_dep, arc_head = self.arc_dep(X), self.arc_head(X)
        # In bfloat16 inference (spacy_lstm.precision) the MLPs and the label
        # scores compute in bfloat16, but the arc scores in float32: they rank
        # every head of a token, and in bfloat16 0.11% of EWT dev heads
        # changed (0.03% with them in float32), for 2% of the parse's speed.
        arc_dep, arc_head = arc_dep.float(), arc_head.float()
        arc_prior = arc_head @ self.arc_head_prior
        arc_dep = arc_dep @ self.arc_weight
        arcs = []
        for index, head_mask in groups:
            scores = arc_dep[index] @ arc_head[index].transpose(1, 2)
            scores = scores + arc_prior[index].unsqueeze(1)
            arcs.append(scores.masked_fill(~head_mask, MASKED))
        if heads is None:
            grid = [decode_heads(a, m) for a, (_, m) in zip(arcs, groups)]
            heads = torch.cat(grid).to(X.device)[token_rows]
        # The X row of every grid cell, to find each token's head in X.
        grid_rows = torch.cat([index.flatten() for index, _ in groups])
        labels = self.score_labels(X, grid_rows[head_rows + heads])
        return arcs, labels, heads

    def score_labels(self, X: torch.Tensor, head_rows: torch.Tensor) -> torch.Tensor:
        """X (torch.Tensor): (n_tokens + 1, nI) token vectors and ROOT.
        head_rows (torch.Tensor): For each token, its head's row in X.
        RETURNS (torch.Tensor): (n_tokens, n_labels) label logits.

        The bilinear term dep . W[:, label, :] . head needs a (width, labels)
        matrix per token from one side or the other. In float32 it is made
        once per distinct head and multiplied by the head's dependents as one
        block (on EWT, a head has two on average): half the multiplications
        of the dependent side, and 1.05-1.07x the speed of the whole EWT dev
        parse against copying each head's matrix to its dependents (AVX2
        CPU). In bfloat16 the matrices are made per token from its dependent
        side, which measured 1.03-1.05x against that copy (AMX CPU). Chunks
        of tokens bound memory whatever the doc's length.
        """
        label_dep, label_head = self.label_dep(X[:-1]), self.label_head(X)
        per_dependent = label_dep.dtype == torch.bfloat16
        # (dep, labels, head) -> (dep, labels * head) or (head, dep * labels)
        weight = (
            self.label_weight if per_dependent else self.label_weight.permute(2, 0, 1)
        )
        weight = weight.flatten(1).to(label_dep.dtype)
        chunks = []
        for dep, rows in zip(
            label_dep.split(LABEL_CHUNK), head_rows.split(LABEL_CHUNK)
        ):
            if per_dependent:
                bilinear, head = self._bilinear_per_dependent(
                    dep, label_head[rows], weight
                )
            else:
                bilinear, head = self._bilinear_per_head(dep, label_head, rows, weight)
            linear = self.label_linear(torch.cat([dep, head], dim=1))
            chunks.append(bilinear + linear)
        return torch.cat(chunks)

    def _bilinear_per_head(
        self,
        dep: torch.Tensor,
        label_head: torch.Tensor,
        rows: torch.Tensor,
        weight: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The bilinear label scores from one matrix per distinct head, and
        each token's head vector. weight: label_weight as (head, dep * labels).
        Each head's dependents are the rows of one zero-padded block, which
        one batched product multiplies by the head's matrix."""
        width, n_labels = self.label_weight.shape[:2]
        unique, of_token, counts = torch.unique(
            rows, return_inverse=True, return_counts=True
        )
        # each token's place among its head's dependents
        order = torch.argsort(of_token, stable=True)
        first = torch.cumsum(counts, 0) - counts
        place = torch.empty_like(of_token)
        ranks = torch.arange(len(rows), device=rows.device)
        place[order] = ranks - first[of_token[order]]
        most = int(counts.max()) if len(counts) else 0
        deps = dep.new_zeros(len(unique), most, width)
        deps[of_token, place] = dep
        head = label_head[unique]
        per_head = (head @ weight).view(-1, width, n_labels)
        bilinear = torch.bmm(deps, per_head)[of_token, place]
        return bilinear, head[of_token]

    def _bilinear_per_dependent(
        self, dep: torch.Tensor, head: torch.Tensor, weight: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The bilinear label scores from one matrix per token, made from its
        dependent side, and the head vectors as given. weight: label_weight as
        (dep, labels * head)."""
        width, n_labels = self.label_weight.shape[:2]
        # Rows padded to recurring sizes: a new shape costs oneDNN a kernel.
        n = len(dep)
        padded = nn.functional.pad(dep, (0, 0, 0, bucket(n) - n))
        per_dep = (padded @ weight)[:n].view(n, n_labels, width)
        return torch.bmm(per_dep, head.unsqueeze(2)).squeeze(2), head


def decode_heads(arcs: torch.Tensor, head_mask: torch.Tensor) -> torch.Tensor:
    """The tree heads (0 for ROOT) of each sentence in a padded group, as a
    flattened (n_sents * steps) grid like the group's; padding rows hold 0.

    The greedy heads are checked for the whole group at once; only the
    sentences where they do not form a tree are decoded one at a time."""
    scores = torch.log_softmax(arcs.detach().float(), dim=-1).cpu().numpy()
    lengths = head_mask[:, 1:, 0].sum(dim=1).cpu().numpy()
    steps = scores.shape[1]
    real = numpy.arange(steps)[None, :] <= lengths[:, None]
    real[:, 0] = False
    grid = numpy.where(real, scores.argmax(axis=2), 0)
    for s in numpy.flatnonzero(~is_tree_grid(grid, real)):
        n = int(lengths[s])
        grid[s, : n + 1] = decode_tree(scores[s, : n + 1, : n + 1])
    return torch.from_numpy(grid.ravel())


def mlp(nI: int, nO: int, dropout: float) -> nn.Sequential:
    """Linear, leaky ReLU and dropout: Dozat & Manning's projection."""
    return nn.Sequential(nn.Linear(nI, nO), nn.LeakyReLU(0.1), nn.Dropout(dropout))


# The label count is set in initialize: the scorer is saved with its shape.
serialize_scorer = serialize_with_config
deserialize_scorer = deserializer_for(BiaffineScorer)
