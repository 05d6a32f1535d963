import itertools

import numpy
import pytest

from spacy_lstm.parsing import decode_tree, find_cycle, is_tree


def brute_force(scores):
    """The best single-root tree, by trying every head assignment."""
    n = len(scores) - 1
    best, best_heads = -numpy.inf, None
    for choice in itertools.product(range(n + 1), repeat=n):
        heads = numpy.array((0,) + choice)
        if any(h == d for d, h in enumerate(heads) if d) or not is_tree(heads):
            continue
        total = scores[numpy.arange(1, n + 1), heads[1:]].sum()
        if total > best:
            best, best_heads = total, heads
    return best, best_heads


def tree_score(scores, heads):
    return scores[numpy.arange(1, len(scores)), heads[1:]].sum()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force(n, seed):
    rng = numpy.random.default_rng(seed * 10 + n)
    scores = rng.normal(size=(n + 1, n + 1)) * rng.choice([0.1, 1.0, 10.0])
    heads = decode_tree(scores)
    assert is_tree(heads)
    best, _ = brute_force(scores)
    assert tree_score(scores, heads) == pytest.approx(best)


def test_repairs_cycles_and_extra_roots():
    scores = numpy.full((4, 4), -10.0)
    scores[1, 2] = scores[2, 1] = 5.0  # 1 and 2 want each other: a cycle
    scores[3, 0] = scores[1, 0] = 1.0  # 1 and 3 both want ROOT
    heads = decode_tree(scores)
    assert is_tree(heads)
    assert tree_score(scores, heads) == pytest.approx(brute_force(scores)[0])


@pytest.mark.parametrize("n", [30, 120])
def test_long_sentences_give_trees(n):
    rng = numpy.random.default_rng(n)
    for _ in range(5):
        heads = decode_tree(rng.normal(size=(n + 1, n + 1)))
        assert is_tree(heads) and len(heads) == n + 1


def test_greedy_tree_is_kept_when_valid():
    scores = numpy.full((4, 4), -5.0)
    scores[1, 2] = scores[2, 0] = scores[3, 2] = 0.0
    assert decode_tree(scores).tolist() == [0, 2, 0, 2]


def test_non_projective_trees_are_allowed():
    # "A hearing is scheduled on the issue today": issue -> hearing crosses.
    gold = [0, 2, 4, 4, 0, 7, 7, 2, 4]
    scores = numpy.full((9, 9), -5.0)
    scores[numpy.arange(1, 9), gold[1:]] = 0.0
    assert decode_tree(scores).tolist() == gold


def test_find_cycle():
    assert find_cycle(numpy.array([0, 2, 3, 1])) == [1, 2, 3]
    assert find_cycle(numpy.array([0, 0, 1, 2])) is None
