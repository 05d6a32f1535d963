import copy

import numpy
import torch

from spacy_lstm.models.biaffine import sentence_grid
from spacy_lstm.models.torch_wrapper import bfloat16_copy
from spacy_lstm.parsing import decode_tree, is_tree, is_tree_grid
from spacy_lstm.torch_modules import biaffine
from spacy_lstm.torch_modules.biaffine import (
    MASKED,
    BiaffineScorer,
    decode_heads,
)


def test_labels_scored_in_chunks_equal_one_product(monkeypatch):
    """Scoring labels in chunks of tokens bounds memory and changes nothing."""
    torch.manual_seed(0)
    scorer = BiaffineScorer(nI=8, arc_width=6, label_width=5, n_labels=4, dropout=0.0)
    with torch.no_grad():
        scorer.label_weight.normal_()
    lengths = [3, 7, 1, 12]
    X = torch.randn(sum(lengths), 8)
    _, tensors, token_rows, head_rows = sentence_grid(lengths)
    groups = [(torch.from_numpy(i), torch.from_numpy(m)) for i, m in tensors]
    args = (X, groups, torch.from_numpy(token_rows), torch.from_numpy(head_rows))
    _, whole, heads = scorer(*args)
    monkeypatch.setattr(biaffine, "LABEL_CHUNK", 5)
    _, chunked, same_heads = scorer(*args)
    assert torch.equal(heads, same_heads)
    torch.testing.assert_close(chunked, whole)


def test_group_decoding_equals_decoding_each_sentence():
    rng = numpy.random.default_rng(0)
    lengths = [1, 2, 3, 7, 12, 12, 30]
    steps = max(lengths) + 1
    position = numpy.arange(steps)
    is_token = (position[None, :] >= 1) & (position[None, :] <= numpy.c_[lengths])
    is_head = is_token | (position[None, :] == 0)
    mask = is_token[:, :, None] & is_head[:, None, :] & ~numpy.eye(steps, dtype=bool)
    for sharpness in (0.1, 1.0, 10.0):  # near-uniform: cycles; sharp: greedy trees
        arcs = torch.from_numpy(rng.normal(size=mask.shape) * sharpness).float()
        arcs = arcs.masked_fill(~torch.from_numpy(mask), MASKED)
        grid = decode_heads(arcs, torch.from_numpy(mask)).view(len(lengths), steps)
        scores = torch.log_softmax(arcs, dim=-1).numpy()
        for s, n in enumerate(lengths):
            expected = decode_tree(scores[s, : n + 1, : n + 1])
            assert grid[s, : n + 1].tolist() == expected.tolist()
            assert not grid[s, n + 1 :].any()


def test_is_tree_grid_agrees_with_is_tree():
    rng = numpy.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(1, 9))
        heads = numpy.zeros((1, 12), dtype="int64")
        heads[0, 1 : n + 1] = rng.integers(0, n + 1, size=n)
        real = numpy.zeros((1, 12), dtype=bool)
        real[0, 1 : n + 1] = True
        assert is_tree_grid(heads, real)[0] == is_tree(heads[0, : n + 1])


def test_labels_per_distinct_head_equal_the_bilinear_formula():
    """score[t, l] = dep[t] . W[:, l, :] . head[h(t)] + linear([dep; head]),
    whatever the chunking of tokens into distinct heads."""
    torch.manual_seed(1)
    scorer = BiaffineScorer(nI=8, arc_width=6, label_width=5, n_labels=4, dropout=0.0)
    with torch.no_grad():
        scorer.label_weight.normal_()
    X = torch.randn(11, 8)  # 10 tokens and ROOT
    head_rows = torch.tensor([10, 0, 0, 3, 10, 3, 3, 9, 10, 2])
    dep = scorer.label_dep(X[:-1])
    head = scorer.label_head(X)[head_rows]
    bilinear = torch.einsum("ti,ilj,tj->tl", dep, scorer.label_weight, head)
    expected = bilinear + scorer.label_linear(torch.cat([dep, head], dim=1))
    torch.testing.assert_close(scorer.score_labels(X, head_rows), expected)


def test_labels_per_head_blocks_equal_the_formula_for_any_head_counts(monkeypatch):
    """Heads with one dependent, with hundreds (ROOT of many sentences, or an
    untrained parser's), in any order, across chunks, and no token at all."""
    torch.manual_seed(3)
    scorer = BiaffineScorer(nI=8, arc_width=6, label_width=5, n_labels=4, dropout=0.0)
    with torch.no_grad():
        scorer.label_weight.normal_()
    X = torch.randn(601, 8)
    head_rows = torch.cat(
        [torch.full((300,), 600), torch.arange(150), torch.randint(0, 600, (150,))]
    )[torch.randperm(600)]
    dep = scorer.label_dep(X[:-1])
    head = scorer.label_head(X)[head_rows]
    bilinear = torch.einsum("ti,ilj,tj->tl", dep, scorer.label_weight, head)
    expected = bilinear + scorer.label_linear(torch.cat([dep, head], dim=1))
    monkeypatch.setattr(biaffine, "LABEL_CHUNK", 128)
    torch.testing.assert_close(scorer.score_labels(X, head_rows), expected)
    empty = scorer.score_labels(X[-1:], head_rows[:0])
    assert empty.shape == (0, 4)


def test_labels_in_bfloat16_are_made_per_dependent_and_match_float32():
    """In bfloat16 the bilinear term is made from each token's dependent side:
    in float32 arithmetic that path equals the per-head one, and the scorer's
    bfloat16 labels stay close to its float32 labels."""
    torch.manual_seed(2)
    scorer = BiaffineScorer(nI=8, arc_width=6, label_width=5, n_labels=4, dropout=0.0)
    with torch.no_grad():
        scorer.label_weight.normal_()
    X = torch.randn(11, 8)
    rows = torch.tensor([10, 0, 0, 3, 10, 3, 3, 9, 10, 2])
    dep, label_head = scorer.label_dep(X[:-1]), scorer.label_head(X)
    by_head = scorer.label_weight.permute(2, 0, 1).flatten(1)
    by_dep = scorer.label_weight.flatten(1)
    per_head, head = scorer._bilinear_per_head(dep, label_head, rows, by_head)
    per_dep, same_head = scorer._bilinear_per_dependent(dep, label_head[rows], by_dep)
    torch.testing.assert_close(per_dep, per_head)
    torch.testing.assert_close(same_head, head)
    expected = scorer.score_labels(X, rows)
    in_bfloat16 = bfloat16_copy(copy.deepcopy(scorer))
    labels = in_bfloat16.score_labels(X, rows)
    assert labels.dtype == torch.bfloat16
    torch.testing.assert_close(labels.float(), expected, rtol=0.05, atol=0.1)
