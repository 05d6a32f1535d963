import math

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example

from spacy_lstm.agreement import AgreementItem, read_linzen, score_items
from spacy_lstm.pipeline.language_model import LOG2

TEXT = ("the key is here\nthe keys are here\nthe key to the doors is here\n") * 20


@pytest.fixture(scope="module")
def lm():
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "lstm_lm",
        config={"key": "LOWER", "model": {"width": 16, "depth": 1, "dropout": 0.0}},
    )
    words = [w for line in TEXT.splitlines() for w in line.split() + ["\n"]]
    docs = [Doc(nlp.vocab, words=words[i : i + 12]) for i in range(0, len(words), 12)]
    examples = [Example(doc, doc) for doc in docs]
    nlp.initialize(lambda: examples)
    optimizer = nlp.create_optimizer()
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    return nlp.get_pipe("lstm_lm")


def test_candidate_log_probs_equal_the_surprisal_of_the_next_word(lm):
    prefixes = [["the", "key"], ["The", "keys", "to", "the", "doors"], []]
    got = lm.candidate_log_probs(prefixes, [["is", "are"], ["are"], ["the", "zebra"]])
    for prefix, log_probs, words in zip(
        prefixes, got, [["is", "are"], ["are"], ["the"]]
    ):
        for word, log_prob in zip(words, log_probs):
            units = [w.lower() for w in prefix + [word]]
            bits = lm._batch_surprisal([lm._ids(units)])[0]
            assert log_prob == pytest.approx(-bits[-1] * LOG2, abs=1e-5)
    assert got[2][1] is None  # "zebra" is not in the vocabulary


def test_batches_of_mixed_lengths_give_the_same_numbers(lm):
    prefixes = [["the"] * n for n in range(1, 9)]
    candidates = [["key", "keys"]] * len(prefixes)
    together = lm.candidate_log_probs(prefixes, candidates, batch_size=3)
    alone = [lm.candidate_log_probs([p], [c])[0] for p, c in zip(prefixes, candidates)]
    numpy.testing.assert_allclose(together, alone, atol=1e-5)


def test_score_items_counts_what_is_more_probable(lm):
    items = [
        AgreementItem(["the", "key"], "is", "are", "0", ""),
        AgreementItem(["the", "key"], "are", "is", "0", ""),  # reversed
        AgreementItem(["the", "keys"], "are", "is", "1", ""),
        AgreementItem(["the", "key"], "is", "zebra", "4", ""),
        AgreementItem(["the", "key"], "is", "are", "7", ""),
    ]
    log_probs = lm.candidate_log_probs(
        [i.prefix for i in items], [[i.correct, i.wrong] for i in items]
    )
    right = [c is not None and w is not None and c > w for c, w in log_probs]
    result = score_items(lm, items, pool_from=3)
    assert result["items"] == 5 and result["scored"] == 4 and result["unscored"] == 1
    assert list(result["groups"]) == ["0", "1", "3+"]
    assert result["groups"]["0"] == {"items": 2, "accuracy": (right[0] + right[1]) / 2}
    assert result["groups"]["3+"] == {"items": 1, "accuracy": float(right[4])}
    assert math.isclose(
        result["accuracy"], (right[0] + right[1] + right[2] + right[4]) / 4
    )
    # exactly one of an item and its reverse is right (no ties)
    assert right[0] != right[1]


def test_score_items_needs_items_and_a_word_model(lm):
    with pytest.raises(ValueError, match="No agreement items"):
        score_items(lm, [])
    nlp = spacy.blank("en")
    char_lm = nlp.add_pipe("lstm_lm", config={"level": "char"})
    with pytest.raises(ValueError, match="word-level model"):
        char_lm.candidate_log_probs([["a"]], [["b", "c"]])


def test_items_whose_forms_are_the_same_are_counted_apart(lm, tmp_path):
    """As in Gulordava et al.'s set, read with read_linzen: 4 of its 7,489
    items cannot be scored, and the rest are."""
    sentences = tmp_path / "sents.txt"
    gold = tmp_path / "gold.txt"
    sentences.write_text("the key is here\nthe keys are here\n", encoding="utf8")
    gold.write_text("2\tis\tare\t0\n2\tare\tare\t0\n", encoding="utf8")
    items = read_linzen(sentences, gold)
    with pytest.warns(UserWarning, match=r"1 agreement items .*gold.txt, line 2\."):
        result = score_items(lm, items)
    assert result["items"] == 2 and result["same_forms"] == 1
    assert result["scored"] == 1 and result["groups"]["0"]["items"] == 1
    with pytest.warns(UserWarning):
        with pytest.raises(ValueError, match="No agreement items"):
            score_items(lm, items[1:])
