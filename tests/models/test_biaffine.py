import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import registry

from spacy_lstm.models.biaffine import (
    ParserInput,
    build_biaffine_parser,
    sentence_grid,
    set_n_labels,
)


def tok2vec(width=16):
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=width,
        attrs=["NORM", "SHAPE"],
        rows=[100, 50],
        include_static_vectors=False,
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(width, 1, 0.0)
    return registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)


@pytest.mark.parametrize("lengths", [[1], [3, 5, 2], [40, 1, 1, 1, 1, 7]])
def test_sentence_grid(lengths):
    groups, tensors, token_rows, head_rows = sentence_grid(lengths)
    n_tokens = sum(lengths)
    starts = numpy.cumsum(lengths) - lengths
    assert sorted(s for g in groups for s in g) == list(range(len(lengths)))
    offset = 0
    for sents, (index, mask) in zip(groups, tensors):
        steps = index.shape[1]
        for row, sent in enumerate(sents):
            n = lengths[sent]
            assert index[row, 0] == n_tokens  # ROOT
            assert list(index[row, 1 : n + 1]) == list(
                range(starts[sent], starts[sent] + n)
            )
            assert not mask[row, 0].any() and not mask[row, n + 1 :].any()
            assert mask[row, 1 : n + 1, : n + 1].sum() == n * n  # all but self-loops
            for i in range(n):
                token = starts[sent] + i
                assert token_rows[token] == offset + row * steps + i + 1
                assert head_rows[token] == offset + row * steps
        offset += len(sents) * steps


def test_outputs_and_label_resizing():
    nlp = spacy.blank("en")
    model = build_biaffine_parser(
        tok2vec(), arc_width=8, label_width=4, dropout=0.0, nO=3
    )
    docs = [nlp("I saw a girl with a telescope ."), nlp("Hello")]
    model.initialize(X=ParserInput(docs, [8, 1]))
    output = model.predict(ParserInput(docs, [3, 5, 1]))
    assert output.labels.shape == (9, 3)
    assert sorted(s for g in output.groups for s in g) == [0, 1, 2]
    assert output.heads.tolist()[-1] == 0  # a one-word sentence hangs on ROOT
    set_n_labels(model, 5)
    assert model.predict(ParserInput(docs, [8, 1])).labels.shape == (9, 5)
    fresh = build_biaffine_parser(tok2vec(), arc_width=8, label_width=4, dropout=0.0)
    fresh.from_bytes(model.to_bytes())
    assert fresh.get_dim("nO") == 5
    numpy.testing.assert_array_equal(
        fresh.predict(ParserInput(docs, [8, 1])).labels,
        model.predict(ParserInput(docs, [8, 1])).labels,
    )


def test_sentence_lengths_must_cover_the_tokens():
    nlp = spacy.blank("en")
    model = build_biaffine_parser(
        tok2vec(), arc_width=8, label_width=4, dropout=0.0, nO=2
    )
    docs = [nlp("One two three")]
    model.initialize(X=ParserInput(docs, [3]))
    with pytest.raises(ValueError, match="Sentence lengths"):
        model.predict(ParserInput(docs, [2]))
    with pytest.raises(ValueError, match="Sentence lengths"):
        model.predict(ParserInput(docs, [3, 0]))


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="arc_width"):
        build_biaffine_parser(tok2vec(), arc_width=0)
    with pytest.raises(ValueError, match="dropout"):
        build_biaffine_parser(tok2vec(), dropout=1.5)


def test_inference_in_chunks_gives_the_same_output(monkeypatch):
    """Past SCORE_CHUNK tokens, inference scores runs of sentences in turn:
    the same heads, labels and arcs as one run."""
    from spacy_lstm.models import biaffine

    nlp = spacy.blank("en")
    words = "the cat sat on the mat and then it slept".split()
    docs = [Doc(nlp.vocab, words=words * 3)]
    model = build_biaffine_parser(tok2vec(), arc_width=8, label_width=4, nO=5)
    lengths = [4, 10, 3, 9, 4]
    model.initialize(X=ParserInput(docs, lengths))
    whole = model.predict(ParserInput(docs, lengths))
    monkeypatch.setattr(biaffine, "SCORE_CHUNK", 12)
    chunked = model.predict(ParserInput(docs, lengths))
    numpy.testing.assert_array_equal(chunked.heads, whole.heads)
    numpy.testing.assert_allclose(chunked.labels, whole.labels, rtol=1e-5, atol=1e-6)
    by_sentence = {}
    for output in (whole, chunked):
        for arcs, group in zip(output.arcs, output.groups):
            for row, sent in enumerate(group):
                n = lengths[sent] + 1
                by_sentence.setdefault(sent, []).append(arcs[row, :n, :n])
    for sent, (a, b) in by_sentence.items():
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
