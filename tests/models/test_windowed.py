import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import registry

from spacy_lstm.models import torch_gemm
from spacy_lstm.models.torch_gemm import TorchGemmOps
from spacy_lstm.models.torch_wrapper import InPlaceUpdateShim
from spacy_lstm.models.windowed import build_windowed_tok2vec


@pytest.fixture(autouse=True)
def float32_encoder(monkeypatch):
    """The encoder in float32, so that the windowed and whole outputs compare
    exactly on any CPU (bfloat16 is tested below)."""
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")


def make_model(window: int, context: int):
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=16, attrs=["NORM", "SHAPE"], rows=[500, 50], include_static_vectors=False
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(16, 2, 0.0)
    return build_windowed_tok2vec(embed, encode, window=window, context=context)


def docs(lengths):
    vocab = spacy.blank("en").vocab
    words = "the cat sat on a mat and saw one dog".split()
    return [Doc(vocab, words=[words[i % 10] for i in range(n)]) for n in lengths]


def test_docs_up_to_the_window_are_encoded_whole():
    model = make_model(window=40, context=5)
    batch = docs([40, 7, 0])
    model.initialize(X=batch)
    for got, whole in zip(model.predict(batch), model.layers[0].predict(batch)):
        numpy.testing.assert_array_equal(got, whole)


def test_long_docs_are_encoded_window_by_window():
    model = make_model(window=30, context=8)
    (long_doc, short_doc) = docs([100, 12])
    model.initialize(X=[long_doc, short_doc])
    got, short = model.predict([long_doc, short_doc])
    numpy.testing.assert_array_equal(short, model.layers[0].predict([short_doc])[0])
    assert got.shape == (100, 16)
    for start in range(0, 100, 30):
        end = min(start + 30, 100)
        first, last = max(0, start - 8), min(100, end + 8)
        (span,) = model.layers[0].predict([long_doc[first:last].as_doc()])
        numpy.testing.assert_array_equal(
            got[start:end], span[start - first : end - first]
        )


def test_training_reads_whole_docs():
    model = make_model(window=10, context=2)
    batch = docs([25])
    model.initialize(X=batch)
    outputs, backprop = model.begin_update(batch)
    inner, _ = model.layers[0].begin_update(batch)
    assert outputs[0].shape == (25, 16)
    backprop([model.ops.alloc2f(25, 16)])


def test_bad_settings():
    with pytest.raises(ValueError, match="window"):
        make_model(window=0, context=2)


def test_the_embedding_multiplies_in_torch():
    model = make_model(window=40, context=5)
    embed = model.get_ref("embed")
    assert any(type(node.ops) is TorchGemmOps for node in embed.walk())


def test_torch_products_give_the_vectors_of_thinc_products():
    from thinc.api import NumpyOps

    model = make_model(window=40, context=5)
    batch = docs([12, 3, 30])
    model.initialize(X=batch)
    torch_vectors = model.predict(batch)
    for node in model.walk():
        node.ops = NumpyOps()
    for got, expected in zip(torch_vectors, model.predict(batch)):
        numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("in_bfloat16", [False, True])
def test_the_embedding_multiplies_in_the_encoders_precision(monkeypatch, in_bfloat16):
    """At inference the embedding's products follow the encoder: in bfloat16
    where it runs in bfloat16; in training always float32."""
    monkeypatch.setattr(InPlaceUpdateShim, "runs_in_bfloat16", lambda s: in_bfloat16)
    model = make_model(window=40, context=5)
    batch = docs([12, 3])
    model.initialize(X=batch)
    scopes = []
    gemm = TorchGemmOps.gemm

    def spy(self, *args, **kwargs):
        scopes.append(torch_gemm._BFLOAT16.get())
        return gemm(self, *args, **kwargs)

    monkeypatch.setattr(TorchGemmOps, "gemm", spy)
    model.predict(batch)
    assert scopes and set(scopes) == {in_bfloat16}
    scopes.clear()
    model.begin_update(batch)
    assert scopes and set(scopes) == {False}
