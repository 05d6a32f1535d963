import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Adam

from spacy_lstm.models.chars import build_char_embed, char_rows

WORDS, CHARS = 16, 8


def words_embed():
    return registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=WORDS, attrs=["NORM"], rows=[100], include_static_vectors=False
    )


@pytest.fixture
def nlp():
    return spacy.blank("en")


@pytest.fixture
def embed(nlp):
    model = build_char_embed(words_embed(), width=CHARS)
    model.initialize(X=[nlp("a warm-up doc")])
    return model


def test_shape(nlp, embed):
    docs = [nlp("Hello wonderful world ."), nlp("Two words")]
    Ys = embed.predict(docs)
    assert embed.get_dim("nO") == WORDS + CHARS
    assert [Y.shape for Y in Ys] == [(4, WORDS + CHARS), (2, WORDS + CHARS)]
    # the first part is the word embedding's own output
    numpy.testing.assert_array_equal(Ys[0][:, :WORDS], embed.layers[0].predict(docs)[0])


def test_batching_equals_one_by_one(nlp, embed):
    docs = [
        nlp(text)
        for text in ("A short one .", "antidisestablishmentarianism is long", "x")
    ]
    together = embed.predict(docs)
    for doc, Y in zip(docs, together):
        numpy.testing.assert_allclose(embed.predict([doc])[0], Y, atol=1e-6)


def test_each_word_type_is_read_once(nlp):
    chars, index = char_rows([nlp("the cat and the dog"), nlp("the end")], 1000, 24)
    assert len(chars) == 5  # the, cat, and, dog, end
    assert index.tolist() == [0, 1, 2, 0, 3, 0, 4]


def test_case_and_unseen_characters(nlp, embed):
    Y = embed.predict([nlp("Paris paris 日本 🙂 ǅ")])[0]
    assert numpy.isfinite(Y).all()
    chars = Y[:, WORDS:]
    assert not numpy.allclose(chars[0], chars[1])  # case is seen
    assert not numpy.allclose(chars[2], chars[3])


def test_empty_and_very_long_words(nlp, embed):
    long_word = "a" * 5000 + "b" * 5000
    # spaCy has no empty tokens; whitespace tokens are the shortest with no letter
    doc = Doc(nlp.vocab, words=["\n", long_word, "x"], spaces=[False, True, False])
    Y = embed.predict([doc, nlp("")])
    assert Y[0].shape == (3, WORDS + CHARS) and Y[1].shape == (0, WORDS + CHARS)
    assert numpy.isfinite(Y[0]).all()
    # a long word is read as its first and last max_chars / 2 characters
    short = Doc(nlp.vocab, words=["a" * 12 + "b" * 12])
    numpy.testing.assert_allclose(
        embed.predict([short])[0][0, WORDS:], Y[0][1, WORDS:], atol=1e-6
    )


def test_training_moves_the_character_weights(nlp, embed):
    docs = [nlp("Hello world"), nlp("")]
    cnn = embed.layers[1].shims[0]._model
    before = cnn.conv.weight.detach().clone()
    Ys, backprop = embed.begin_update(docs)
    backprop([numpy.ones_like(Y) for Y in Ys])
    embed.finish_update(Adam(0.01))
    assert not numpy.allclose(before.numpy(), cnn.conv.weight.detach().numpy())


def test_serialization_round_trip(nlp, embed):
    docs = [nlp("Round trip of Ünïcode words")]
    copy = build_char_embed(words_embed(), width=CHARS)
    copy.initialize(X=docs)
    copy.from_bytes(embed.to_bytes())
    numpy.testing.assert_array_equal(copy.predict(docs)[0], embed.predict(docs)[0])


def test_in_a_tok2vec_with_the_encoder(nlp):
    model = registry.resolve(
        {
            "t2v": {
                "@architectures": "spacy-lstm.WindowedTok2Vec.v1",
                "window": 4,
                "context": 1,
                "embed": {
                    "@architectures": "spacy-lstm.CharEmbed.v1",
                    "width": CHARS,
                    "words": {
                        "@architectures": "spacy.MultiHashEmbed.v2",
                        "width": WORDS,
                        "attrs": ["NORM"],
                        "rows": [100],
                        "include_static_vectors": False,
                    },
                },
                "encode": {
                    "@architectures": "spacy-lstm.BiLSTMEncoder.v1",
                    "width": 8,
                    "depth": 1,
                    "dropout": 0.0,
                    "nI": WORDS + CHARS,
                },
            }
        }
    )["t2v"]
    docs = [nlp("one two three four five six seven"), nlp("short")]
    model.initialize(X=docs)
    assert [Y.shape for Y in model.predict(docs)] == [(7, 8), (1, 8)]


@pytest.mark.parametrize(
    "setting", [{"width": 0}, {"window": 2}, {"rows": 3}, {"max_chars": 0}]
)
def test_bad_settings(setting):
    with pytest.raises(ValueError, match="CharEmbed"):
        build_char_embed(words_embed(), **setting)
