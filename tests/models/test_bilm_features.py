"""spacy-lstm.BiLMFeatures.v1: a frozen pretrained biLM's layers, mixed, as
features for a trainable encoder; and the encoder's all_layers output."""

import numpy
import pytest
import spacy
from spacy.util import registry
from thinc.api import Adam

from spacy_lstm.models.bilm_features import load_bilm
from spacy_lstm.models.pretrain import load_bilm_weights

WORDS = "the cat sat on a mat while the dog ran to the cat".split()


def nlp_with_vectors():
    nlp = spacy.blank("en")
    rng = numpy.random.default_rng(0)
    for word in set(WORDS):
        nlp.vocab.set_vector(word, rng.normal(size=6).astype("float32"))
    return nlp


def bilm(all_layers=False):
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=8, attrs=["NORM"], rows=[100], include_static_vectors=True
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(
        width=8, depth=2, dropout=0.2, separate_directions=True, all_layers=all_layers
    )
    return registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)


def features_tok2vec(all_layers=True):
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=6, attrs=["NORM", "SHAPE"], rows=[100, 50], include_static_vectors=False
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(
        width=10, depth=2, dropout=0.0, nI=6 + 8
    )
    build = registry.get("architectures", "spacy-lstm.BiLMFeatures.v1")
    return build(bilm(all_layers), embed, encode)


def initialized(docs, path):
    model = features_tok2vec()
    model.initialize(X=docs)
    load_bilm(model, path)
    return model


@pytest.fixture
def setup(tmp_path):
    """A vocab with vectors, docs, and "pretrained" biLM weights on disk."""
    nlp = nlp_with_vectors()
    docs = [nlp.make_doc(" ".join(WORDS)), nlp.make_doc("a dog"), nlp.make_doc("")]
    pretrained = bilm()
    pretrained.initialize(X=docs)
    path = tmp_path / "model-last.bin"
    path.write_bytes(pretrained.to_bytes())
    return docs, pretrained, path


def test_all_layers_puts_every_layer_side_by_side(setup):
    docs, pretrained, path = setup
    wide = bilm(all_layers=True)
    wide.initialize(X=docs)
    load_bilm_weights(wide, path)
    assert wide.get_dim("nO") == 16
    for all_layers, top in zip(wide.predict(docs), pretrained.predict(docs)):
        assert all_layers.shape == (len(top), 16)
        numpy.testing.assert_allclose(all_layers[:, 8:], top, rtol=1e-6)


def test_needs_an_all_layers_bilm():
    with pytest.raises(ValueError, match="all_layers"):
        features_tok2vec(all_layers=False)


def test_loads_the_bilm_and_keeps_it_frozen(setup):
    docs, pretrained, path = setup
    model = initialized(docs, path)
    frozen = model.layers[0]
    expected = [p[:, 8:] for p in frozen.predict(docs)]
    for got, want in zip(expected, pretrained.predict(docs)):
        numpy.testing.assert_allclose(got, want, rtol=1e-6)
    before = {
        (node.id, name): numpy.array(node.get_param(name))
        for node in frozen.walk()
        for name in node.param_names
    }
    torch_before = frozen.to_bytes()
    optimizer = Adam(0.01)
    for _ in range(3):
        Ys, backprop = model.begin_update(docs)
        backprop([numpy.ones_like(Y) for Y in Ys])
        model.finish_update(optimizer)
    for node in frozen.walk():
        for name in node.param_names:
            numpy.testing.assert_array_equal(
                node.get_param(name), before[node.id, name]
            )
    assert frozen.to_bytes() == torch_before
    assert numpy.abs(model.get_param("layer_weights")).sum() > 0


def test_mix_gradients_match_finite_differences(setup):
    docs, _, path = setup
    model = initialized(docs, path)
    model.set_param("layer_weights", numpy.asarray([0.3, -0.2], dtype="float32"))
    model.set_param("scale", numpy.asarray([1.3], dtype="float32"))
    rng = numpy.random.default_rng(0)
    Ys, backprop = model.begin_update(docs)
    dYs = [rng.normal(size=Y.shape).astype("float32") for Y in Ys]
    backprop(dYs)

    def objective():
        Ys = model.predict(docs)
        return sum(float((Y.astype("float64") * dY).sum()) for Y, dY in zip(Ys, dYs))

    for name in ["layer_weights", "scale"]:
        analytic = model.get_grad(name).copy()
        param = model.get_param(name).copy()
        numeric = []
        for i in range(len(param)):
            shifted = []
            for step in (1e-2, -1e-2):
                value = param.copy()
                value[i] += step
                model.set_param(name, value)
                shifted.append(objective())
            model.set_param(name, param.copy())
            numeric.append((shifted[0] - shifted[1]) / 2e-2)
        numpy.testing.assert_allclose(analytic, numeric, rtol=1e-2, atol=1e-4)


def test_init_from_bilm_loads_the_frozen_bilm(setup):
    docs, pretrained, path = setup
    nlp = nlp_with_vectors()
    tok2vec = nlp.add_pipe("tok2vec")
    tok2vec.model = features_tok2vec()
    nlp.initialize()
    registry.get("callbacks", "spacy-lstm.init_from_bilm.v1")(path=path)(nlp)
    frozen = tok2vec.model.layers[0].predict(docs)
    for got, want in zip(frozen, pretrained.predict(docs)):
        numpy.testing.assert_allclose(got[:, 8:], want, rtol=1e-6)


def test_training_without_pretrained_weights_is_an_error(setup):
    docs, _, _ = setup
    model = features_tok2vec()
    model.initialize(X=docs)
    with pytest.raises(ValueError, match="init_bilm"):
        model.begin_update(docs)
    model.predict(docs)  # inference is not guarded: a loaded pipeline has them


def test_round_trip(setup):
    docs, _, path = setup
    model = initialized(docs, path)
    model.set_param("layer_weights", numpy.asarray([0.5, -0.5], dtype="float32"))
    copy = features_tok2vec()
    copy.initialize(X=docs)
    copy.from_bytes(model.to_bytes())
    assert copy.attrs["bilm_loaded"]
    for a, b in zip(model.predict(docs), copy.predict(docs)):
        numpy.testing.assert_array_equal(a, b)
