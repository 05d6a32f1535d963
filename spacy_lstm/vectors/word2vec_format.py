"""Read and write the word2vec text (.txt) and binary (.bin) formats."""

from pathlib import Path
from typing import Callable, Iterable, List, NamedTuple

import numpy


class VectorTable(NamedTuple):
    """Words, most frequent first, and their vectors (one row each)."""

    words: List[str]
    vectors: numpy.ndarray


def table_from_vectors(vectors, strings) -> VectorTable:
    """A spaCy Vectors table as words and rows, in row order: most frequent
    first for vectors trained by word2vec."""
    by_row = sorted(vectors.key2row.items(), key=lambda item: item[1])
    data = vectors.data
    data = data.get() if hasattr(data, "get") else numpy.asarray(data)  # cupy -> numpy
    words = [strings[key] for key, _ in by_row]
    return VectorTable(words, data[[row for _, row in by_row]])


def is_binary(path: Path) -> bool:
    """Whether the path names the binary word2vec format (.bin)."""
    return Path(path).suffix == ".bin"


def write_word2vec(
    path: Path,
    table: VectorTable,
    wrap_rows: Callable[[Iterable, int], Iterable] = lambda rows, n: rows,
) -> None:
    """Write the table in the binary format if path ends in .bin, else as text.
    wrap_rows wraps the rows as they are written (a progress bar)."""
    path = Path(path)
    vectors = numpy.asarray(table.vectors, dtype="<f4")
    for word in table.words:
        if not word or any(char.isspace() for char in word):
            raise ValueError(
                f"Cannot write {word!r} in the word2vec format: words must be "
                "non-empty and contain no whitespace."
            )
    with path.open("wb") as file_:
        file_.write(f"{len(table.words)} {vectors.shape[1]}\n".encode("utf8"))
        for word, row in wrap_rows(zip(table.words, vectors), len(table.words)):
            if is_binary(path):
                # word2vec.c's layout: word, a space, the raw floats, a newline
                file_.write(word.encode("utf8") + b" " + row.tobytes() + b"\n")
            else:
                values = " ".join(f"{value:.6g}" for value in row.tolist())
                file_.write(f"{word} {values}\n".encode("utf8"))


def read_word2vec(path: Path) -> VectorTable:
    """Read a word2vec file written by word2vec.c, gensim or write_word2vec."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Vectors file not found: {path}")
    with path.open("rb") as file_:
        header = file_.readline().split()
        try:
            n_words, dim = int(header[0]), int(header[1])
        except (IndexError, ValueError):
            raise ValueError(
                f"{path}: the first line must be '<words> <dimensions>' "
                "(the word2vec format)."
            ) from None
        if is_binary(path):
            return _read_binary(file_, path, n_words, dim)
        words = []
        vectors = numpy.zeros((n_words, dim), dtype="f")
        for i, line in enumerate(file_):
            if i >= n_words:
                break
            fields = line.decode("utf8").rstrip().split(" ")
            if len(fields) != dim + 1:
                raise ValueError(
                    f"{path}, line {i + 2}: expected a word and {dim} numbers, "
                    f"got {len(fields)} fields."
                )
            words.append(fields[0])
            vectors[i] = numpy.asarray(fields[1:], dtype="f")
    if len(words) != n_words:
        raise ValueError(
            f"{path}: the header promises {n_words} words, found {len(words)}."
        )
    return VectorTable(words, vectors)


def _read_binary(file_, path: Path, n_words: int, dim: int) -> VectorTable:
    data = file_.read()
    words = []
    vectors = numpy.zeros((n_words, dim), dtype="f")
    pos = 0
    row_bytes = 4 * dim
    for i in range(n_words):
        while pos < len(data) and data[pos : pos + 1] == b"\n":
            pos += 1
        end = data.find(b" ", pos)
        if end < 0 or end + 1 + row_bytes > len(data):
            raise ValueError(f"{path}: truncated after {i} of {n_words} words.")
        words.append(data[pos:end].decode("utf8"))
        vectors[i] = numpy.frombuffer(data, dtype="<f4", count=dim, offset=end + 1)
        pos = end + 1 + row_bytes
    return VectorTable(words, vectors)
