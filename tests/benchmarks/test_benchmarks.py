"""The benchmark scripts run (on tiny settings; their numbers are in the README)."""

import pytest

from spacy_lstm.benchmarks.encoder_speed import make_batches, synthetic_doc_lengths
from spacy_lstm.benchmarks.long_dependency import train_and_score


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_long_dependency_runs(cell):
    result = train_and_score(
        cell, gap=3, steps=5, width=8, batch_size=4, lr=0.01, seed=0
    )
    assert result["cell"] == cell and 0.0 <= result["accuracy"] <= 1.0


def test_encoder_speed_batches():
    lengths = synthetic_doc_lengths(20, n_sents=2)
    batches = make_batches(lengths, batch_words=100, width=4)
    assert sum(len(X) for batch in batches for X in batch) == sum(lengths)
