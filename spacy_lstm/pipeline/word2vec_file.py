"""Train a word2vec component straight from a tokenized text file.

`spacy train` hands word2vec one `Doc` and two `Example`s per batch of text,
about 1 microsecond per word per epoch of Python objects on the main thread:
more than CBOW's training itself (docs/benchmarks.md). Here the file is read
once, each line split on whitespace and its words turned into integer ids as
it is read; the component's numba kernel then trains on those ids for every
epoch, in threads that share the vectors without locks, as gensim's
`corpus_file` mode does. The vectors, settings and saved pipeline are the
component's own.
"""

import os
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..models.word2vec import key_attr_id
from ..training.readers import PlainTextCorpus
from ..vectors.sgns import train_sentences
from .word2vec import (
    KeyCounter,
    Word2Vec,
    kernel_arguments,
    learning_rate,
    split_sentences,
)

# gensim's corpus_file mode cuts lines into sentences of at most this many words.
MAX_WORDS = 10_000
# Words per thread between two progress reports (and thread synchronisations).
CHUNK_WORDS = 1 << 20
# The id of words outside the vocabulary: never found among the rows.
OUT_OF_VOCABULARY = numpy.uint64(2**64 - 1)


class _WordIds(dict):
    """word -> id, a new id for each new word, in the order first seen."""

    def __missing__(self, word: str) -> int:
        self[word] = len(self)
        return self[word]


class EncodedCorpus:
    """A text file as integer word ids: `ids` (one per word, in file order),
    `starts` (where each line begins in `ids`, and the end) and `words` (the
    string of each id). Lines longer than MAX_WORDS are cut into pieces."""

    def __init__(self, path: Path) -> None:
        word_ids = _WordIds()
        ids = array("i")
        starts = array("q", [0])
        reader = PlainTextCorpus(
            path, pretokenized=True, doc_words=1, max_words=MAX_WORDS, limit=0
        )
        for line in reader.lines():
            ids.extend(map(word_ids.__getitem__, line.split()))
            starts.append(len(ids))
        self.path = path
        self.ids = numpy.frombuffer(ids, dtype=numpy.int32)
        self.starts = numpy.frombuffer(starts, dtype=numpy.int64)
        self.words: List[str] = list(word_ids)
        if not len(self.ids):
            raise ValueError(
                f"{path} has no words: it is empty or holds only blank lines."
            )

    def word_counts(self) -> numpy.ndarray:
        """How often each word id occurs."""
        return numpy.bincount(self.ids, minlength=len(self.words))


def initialize_from_corpus(component: Word2Vec, corpus: EncodedCorpus) -> numpy.ndarray:
    """Count the vocabulary as the component would (words keyed by its
    `attr`, min_count, max_vocab), create its vectors, and return the row of
    each word id (OUT_OF_VOCABULARY for words left out)."""
    vocab: Vocab = component.vocab
    attr = key_attr_id(component.model)
    # One doc of the distinct words keys them as tokens of those words are
    # (LOWER merges "Cook" and "cook").
    word_keys = Doc(vocab, words=corpus.words).to_array(attr).astype(numpy.uint64)
    distinct, inverse = numpy.unique(word_keys, return_inverse=True)
    key_counts = numpy.bincount(inverse, weights=corpus.word_counts()).astype("int64")
    counter = KeyCounter(attr)
    counter.counts = dict(zip(distinct.tolist(), key_counts.tolist()))
    counter.n_words = len(corpus.ids)
    attrs = component.model.attrs
    keys, counts = counter.vocabulary(attrs["min_count"], attrs["max_vocab"])
    component.create_vectors(keys, counts, len(corpus.ids))
    # rows follow the vocabulary's order, most frequent first
    row_of_distinct = numpy.full(len(distinct), OUT_OF_VOCABULARY, dtype=numpy.uint64)
    found = numpy.searchsorted(distinct, keys)
    row_of_distinct[found] = numpy.arange(len(keys), dtype=numpy.uint64)
    return row_of_distinct[inverse]


def train_on_corpus(
    component: Word2Vec,
    corpus: EncodedCorpus,
    threads: int = 0,
    report: Optional[Callable[[Dict], None]] = None,
) -> Dict:
    """Initialise the component on the corpus and train it for its planned
    epochs. The learning rate falls linearly from alpha to min_alpha over all
    of them, as in `spacy train`. report, when given, receives the progress
    about once per CHUNK_WORDS words per thread.

    threads (int): Threads training at once; 0: one per CPU core.
    RETURNS (Dict): Words, vocabulary size, epochs, seconds and words/s.
    """
    start = time.perf_counter()
    word_rows = initialize_from_corpus(component, corpus)
    rows = word_rows[corpus.ids]
    attrs = component.model.attrs
    n_threads = threads or len(os.sched_getaffinity(0))
    n_rows = component.vocab.vectors.shape[0]
    # The kernel looks each id up among sorted keys: here the ids are the rows.
    rows_in_order = numpy.arange(n_rows, dtype=numpy.int64)
    lookup = (rows_in_order.astype(numpy.uint64), rows_in_order)
    n_words, epochs = len(rows), attrs["epochs"]
    planned = n_words * epochs
    chunks = _chunks(corpus.starts, CHUNK_WORDS * n_threads)
    trained, loss, n_pred = 0, 0.0, 0
    train_start = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool:
        for epoch in range(epochs):
            for first, last in chunks:
                starts = corpus.starts[first : last + 1]
                size = int(starts[-1] - starts[0])
                alphas = (
                    learning_rate(attrs, trained / planned),
                    learning_rate(attrs, (trained + size) / planned),
                )
                lo = int(starts[0])
                jobs = [
                    pool.submit(train_sentences, *arguments)
                    for arguments in kernel_arguments(
                        component,
                        lookup,
                        rows[lo : lo + size],
                        starts - lo,
                        alphas,
                        seed=attrs["seed"] * 1_000_003 + trained * 31,
                        n_parts=n_threads,
                    )
                ]
                for job in jobs:
                    job_loss, job_predictions = job.result()
                    loss += job_loss
                    n_pred += job_predictions
                trained += size
                if report is not None:
                    seconds = time.perf_counter() - train_start
                    report(
                        {
                            "epoch": epoch + 1,
                            "epochs": epochs,
                            "done": trained / planned,
                            "words_per_second": trained / max(seconds, 1e-9),
                            "alpha": alphas[1],
                            "loss": loss / max(n_pred, 1),
                        }
                    )
    attrs["words_trained"] = trained
    seconds = time.perf_counter() - start
    return {
        "words": n_words,
        "vocabulary": n_rows,
        "epochs": epochs,
        "threads": n_threads,
        "loss": loss / max(n_pred, 1),
        "seconds": seconds,
        "words_per_second": trained / max(time.perf_counter() - train_start, 1e-9),
    }


def _chunks(starts: numpy.ndarray, words: int) -> List[Tuple[int, int]]:
    """Runs of whole lines (first, last line index) of about `words` words."""
    n_lines = len(starts) - 1
    n_chunks = max(1, int(round(int(starts[-1]) / words)))
    return split_sentences(starts, n_chunks) if n_lines else []
