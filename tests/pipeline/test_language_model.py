import math
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import load_config, registry

from spacy_lstm.models.language_model import torch_module
from spacy_lstm.precision import has_native_bfloat16

CONFIGS = Path(__file__).parent.parent.parent / "configs"
TEXT = "the cat sat on the mat\nthe dog ate the bone\n" * 30


def make_nlp(level="word", cell="lstm", **model):
    nlp = spacy.blank("en")
    settings = {"width": 32, "depth": 1, "cell": cell, "dropout": 0.0}
    settings.update(model)
    nlp.add_pipe("lstm_lm", config={"level": level, "model": settings})
    return nlp


def stream(nlp, tmp_path, level="word", streams=2, window=10):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf8")
    reader = registry.get("readers", "spacy-lstm.LMStream.v1")(
        path=path, level=level, streams=streams, window=window
    )
    return list(reader(nlp))


def train(nlp, examples, streams=2, epochs=30):
    nlp.initialize(lambda: examples)
    optimizer = nlp.create_optimizer()
    for _ in range(epochs):
        for start in range(0, len(examples), streams):
            nlp.update(examples[start : start + streams], sgd=optimizer)
    return nlp


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_overfits_a_tiny_text(cell, tmp_path):
    nlp = make_nlp(cell=cell)
    examples = stream(nlp, tmp_path)
    train(nlp, examples)
    scores = nlp.get_pipe("lstm_lm").score(examples)
    # "the" is followed by four words equally often: that much stays uncertain
    assert scores["lm_ppl"] < 1.6, scores
    doc = nlp(Doc(nlp.vocab, words="the cat sat on the mat".split()))
    assert len(doc._.lm_surprisal) == 6
    assert doc[2]._.surprisal < 0.5  # "sat" after "the cat"
    assert doc._.perplexity == pytest.approx(2 ** numpy.mean(doc._.lm_surprisal))


def test_char_level_counts_characters(tmp_path):
    nlp = make_nlp(level="char")
    examples = stream(nlp, tmp_path, level="char", window=20)
    assert examples[0].reference.text == TEXT[:21]
    train(nlp, examples, epochs=10)
    lm = nlp.get_pipe("lstm_lm")
    assert "\n" in lm.tokens and " " in lm.tokens
    doc = nlp("the cat")
    assert doc._.lm_surprisal.shape == (2,)


def test_state_carries_to_the_next_window_of_the_same_stream(tmp_path):
    nlp = make_nlp()
    examples = stream(nlp, tmp_path)
    assert [eg.reference.user_data["lm_window"] for eg in examples[:4]] == [
        (0, 0), (1, 0), (0, 1), (1, 1)
    ]  # fmt: skip
    nlp.initialize(lambda: examples)
    lm = nlp.get_pipe("lstm_lm")
    lm.update(examples[:2])
    assert lm._carried_state([(0, 1), (1, 1)]) is not None
    assert lm._carried_state([(0, 2), (1, 2)]) is None
    assert lm._carried_state([None, None]) is None


def test_round_trip_is_exact(tmp_path):
    nlp = train(make_nlp(), stream(make_nlp(), tmp_path), epochs=2)
    doc = Doc(nlp.vocab, words="the dog sat on the bone".split())
    expected = nlp(doc)._.lm_surprisal
    nlp.to_disk(tmp_path / "lm")
    loaded = spacy.load(tmp_path / "lm")
    again = loaded(Doc(loaded.vocab, words="the dog sat on the bone".split()))
    assert again._.lm_surprisal.tolist() == expected.tolist()
    prompt = Doc(nlp.vocab, words=["the"])
    generated = nlp.get_pipe("lstm_lm").generate(prompt, n_tokens=10, seed=7)
    prompt = Doc(loaded.vocab, words=["the"])
    assert loaded.get_pipe("lstm_lm").generate(prompt, n_tokens=10, seed=7) == generated
    from_bytes = make_nlp().from_bytes(nlp.to_bytes())
    doc = from_bytes(Doc(from_bytes.vocab, words="the dog sat on the bone".split()))
    assert doc._.lm_surprisal.tolist() == expected.tolist()


