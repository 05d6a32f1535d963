"""Word-vector evaluation: word-pair similarity (Spearman) and analogies (3CosAdd).

Both follow gensim's KeyedVectors.evaluate_word_pairs and
evaluate_word_analogies, so scores can be compared with gensim's directly.
"""

from pathlib import Path
from typing import Dict, List, Tuple

import numpy

from .word2vec_format import VectorTable

# gensim's analogy sections that do not start with "gram" are the semantic ones.
SYNTACTIC_PREFIX = "gram"


def read_similarity_pairs(path: Path) -> List[Tuple[str, str, float]]:
    """Word pairs with a human score: `word1 word2 score` per line, tab- or
    space-separated; lines starting with # are comments."""
    pairs = []
    with Path(path).open(encoding="utf8") as file_:
        for line_number, line in enumerate(file_, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split()
            try:
                pairs.append((fields[0], fields[1], float(fields[2])))
            except (IndexError, ValueError):
                raise ValueError(
                    f"{path}, line {line_number}: expected 'word1 word2 score'."
                ) from None
    if not pairs:
        raise ValueError(f"{path} has no word pairs.")
    return pairs


def spearman(x: numpy.ndarray, y: numpy.ndarray) -> float:
    """Spearman's rank correlation (ties get their average rank)."""
    rank_x, rank_y = _ranks(numpy.asarray(x)), _ranks(numpy.asarray(y))
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    denominator = numpy.sqrt((rank_x**2).sum() * (rank_y**2).sum())
    return float((rank_x * rank_y).sum() / denominator) if denominator else 0.0


def _ranks(values: numpy.ndarray) -> numpy.ndarray:
    order = numpy.argsort(values, kind="stable")
    ranks = numpy.empty(len(values), dtype="f8")
    ranks[order] = numpy.arange(len(values), dtype="f8")
    for value in numpy.unique(values):  # average over ties
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def evaluate_similarity(
    table: VectorTable, pairs: List[Tuple[str, str, float]], restrict: int = 300000
) -> Dict[str, float]:
    """Spearman between cosine similarity and human scores, over the pairs whose
    words both have vectors (case-insensitive, among the `restrict` most frequent
    words). Pairs with a missing word are left out and counted, as gensim does."""
    index = _case_insensitive_index(table.words[:restrict])
    unit = _unit_rows(table.vectors[: len(table.words[:restrict])])
    predicted, gold = [], []
    for word1, word2, score in pairs:
        row1, row2 = index.get(word1.lower()), index.get(word2.lower())
        if row1 is None or row2 is None:
            continue
        predicted.append(float(unit[row1] @ unit[row2]))
        gold.append(score)
    return {
        "spearman": spearman(numpy.array(predicted), numpy.array(gold))
        if gold
        else 0.0,
        "pairs": len(pairs),
        "oov_pairs": len(pairs) - len(gold),
    }


def read_analogies(path: Path) -> List[Tuple[str, List[Tuple[str, str, str, str]]]]:
    """Sections of `a b c d` questions (a is to b as c is to d), each section
    starting with a `: name` line, as in Google's questions-words.txt."""
    sections: List[Tuple[str, List[Tuple[str, str, str, str]]]] = []
    with Path(path).open(encoding="utf8") as file_:
        for line_number, line in enumerate(file_, start=1):
            if line.startswith(":"):
                sections.append((line[1:].strip(), []))
            elif line.strip():
                words = line.split()
                if len(words) != 4 or not sections:
                    raise ValueError(
                        f"{path}, line {line_number}: expected a ': section' line "
                        "or four words."
                    )
                sections[-1][1].append(tuple(words))  # type: ignore[arg-type]
    if not sections:
        raise ValueError(f"{path} has no analogy questions.")
    return sections


def evaluate_analogies(
    table: VectorTable, sections, restrict: int = 30000, batch_size: int = 1024
) -> Dict[str, float]:
    """3CosAdd accuracy: the answer to a:b :: c:? is the word nearest to
    b - a + c (unit vectors), other than a, b and c, among the `restrict` most
    frequent words. Case-insensitive; questions with a word outside the
    restricted vocabulary are skipped and counted."""
    words = [word.lower() for word in table.words[:restrict]]
    index = _case_insensitive_index(words)
    unit = _unit_rows(table.vectors[: len(words)])
    results: Dict[str, float] = {}
    correct = {"semantic": 0, "syntactic": 0}
    seen = {"semantic": 0, "syntactic": 0}
    total = 0
    for name, questions in sections:
        total += len(questions)
        rows = [
            [index[word.lower()] for word in question]
            for question in questions
            if all(word.lower() in index for word in question)
        ]
        n_correct = 0
        for start in range(0, len(rows), batch_size):
            batch = numpy.asarray(rows[start : start + batch_size])
            a, b, c, d = batch.T
            queries = _unit_rows(unit[b] - unit[a] + unit[c])
            similarity = queries @ unit.T
            for column in (a, b, c):
                similarity[numpy.arange(len(batch)), column] = -numpy.inf
            predicted = similarity.argmax(axis=1)
            n_correct += int((predicted == d).sum())
        kind = "syntactic" if name.startswith(SYNTACTIC_PREFIX) else "semantic"
        correct[kind] += n_correct
        seen[kind] += len(rows)
        results[name] = n_correct / len(rows) if rows else 0.0
    n_seen = seen["semantic"] + seen["syntactic"]
    return {
        "accuracy": (correct["semantic"] + correct["syntactic"]) / n_seen
        if n_seen
        else 0.0,
        "semantic": correct["semantic"] / seen["semantic"] if seen["semantic"] else 0.0,
        "syntactic": correct["syntactic"] / seen["syntactic"]
        if seen["syntactic"]
        else 0.0,
        "questions": total,
        "oov_questions": total - n_seen,
        "sections": results,
    }


def _case_insensitive_index(words: List[str]) -> Dict[str, int]:
    """Lower-cased word -> row of its most frequent spelling."""
    index: Dict[str, int] = {}
    for row, word in enumerate(words):
        index.setdefault(word.lower(), row)
    return index


def _unit_rows(matrix: numpy.ndarray) -> numpy.ndarray:
    norms = numpy.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / numpy.maximum(norms, 1e-12)
