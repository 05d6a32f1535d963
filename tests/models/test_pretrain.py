"""spacy-lstm.PretrainBiLM.v1, the forward and backward LM objective."""

from pathlib import Path

import numpy
import pytest
import spacy
from spacy.training.initialize import init_nlp
from spacy.training.pretrain import pretrain
from spacy.util import load_config, registry
from thinc.api import Adam

ROOT = Path(__file__).parent.parent.parent
BILM_CONFIG = ROOT / "configs" / "parser_bilm.cfg"
WORDS = "the cat sat on a mat while the dog ran to the cat".split()


def nlp_with_vectors():
    nlp = spacy.blank("en")
    rng = numpy.random.default_rng(0)
    for word in set(WORDS):
        nlp.vocab.set_vector(word, rng.normal(size=6).astype("float32"))
    return nlp


def tok2vec(separate_directions=True):
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=8, attrs=["NORM"], rows=[100], include_static_vectors=True
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(
        width=8, depth=2, dropout=0.0, separate_directions=separate_directions
    )
    return registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)


def objective(nlp, separate_directions=True):
    create = registry.get("architectures", "spacy-lstm.PretrainBiLM.v1")()
    docs = [nlp.make_doc(" ".join(WORDS))]
    model = create(nlp.vocab, tok2vec(separate_directions))
    model.initialize(X=docs)
    return model, docs


def test_needs_vectors_and_separate_directions():
    with pytest.raises(ValueError, match="vectors"):
        objective(spacy.blank("en"))
    with pytest.raises(ValueError, match="separate_directions"):
        objective(nlp_with_vectors(), separate_directions=False)


def test_predictions_never_see_the_word_they_predict():
    nlp = nlp_with_vectors()
    model, (doc,) = objective(nlp)
    n = len(doc)
    before = model.predict([doc])
    last_changed = nlp.make_doc(" ".join(WORDS[:-1] + ["mat"]))
    first_changed = nlp.make_doc(" ".join(["dog"] + WORDS[1:]))
    # rows 0..n-2 predict words 1..n-1 (forward), rows n-1.. words 0..n-2
    after_last = model.predict([last_changed])
    numpy.testing.assert_array_equal(after_last[: n - 1], before[: n - 1])
    assert not numpy.allclose(after_last[n - 1 :], before[n - 1 :])
    after_first = model.predict([first_changed])
    numpy.testing.assert_array_equal(after_first[n - 1 :], before[n - 1 :])
    assert not numpy.allclose(after_first[: n - 1], before[: n - 1])


def test_loss_falls_with_training():
    nlp = nlp_with_vectors()
    model, docs = objective(nlp)
    get_loss = model.attrs["loss"]
    optimizer = Adam(0.01)
    losses = []
    for _ in range(40):
        predicted, backprop = model.begin_update(docs + [nlp.make_doc("a"), nlp("")])
        loss, d_predicted = get_loss(
            model.ops, docs + [nlp.make_doc("a"), nlp("")], predicted
        )
        backprop(d_predicted)
        model.finish_update(optimizer)
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, word2vec_pipeline):
    """configs/parser_bilm.cfg pretrained on corpus/: (overrides, weights)."""
    overrides = {
        "paths.raw_text": str(ROOT / "corpus/text/sample.txt"),
        "paths.vectors": str(word2vec_pipeline),
        "pretraining.max_epochs": 2,
    }
    config = load_config(BILM_CONFIG, overrides=overrides, interpolate=True)
    output = tmp_path_factory.mktemp("bilm")
    pretrain(config, output, silent=True)
    return overrides, output / "model-last.bin"


def test_spacy_pretrain_then_init_tok2vec(pretrained):
    overrides, weights = pretrained
    overrides = {**overrides, "paths.init_tok2vec": str(weights)}
    nlp = init_nlp(load_config(BILM_CONFIG, overrides=overrides, interpolate=False))
    assert nlp.get_pipe("tok2vec").model.to_bytes() == weights.read_bytes()


def test_init_from_bilm_keeps_the_function_with_mixed_directions(pretrained):
    overrides, weights = pretrained
    bilm = init_nlp(
        load_config(
            BILM_CONFIG,
            overrides={**overrides, "paths.init_tok2vec": str(weights)},
            interpolate=False,
        )
    )
    mixed_overrides = {
        "paths.vectors": overrides["paths.vectors"],
        "paths.init_bilm": str(weights),
    }
    config = load_config(ROOT / "configs" / "parser_vectors.cfg", mixed_overrides)
    nlp = init_nlp(config)
    encoder = next(
        node
        for node in nlp.get_pipe("tok2vec").model.walk()
        if node.name == "bilstm_encoder"
    )
    assert not encoder.attrs["separate_directions"]
    docs = [nlp.make_doc(text) for text in ["The cat sat on the mat .", "Dogs ran", ""]]
    expected = bilm.get_pipe("tok2vec").model.predict(docs)
    got = nlp.get_pipe("tok2vec").model.predict(docs)
    for Y, X in zip(got, expected):
        numpy.testing.assert_allclose(Y, X, rtol=1e-5, atol=1e-6)


def test_init_from_bilm_errors_name_the_file(tmp_path):
    create = registry.get("callbacks", "spacy-lstm.init_from_bilm.v1")
    nlp = nlp_with_vectors()
    nlp.add_pipe("tok2vec")
    nlp.initialize()
    assert create(path=None)(nlp) is nlp
    missing = tmp_path / "model-last.bin"
    with pytest.raises(ValueError, match="model-last.bin"):
        create(path=missing)(nlp)
    missing.write_bytes(tok2vec().to_bytes())  # another architecture
    with pytest.raises(ValueError, match="model-last.bin.*architecture"):
        create(path=missing)(nlp)