def test_bad_input(tmp_path):
    nlp = make_nlp()
    with pytest.raises(ValueError, match="not initialized"):
        nlp("the cat")
    with pytest.raises(ValueError, match="no tokens"):
        nlp.initialize(lambda: [Example(Doc(nlp.vocab), Doc(nlp.vocab))])
    nlp = train(make_nlp(), stream(make_nlp(), tmp_path), epochs=1)
    assert nlp("")._.perplexity is None
    doc = nlp("zebras 🙂 quantum")  # unknown words are <unk>
    assert all(math.isfinite(t._.surprisal) for t in doc)
    long_doc = nlp(Doc(nlp.vocab, words=["the", "cat"] * 50_000))
    assert len(long_doc._.lm_surprisal) == 100_000
    nlp.to_disk(tmp_path / "lm")
    (tmp_path / "lm" / "lstm_lm" / "model").write_bytes(b"junk")
    with pytest.raises(ValueError, match="corrupt"):
        spacy.load(tmp_path / "lm")
    (tmp_path / "lm" / "lstm_lm" / "cfg").unlink()
    with pytest.raises(ValueError, match="file is missing"):
        spacy.load(tmp_path / "lm")
    short = tmp_path / "short.txt"
    short.write_text("one two\n", encoding="utf8")
    reader = registry.get("readers", "spacy-lstm.LMStream.v1")(path=short)
    with pytest.raises(ValueError, match="fewer than streams x window"):
        list(reader(nlp))
    with pytest.raises(ValueError, match="level"):
        make_nlp(level="byte")


def test_torch_module_is_sized_to_the_vocabulary(tmp_path):
    nlp = make_nlp()
    examples = stream(nlp, tmp_path)
    nlp.initialize(lambda: examples)
    lm = nlp.get_pipe("lstm_lm")
    assert lm.tokens[:2] == ["<unk>", "<eos>"]
    assert torch_module(lm.model).embed.num_embeddings == len(lm.tokens)


def test_suggestions_blanks_and_generation(tmp_path):
    nlp = train(make_nlp(), stream(make_nlp(), tmp_path))
    lm = nlp.get_pipe("lstm_lm")
    words = lambda text: Doc(nlp.vocab, words=text.split())  # noqa: E731
    assert lm.suggest(words("the cat"), n=1)[0][0] == "sat"
    ranked = lm.fill_blank(words("the dog ___ the bone"), candidates=["sat", "ate"])
    assert ranked[0][0] == "ate" and ranked[0][1] > 0.5
    assert lm.fill_blank(words("the ___ sat on the mat"))[0][0] == "cat"
    # spaCy's tokenizer cuts "___" into three "_" tokens: still one blank
    assert len(nlp.make_doc("the ___ sat")) == 5
    assert lm.fill_blank(nlp.make_doc("the ___ sat on the mat"))[0][0] == "cat"
    first = lm.generate(words("the"), n_tokens=8, seed=3)
    assert first == lm.generate(words("the"), n_tokens=8, seed=3)
    assert len(first) == 8 and "<unk>" not in first
    assert lm.generate(words("zebras"), n_tokens=3, top_k=2)  # unknown prompt
    with pytest.raises(ValueError, match="token"):
        lm.fill_blank(words("no blank here"))
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(words("the"), temperature=0)


def test_unknown_words_keep_their_suffix(tmp_path):
    # each noun occurs once, below min_freq: only its suffix tells the number
    nouns = "yak emu owl gnu elk ant bee cod eel fox hen jay".split()
    lines = [f"the {n}s are here\nthe {m} is here" for n, m in zip(nouns, nouns[1:])]
    path = tmp_path / "text.txt"
    path.write_text("\n".join(lines * 4) + "\n", encoding="utf8")
    nlp = spacy.blank("en")
    model = {"width": 32, "depth": 1, "dropout": 0.0}
    config = {"model": model, "min_freq": 10, "unknown_suffixes": ["s", "es"]}
    nlp.add_pipe("lstm_lm", config=config)
    reader = registry.get("readers", "spacy-lstm.LMStream.v1")(path=path, window=8)
    with pytest.warns(UserWarning, match="outside the 4-word vocabulary"):
        train(nlp, list(reader(nlp)), streams=1, epochs=20)
    lm = nlp.get_pipe("lstm_lm")
    assert lm.tokens[:4] == ["<unk>", "<eos>", "<unk-s>", "<unk-es>"]
    ids = lm._ids(["boxes", "cats", "cat", "the"])
    assert [lm.tokens[i] for i in ids] == ["<unk-es>", "<unk-s>", "<unk>", "the"]
    pairs = lm.candidate_log_probs(
        [["the", "pumas"], ["the", "puma"]], [["are", "is"]] * 2
    )
    assert pairs[0][0] > pairs[0][1] and pairs[1][1] > pairs[1][0]
    assert all(
        word not in lm._unknown_tokens() for word, _ in lm.suggest(nlp("the"), 9)
    )
    generated = lm.generate(nlp("the"), n_tokens=30, seed=1)
    assert not set(generated) & set(lm._unknown_tokens())
    nlp.to_disk(tmp_path / "lm")
    loaded = spacy.load(tmp_path / "lm").get_pipe("lstm_lm")
    assert loaded._ids(["boxes", "cats", "cat", "the"]) == ids


