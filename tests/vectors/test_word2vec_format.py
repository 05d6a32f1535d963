import numpy
import pytest

from spacy_lstm.vectors.word2vec_format import (
    VectorTable,
    read_word2vec,
    write_word2vec,
)


@pytest.mark.parametrize("suffix", [".txt", ".bin"])
def test_round_trip(tmp_path, suffix):
    rng = numpy.random.default_rng(0)
    table = VectorTable(["the", "café", "🙂", "x"], rng.normal(size=(4, 5)).astype("f"))
    path = tmp_path / f"vectors{suffix}"
    write_word2vec(path, table)
    loaded = read_word2vec(path)
    assert loaded.words == table.words
    if suffix == ".bin":
        assert numpy.array_equal(loaded.vectors, table.vectors)
    else:
        numpy.testing.assert_allclose(loaded.vectors, table.vectors, rtol=1e-5)


def test_gensim_reads_our_files(tmp_path):
    gensim = pytest.importorskip("gensim")
    table = VectorTable(["a", "b"], numpy.eye(2, 3, dtype="f"))
    for suffix in (".txt", ".bin"):
        path = tmp_path / f"v{suffix}"
        write_word2vec(path, table)
        kv = gensim.models.KeyedVectors.load_word2vec_format(
            str(path), binary=suffix == ".bin"
        )
        assert kv.index_to_key == ["a", "b"]
        assert numpy.allclose(kv["b"], table.vectors[1])


def test_bad_tables_and_files(tmp_path):
    with pytest.raises(ValueError, match="whitespace"):
        write_word2vec(
            tmp_path / "v.txt", VectorTable(["a b"], numpy.zeros((1, 2), "f"))
        )
    with pytest.raises(ValueError, match="not found"):
        read_word2vec(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n", encoding="utf8")
    with pytest.raises(ValueError, match="first line"):
        read_word2vec(bad)
    short = tmp_path / "short.txt"
    short.write_text("2 2\na 1 2\n", encoding="utf8")
    with pytest.raises(ValueError, match="promises 2 words"):
        read_word2vec(short)
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(b"1 4\nword " + b"\x00" * 6)
    with pytest.raises(ValueError, match="truncated"):
        read_word2vec(truncated)
