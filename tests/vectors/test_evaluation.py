import numpy
import pytest

from spacy_lstm.vectors.evaluation import (
    evaluate_analogies,
    evaluate_similarity,
    read_analogies,
    read_similarity_pairs,
    spearman,
)
from spacy_lstm.vectors.word2vec_format import VectorTable


def test_spearman_matches_the_definition_with_ties():
    assert spearman(numpy.array([1, 2, 3]), numpy.array([10, 20, 30])) == pytest.approx(
        1
    )
    assert spearman(numpy.array([1, 2, 3]), numpy.array([3, 2, 1])) == pytest.approx(-1)
    # ties take the average rank: ranks x = [0.5, 0.5, 2], y = [0, 1, 2]
    x, y = numpy.array([1.0, 1.0, 2.0]), numpy.array([1.0, 2.0, 3.0])
    rx, ry = numpy.array([0.5, 0.5, 2]), numpy.array([0.0, 1, 2])
    expected = numpy.corrcoef(rx, ry)[0, 1]
    assert spearman(x, y) == pytest.approx(expected)


def table():
    words = ["king", "queen", "man", "woman", "Paris", "france", "berlin", "germany"]
    vectors = numpy.array(
        [[1, 1, 0], [1, -1, 0], [0, 1, 0.1], [0, -1, 0.1],
         [0, 0.1, 1], [1, 0.1, 1], [0, -0.1, 1.2], [1, -0.1, 1.2]],
        dtype="f",
    )  # fmt: skip
    return VectorTable(words, vectors)


def test_similarity_is_case_insensitive_and_counts_missing_pairs(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text(
        "# header\nKing\tqueen\t8\nking\tman\t6\nking\tparis\t1\nking\tunicorn\t5\n",
        encoding="utf8",
    )
    pairs = read_similarity_pairs(path)
    result = evaluate_similarity(table(), pairs)
    assert result["pairs"] == 4 and result["oov_pairs"] == 1
    assert -1 <= result["spearman"] <= 1


def test_analogies_3cosadd(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(
        ": capital\nparis france berlin germany\nparis france rome italy\n"
        ": gram-gender\nman woman king queen\n",
        encoding="utf8",
    )
    sections = read_analogies(path)
    result = evaluate_analogies(table(), sections, restrict=30000)
    assert result["questions"] == 3 and result["oov_questions"] == 1
    assert result["accuracy"] == 1.0
    assert result["semantic"] == 1.0 and result["syntactic"] == 1.0
    # restricted to the 4 most frequent words, the capital question drops out
    assert evaluate_analogies(table(), sections, restrict=4)["oov_questions"] == 2


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("one two\n", encoding="utf8")
    with pytest.raises(ValueError, match="line 1"):
        read_similarity_pairs(bad)
    with pytest.raises(ValueError, match="line 1"):
        read_analogies(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf8")
    with pytest.raises(ValueError, match="no word pairs"):
        read_similarity_pairs(empty)