def test_vocabulary_counts_a_named_stream_corpus_once(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("The cat sat .\nthe CAT ate the bone .\n" * 40, encoding="utf8")
    overrides = {
        "paths.train": str(path), "paths.dev": str(path), "corpora.train.streams": 2,
        "components.lstm_lm.model.width": 16, "components.lstm_lm.model.depth": 1,
        "components.lstm_lm.model.sampled_softmax": 0,
    }  # fmt: skip
    config = load_config(CONFIGS / "lm_agreement.cfg", overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    doc = nlp.make_doc("the cat")
    nlp.initialize(lambda: [Example(doc, doc)])
    tokens = nlp.get_pipe("lstm_lm").tokens  # lower-cased, ties alphabetical
    assert tokens[8:] == ["the", ".", "cat", "ate", "bone", "sat"]


@pytest.mark.parametrize(
    "config,message",
    [
        ({"level": "char", "unknown_suffixes": ["s"]}, "word models only"),
        ({"unknown_suffixes": ["s", "s"]}, "distinct non-empty"),
        ({"unknown_suffixes": [""]}, "distinct non-empty"),
        ({"max_vocab": 4, "unknown_suffixes": ["s", "ed"]}, "no room for a word"),
    ],
)
def test_bad_unknown_suffixes(config, message):
    with pytest.raises(ValueError, match=message):
        spacy.blank("en").add_pipe("lstm_lm", config=config)


@pytest.mark.parametrize("level", ["word", "char"])
def test_batched_surprisal_matches_one_doc_at_a_time(level, tmp_path):
    nlp = make_nlp(level=level)
    nlp = train(nlp, stream(nlp, tmp_path, level=level), epochs=2)
    lm = nlp.get_pipe("lstm_lm")
    texts = ["the cat sat", "the dog ate the bone on the mat", "", "zebra"]
    docs = [Doc(nlp.vocab, words=text.split()) for text in texts]
    batched = lm.predict(docs)
    for doc, bits in zip(docs, batched):
        assert len(bits) == len(doc)
        numpy.testing.assert_allclose(bits, lm.predict([doc])[0], rtol=1e-5, atol=1e-5)


def test_auto_precision_is_close_to_float32(tmp_path, monkeypatch):
    monkeypatch.delenv("SPACY_LSTM_PRECISION", raising=False)
    nlp = make_nlp()
    nlp = train(nlp, stream(nlp, tmp_path), epochs=5)
    lm = nlp.get_pipe("lstm_lm")
    assert lm.cfg["precision"] == "auto"
    docs = [Doc(nlp.vocab, words=t.split()) for t in ["the cat sat", "the dog ate it"]]
    auto = lm.predict(docs)
    lm.cfg["precision"] = "float32"
    for bits, reference in zip(auto, lm.predict(docs)):
        assert bits.dtype == reference.dtype
        if has_native_bfloat16(torch.device("cpu")):
            numpy.testing.assert_allclose(bits, reference, rtol=0.05, atol=0.1)
        else:  # float32 on CPUs without bfloat16 instructions
            numpy.testing.assert_array_equal(bits, reference)
    # the training-time evaluation stays exact
    scores = lm.score(stream(nlp, tmp_path))
    lm.cfg["precision"] = "auto"
    assert lm.score(stream(nlp, tmp_path)) == scores


@pytest.mark.parametrize(
    "softmax",
    [
        {},
        {"adaptive_cutoffs": [3, 6]},
        {"sampled_softmax": 4},
        # autocast leaves a GRU in float32: the adaptive softmax gets float32
        {"adaptive_cutoffs": [3, 6], "cell": "gru"},
    ],
    ids=["full", "adaptive", "sampled", "adaptive-gru"],
)
def test_bfloat16_scores_with_every_softmax(softmax, tmp_path, monkeypatch, request):
    """bfloat16 inference (forced here, as on a CPU that has it) gives
    float32 surprisals close to float32's, whatever the softmax."""
    from spacy_lstm import precision

    if not has_native_bfloat16(torch.device("cpu")):
        # oneDNN has no bfloat16 LSTM on such a CPU: torch's own kernels
        # compute it instead, slowly but in bfloat16 all the same
        flags = torch.backends.mkldnn.flags(enabled=False)
        flags.__enter__()
        request.addfinalizer(lambda: flags.__exit__(None, None, None))
    monkeypatch.setattr(precision, "has_native_bfloat16", lambda device: True)
    nlp = make_nlp(**softmax)
    nlp = train(nlp, stream(nlp, tmp_path), epochs=5)
    lm = nlp.get_pipe("lstm_lm")
    docs = [Doc(nlp.vocab, words=t.split()) for t in ["the cat sat", "the dog ate it"]]
    lm.cfg["precision"] = "bfloat16"
    half = lm.predict(docs)
    lm.cfg["precision"] = "float32"
    for bits, reference in zip(half, lm.predict(docs)):
        assert bits.dtype == reference.dtype == numpy.float32
        numpy.testing.assert_allclose(bits, reference, rtol=0.05, atol=0.1)


def test_bfloat16_inference_of_saved_pipelines_still_loads(tmp_path):
    nlp = spacy.blank("en")
    old = nlp.add_pipe("lstm_lm", config={"bfloat16_inference": True})
    assert old.cfg["precision"] == "auto"
    with pytest.raises(ValueError, match="precision must be one of"):
        spacy.blank("en").add_pipe("lstm_lm", config={"precision": "fp16"})


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_gates_are_read_from_the_trained_model(cell, tmp_path, monkeypatch):
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")  # as the gates are
    nlp = make_nlp(cell=cell, depth=2)
    nlp = train(nlp, stream(nlp, tmp_path), epochs=3)
    lm = nlp.get_pipe("lstm_lm")
    doc = nlp.make_doc("the cat  sat")  # a double space: not read
    gates = lm.gates(doc)
    assert gates["units"] == ["the", "cat", "sat"] and gates["cell"] == cell
    assert len(gates["layers"]) == 2
    names = {"lstm": {"input", "forget", "candidate", "output", "cell", "hidden"},
             "gru": {"reset", "update", "candidate", "hidden"},
             "rnn": {"hidden"}}[cell]  # fmt: skip
    assert set(gates["layers"][0]) == names
    module = torch_module(lm.model).eval()
    ids = torch.tensor([[lm._token_index()["<eos>"]] + lm._ids(gates["units"])])
    with torch.no_grad():
        hidden, _ = module(ids)
    doc = nlp.get_pipe("lstm_lm")(doc)
    read = [t._.surprisal for t in doc if t._.surprisal is not None]
    numpy.testing.assert_allclose(gates["surprisal"], read, rtol=1e-5)
    top = gates["layers"][-1]["hidden"]
    assert top.shape == (3, 32)
    numpy.testing.assert_allclose(top, hidden[0, 1:].numpy(), atol=1e-5)


@pytest.mark.parametrize("level", ["word", "char"])
def test_store_gates_puts_mean_gates_on_the_tokens(level, tmp_path):
    nlp = make_nlp(level=level, depth=2)
    examples = stream(nlp, tmp_path, level=level, window=20 if level == "char" else 10)
    nlp.initialize(lambda: examples)
    lm = nlp.get_pipe("lstm_lm")
    doc = nlp("the cat  sat")
    assert doc._.lm_gates is None and doc[0]._.gates is None  # off by default
    lm.cfg["store_gates"] = True
    doc = nlp("the cat  sat")
    gates = lm.gates(doc)
    assert set(doc._.lm_gates) == {"forget", "input", "output"}
    assert doc._.lm_gates["forget"].shape == (len(doc), 2)
    if level == "word":
        # "cat" is the second word read; the double space's token is not read
        expected = [layer["forget"][1].mean() for layer in gates["layers"]]
        assert doc[2]._.gates is None
    else:
        # "cat" and the space after it: characters 4 to 7
        expected = [layer["forget"][4:8].mean() for layer in gates["layers"]]
    assert doc[1]._.gates["forget"] == pytest.approx(expected, abs=1e-6)


def test_store_gates_of_a_vanilla_rnn_stores_nothing(tmp_path):
    nlp = make_nlp(cell="rnn")
    nlp.get_pipe("lstm_lm").cfg["store_gates"] = True
    nlp.initialize(lambda: stream(nlp, tmp_path))
    doc = nlp("the cat")
    assert doc._.lm_gates == {} and doc[0]._.gates is None
