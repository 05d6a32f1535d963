"""Decoding arc scores into a well-formed dependency tree.

Scores are square matrices over the ROOT (index 0) and the tokens (1..n), with
`scores[dependent, head]`. A well-formed tree gives every token one head, has
no cycles and has exactly one token attached to ROOT. Non-projective trees are
allowed.
"""

from typing import List, Optional

import numpy

from ..util import Floats2dNumpy, Ints1dNumpy


def decode_tree(scores: Floats2dNumpy) -> Ints1dNumpy:
    """The highest-scoring tree: the greedy heads when they already form one
    (most sentences of a trained parser), else Chu-Liu-Edmonds.

    scores (Floats2dNumpy): (n + 1, n + 1) finite scores, scores[dep, head].
    RETURNS (Ints1dNumpy): The head of each of the n + 1 nodes; heads[0] is 0.
    """
    scores = numpy.array(scores, dtype="float64")
    n = len(scores)
    numpy.fill_diagonal(scores, -numpy.inf)
    scores[0] = -numpy.inf
    # The best tree of any number of root arcs: when it has one, it is also
    # the best single-root tree. On EWT dev this holds for three in four of
    # the sentences whose greedy heads are not a tree, and it needs few
    # contractions, where the root penalty below needs about n / 2.
    heads = chu_liu_edmonds(scores)
    if (heads[1:] == 0).sum() == 1:
        return heads
    # Every tree has at least one ROOT edge. With a penalty on each that is
    # larger than any difference in tree scores, the best tree under the
    # penalty has exactly one, and is the best such tree under the original
    # scores: the single-root constraint at the cost of one MST.
    finite = scores[numpy.isfinite(scores)]
    penalty = n * (finite.max() - finite.min()) + 1.0 if len(finite) else 1.0
    scores[1:, 0] -= penalty
    return chu_liu_edmonds(scores)


def chu_liu_edmonds(scores: Floats2dNumpy) -> Ints1dNumpy:
    """The maximum spanning arborescence rooted at node 0.

    Each cycle of the greedy heads is contracted into one node until none is
    left, then the contractions are undone in reverse order. A loop, not
    recursion: with the single-root penalty a sentence can need about n / 2
    nested contractions, past Python's recursion limit for n near 2,000.

    scores (Floats2dNumpy): (n, n) scores[dep, head], -inf where an arc is not
        allowed, including the diagonal and row 0.
    RETURNS (Ints1dNumpy): heads, with heads[0] == 0.
    """
    contractions = []
    while True:
        heads = scores.argmax(axis=1)
        heads[0] = 0
        cycle = find_cycle(heads)
        if cycle is None:
            break
        # Contract the cycle into one node, the last of the smaller problem.
        in_cycle = numpy.zeros(len(scores), dtype=bool)
        in_cycle[cycle] = True
        outside = numpy.flatnonzero(~in_cycle)  # starts with ROOT
        inside = numpy.asarray(cycle)
        m = len(outside)
        # Arcs from a cycle node to an outside dependent: keep the best one.
        leaving = scores[outside][:, inside]
        best_leaving = leaving.argmax(axis=1)
        # Arcs into the cycle replace the cycle arc of the node they enter.
        into_cycle = scores[inside]
        entering = (
            into_cycle[:, outside]
            - into_cycle[numpy.arange(len(inside)), heads[inside]][:, None]
        )
        best_entering = entering.argmax(axis=0)
        contracted = numpy.empty((m + 1, m + 1))
        contracted[:m, :m] = scores[outside][:, outside]
        contracted[:m, m] = leaving[numpy.arange(m), best_leaving]
        contracted[m, :m] = entering[best_entering, numpy.arange(m)]
        contracted[m, m] = -numpy.inf
        contracted[0] = -numpy.inf
        contractions.append((heads, outside, inside, best_leaving, best_entering))
        scores = contracted
    while contractions:
        sub_heads = heads
        heads, outside, inside, best_leaving, best_entering = contractions.pop()
        m = len(outside)
        # Outside nodes take their arcs back; the cycle is broken where the
        # chosen arc enters it.
        sub = sub_heads[1:m]
        heads[outside[1:]] = numpy.where(
            sub == m, inside[best_leaving[1:]], outside[numpy.minimum(sub, m - 1)]
        )
        h = sub_heads[m]
        heads[inside[best_entering[h]]] = outside[h]
    return heads


def find_cycle(heads: Ints1dNumpy) -> Optional[List[int]]:
    """The nodes of one cycle in the head graph, or None if it has none."""
    heads = numpy.asarray(heads).tolist()  # Python ints: faster to walk
    state = [0] * len(heads)  # 0 new, 1 on the path, 2 done
    state[0] = 2
    for start in range(1, len(heads)):
        path = []
        node = start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = heads[node]
        if state[node] == 1:
            return path[path.index(node) :]
        for visited in path:
            state[visited] = 2
    return None


def is_tree(heads: Ints1dNumpy) -> bool:
    """Whether heads (with heads[0] for ROOT) form a tree with one root arc."""
    heads = numpy.asarray(heads)
    return bool((heads[1:] == 0).sum() == 1 and find_cycle(heads) is None)


def is_tree_grid(heads: numpy.ndarray, real: numpy.ndarray) -> numpy.ndarray:
    """Whether each row of heads (n_sents, steps), 0 for ROOT and at ROOT and
    padding positions, is a tree with one root arc: every token reaches ROOT
    by following its heads (pointer doubling: after k rounds each position
    points 2 ** k steps up)."""
    one_root = ((heads == 0) & real).sum(axis=1) == 1
    up = heads
    for _ in range(max(1, int(heads.shape[1] - 1).bit_length())):
        up = numpy.take_along_axis(up, up, axis=1)
    return one_root & (up == 0).all(axis=1)
