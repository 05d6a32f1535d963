import random

import numpy
import pytest
import spacy
from spacy.attrs import LOWER
from spacy.tokens import Doc
from spacy.training import Example

from spacy_lstm.pipeline.word2vec import KeyCounter
from spacy_lstm.vectors.evaluation import evaluate_similarity, read_similarity_pairs
from spacy_lstm.vectors.word2vec_format import table_from_vectors

ANIMALS = ["cat", "dog", "mouse", "horse", "cow", "sheep"]
MACHINES = ["car", "engine", "truck", "wheel", "motor", "bus"]


def topic_corpus(n_sentences=600, seed=0):
    """Sentences drawn from one of two topics: words co-occur within a topic."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_sentences):
        topic = rng.choice([ANIMALS, MACHINES])
        lines.append(" ".join(rng.choice(topic) for _ in range(8)))
    return lines


def make_nlp(**model):
    nlp = spacy.blank("en")
    settings = dict(vector_size=24, min_count=1, epochs=5, window=3, sample=0.0)
    settings.update(model)
    nlp.add_pipe("word2vec", config={"model": settings, "threads": 2})
    return nlp


def examples_for(nlp, lines):
    docs = [nlp.make_doc(line) for line in lines]
    return [Example(doc, doc) for doc in docs]


def train(nlp, lines, epochs=5, batch=50):
    examples = examples_for(nlp, lines)
    nlp.initialize(lambda: examples)
    for _ in range(epochs):
        for start in range(0, len(examples), batch):
            nlp.update(examples[start : start + batch])
    nlp.get_pipe("word2vec").wait()  # updates return while the threads train
    return nlp


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_words_that_cooccur_end_up_closer(architecture):
    nlp = train(make_nlp(architecture=architecture), topic_corpus())
    vocab = nlp.vocab

    def sim(a, b):
        return vocab[a].similarity(vocab[b])

    within = numpy.mean([sim(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = numpy.mean([sim(a, b) for a in ANIMALS for b in MACHINES])
    assert within > across + 0.3, (within, across)


def test_vectors_land_in_the_vocab_keyed_by_lower_case():
    nlp = train(make_nlp(), topic_corpus(200))
    vectors = nlp.vocab.vectors
    assert vectors.shape == (len(ANIMALS) + len(MACHINES), 24)
    doc = nlp("Cat CAT cat unknownword")
    assert numpy.array_equal(doc[0].vector, doc[2].vector)
    assert numpy.array_equal(doc[1].vector, doc[2].vector)
    assert doc[0].has_vector and not doc[3].has_vector
    assert doc[0].similarity(doc[1]) == pytest.approx(1.0)
    keys, _, scores = vectors.most_similar(doc[2].vector[None, :], n=3)
    assert nlp.vocab.strings[int(keys[0][0])] == "cat"


def test_table_is_ordered_by_frequency_and_respects_min_count_and_max_vocab():
    lines = ["a a a a b b b c c d"] * 3
    nlp = train(make_nlp(min_count=6), lines, epochs=1)
    rows = sorted(nlp.vocab.vectors.key2row.items(), key=lambda kv: kv[1])
    assert [nlp.vocab.strings[k] for k, _ in rows] == ["a", "b", "c"]
    nlp = train(make_nlp(max_vocab=2), lines, epochs=1)
    assert nlp.vocab.vectors.shape[0] == 2


def test_context_windows_stop_at_line_breaks_and_sentence_starts():
    nlp = train(make_nlp(), topic_corpus(50), epochs=1)
    state = nlp.get_pipe("word2vec").training_state()
    doc = nlp.make_doc("cat dog  car\n\nbus  engine")
    keys, starts = state.encode([doc, nlp.make_doc("horse cow")])
    assert [nlp.vocab.strings[int(k)] for k in keys] == [
        "cat", "dog", "car", "bus", "engine", "horse", "cow"
    ]  # fmt: skip
    assert starts.tolist() == [0, 3, 5, 7]
    doc = Doc(nlp.vocab, words="cat dog car bus".split(), sent_starts=[1, 0, 1, 0])
    assert state.encode([doc])[1].tolist() == [0, 2, 4]


def test_counter_leaves_whitespace_out():
    nlp = spacy.blank("en")
    counter = KeyCounter(LOWER)
    counter.add(nlp.make_doc("The  cat\n\nthe"))
    keys, counts = counter.vocabulary(min_count=1, max_vocab=None)
    assert [nlp.vocab.strings[int(k)] for k in keys] == ["the", "cat"]
    assert counts.tolist() == [2, 1]
    assert counter.n_words == 3


def test_round_trip_is_exact(tmp_path):
    nlp = train(make_nlp(), topic_corpus(100), epochs=2)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert numpy.array_equal(loaded.vocab.vectors.data, nlp.vocab.vectors.data)
    assert loaded("dog")[0].vector.tolist() == nlp("dog")[0].vector.tolist()
    # keyed by LOWER after loading too (spaCy itself saves that only for floret)
    assert loaded("DOG")[0].vector.tolist() == nlp("dog")[0].vector.tolist()
    assert loaded("Dog")[0].has_vector
    w2v, w2v_loaded = nlp.get_pipe("word2vec"), loaded.get_pipe("word2vec")
    assert numpy.array_equal(
        w2v.model.get_param("syn1neg"), w2v_loaded.model.get_param("syn1neg")
    )
    assert w2v_loaded.model.attrs["words_trained"] == w2v.model.attrs["words_trained"]
    # training goes on from where it was, identically in both
    nlp.get_pipe("word2vec").cfg["threads"] = loaded.get_pipe("word2vec").cfg[
        "threads"
    ] = 1
    batch = examples_for(nlp, topic_corpus(20, seed=3))
    nlp.update(batch)
    loaded.update(examples_for(loaded, topic_corpus(20, seed=3)))
    w2v.wait()
    w2v_loaded.wait()
    assert numpy.array_equal(loaded.vocab.vectors.data, nlp.vocab.vectors.data)
    restored = make_nlp().from_bytes(nlp.to_bytes())
    assert numpy.array_equal(restored.vocab.vectors.data, nlp.vocab.vectors.data)
    assert numpy.array_equal(
        restored.get_pipe("word2vec").model.get_param("syn1neg"),
        w2v.model.get_param("syn1neg"),
    )


def test_one_thread_is_reproducible():
    def vectors():
        nlp = make_nlp()
        nlp.get_pipe("word2vec").cfg["threads"] = 1
        return train(nlp, topic_corpus(100), epochs=2).vocab.vectors.data.copy()

    assert numpy.array_equal(vectors(), vectors())


def test_empty_references_train_the_same_vectors():
    """word2vec reads only the predicted docs, so the reader's cheaper
    empty_reference Examples must give exactly the same vectors."""

    def vectors(empty_reference):
        nlp = make_nlp()
        nlp.get_pipe("word2vec").cfg["threads"] = 1
        empty = Doc(nlp.vocab)
        docs = [nlp.make_doc(line) for line in topic_corpus(100)]
        examples = [Example(doc, empty if empty_reference else doc) for doc in docs]
        nlp.initialize(lambda: examples)
        for _ in range(2):
            for start in range(0, len(examples), 50):
                nlp.update(examples[start : start + 50])
        nlp.get_pipe("word2vec").wait()
        return nlp.vocab.vectors.data.copy()

    assert numpy.array_equal(vectors(True), vectors(False))


def test_learning_rate_decays_over_the_planned_words():
    nlp = make_nlp(epochs=2)
    examples = examples_for(nlp, topic_corpus(50))
    nlp.initialize(lambda: examples)
    w2v = nlp.get_pipe("word2vec")
    assert w2v.model.attrs["planned_words"] == 2 * 50 * 8
    nlp.update(examples)
    assert w2v.model.attrs["words_trained"] == 50 * 8


def test_bad_input():
    nlp = make_nlp()
    with pytest.raises(ValueError, match="not initialized"):
        nlp.update(examples_for(nlp, ["a b c"]))
    with pytest.raises(ValueError, match="no words"):
        nlp.initialize(lambda: examples_for(nlp, ["", " "]))
    nlp = make_nlp(min_count=5)
    with pytest.raises(ValueError, match="min_count=5"):
        nlp.initialize(lambda: examples_for(nlp, ["a b c d e f g"]))
    # empty docs, whitespace, emoji and unknown words train and run without error
    nlp = train(make_nlp(), ["a b c a b c", "x 🙂 y 🙂"], epochs=1)
    nlp.update(examples_for(nlp, ["", "   ", "🙂🙂 never seen", "a"]))
    assert nlp("").text == ""
    assert not nlp("never")[0].has_vector


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("architecture", "glove", "architecture"),
        ("attr", "SHAPE", "attr"),
        ("window", 0, "window"),
        ("negative", 0, "negative"),
        ("min_alpha", 0.5, "min_alpha"),
    ],
)
def test_bad_settings_are_clear(setting, value, message):
    with pytest.raises(ValueError, match=message):
        make_nlp(**{setting: value})


def test_missing_or_corrupt_weights(tmp_path):
    nlp = train(make_nlp(), topic_corpus(50), epochs=1)
    nlp.to_disk(tmp_path / "p")
    (tmp_path / "p" / "word2vec" / "model").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        spacy.load(tmp_path / "p")
    (tmp_path / "p" / "word2vec" / "model").unlink()
    with pytest.raises(ValueError, match="weights file is missing"):
        spacy.load(tmp_path / "p")


def test_scorer_reports_spearman(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "# comment\ncat\tdog\t9\ncat\tcar\t1\nbus\tcar\t8\n", encoding="utf8"
    )
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "word2vec",
        config={
            "model": {"vector_size": 16, "min_count": 1, "sample": 0.0},
            "scorer": {
                "@scorers": "spacy-lstm.word2vec_scorer.v1",
                "similarity": str(pairs),
            },
        },
    )
    examples = examples_for(nlp, topic_corpus(300))
    nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples)
    scores = nlp.evaluate(examples[:5])
    table = table_from_vectors(nlp.vocab.vectors, nlp.vocab.strings)
    expected = evaluate_similarity(table, read_similarity_pairs(pairs))["spearman"]
    assert scores["word2vec_spearman"] == pytest.approx(expected)
    assert make_nlp().evaluate(examples[:1])["word2vec_spearman"] is None

    # the file is read when scoring: a saved pipeline loads without it
    nlp.to_disk(tmp_path / "p")
    pairs.unlink()
    moved = spacy.load(tmp_path / "p")
    with pytest.warns(UserWarning, match="not there"):
        assert moved.evaluate(examples[:5])["word2vec_spearman"] is None


def test_static_vectors_for_another_component(tmp_path):
    nlp = train(make_nlp(), topic_corpus(100), epochs=1)
    nlp.to_disk(tmp_path / "vectors")
    tagger_nlp = spacy.blank("en")
    tagger = tagger_nlp.add_pipe(
        "tagger",
        config={
            "model": {
                "@architectures": "spacy.Tagger.v2",
                "tok2vec": {
                    "@architectures": "spacy.Tok2Vec.v2",
                    "embed": {
                        "@architectures": "spacy.MultiHashEmbed.v2",
                        "width": 16, "attrs": ["NORM"], "rows": [100],
                        "include_static_vectors": True,
                    },
                    "encode": {
                        "@architectures": "spacy-lstm.BiLSTMEncoder.v1",
                        "width": 16, "depth": 1, "dropout": 0.0,
                    },
                },
            }
        },
    )  # fmt: skip
    tagger_nlp.config["initialize"]["vectors"] = str(tmp_path / "vectors")
    words = "cat dog car".split()
    gold = Doc(tagger_nlp.vocab, words=words, tags=["N", "N", "N"])
    example = Example(tagger_nlp.make_doc("cat dog car"), gold)
    tagger_nlp.initialize(lambda: [example])
    assert tagger_nlp.vocab.vectors.shape == nlp.vocab.vectors.shape
    tagger_nlp.update([example])
    assert tagger.model.predict([tagger_nlp("cat dog")])[0].shape == (2, 1)
