import warnings
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, make_tempdir, registry

from spacy_lstm.conll2018 import docs_to_conllu, evaluate, read_ud
from spacy_lstm.pipeline.raw_text import RawTextTokenizer, words_and_spaces
from spacy_lstm.pipeline.tokenizer import (
    MWT_END,
    SENTENCE_END,
    TOKEN_END,
    character_labels,
    segment,
)
from spacy_lstm.training.conllu import read_paragraphs

CORPUS = Path(__file__).parent.parent.parent / "corpus" / "ud"
SMALL_MODEL = {
    "@architectures": "spacy-lstm.CharTagger.v1",
    "char_width": 16,
    "width": 32,
    "depth": 1,
    "dropout": 0.0,
}
RAW_TOKENIZER = {"@tokenizers": "spacy-lstm.RawTextTokenizer.v1"}


def make_nlp(lang="fr", **config):
    nlp = spacy.blank(lang, config={"nlp": {"tokenizer": RAW_TOKENIZER}})
    nlp.add_pipe("lstm_tokenizer", config={"model": SMALL_MODEL, **config})
    return nlp


def examples(nlp, name="fr_train.conllu"):
    reader = registry.get("readers", "spacy-lstm.Corpus.v1")(
        path=CORPUS / name, n_sents=3, gold_tokens=True
    )
    return list(reader(nlp))


@pytest.fixture(scope="module")
def trained():
    fix_random_seed(0)
    nlp = make_nlp()
    train = examples(nlp)
    optimizer = nlp.initialize(lambda: train)
    optimizer.learn_rate = 0.01
    for _ in range(300):
        nlp.update(train, sgd=optimizer)
    return nlp


def test_raw_text_tokenizer_keeps_the_text():
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": RAW_TOKENIZER}})
    assert isinstance(nlp.tokenizer, RawTextTokenizer)
    for text in ["", "   ", "  Hello   world\n\nNew.", "a\tb\u2028c ", "x\x00y"]:
        assert nlp.make_doc(text).text == text


def test_words_and_spaces():
    text = "Il  parle du\nfilm"
    spans = [(0, 2), (4, 9), (10, 12), (13, 17)]
    words, spaces, index, read_from = words_and_spaces(text, spans)
    assert words == ["Il", " ", "parle", "du", "\n", "film"]
    assert "".join(w + " " * s for w, s in zip(words, spaces)) == text
    assert index == [0, 2, 3, 5]
    words, spaces, index, read_from = words_and_spaces(
        text, spans, [["Il"], ["parle"], ["de", "le"], ["film"]]
    )
    assert words == ["Il", " ", "parle", "de", "le", "\n", "film"]
    assert spaces == [True, False, True, True, False, False, False]
    assert read_from[3] == read_from[4] == (10, 12)


def test_labels_and_segments_agree():
    text = "Il parle du film. Ok"
    tokens = [(0, 2, 1, False), (3, 8, 1, False), (9, 11, 2, False),
              (12, 16, 1, False), (16, 17, 1, True), (18, 20, 1, True)]  # fmt: skip
    labels = character_labels(text, tokens)
    assert labels[10] == MWT_END and labels[16] == SENTENCE_END
    assert labels[1] == TOKEN_END and labels[0] == 0
    found = segment(text, labels)
    assert [(s, e) for s, e, _ in found] == [(s, e) for s, e, _, _ in tokens]
    # whitespace ends a token whatever the labels say
    assert segment("ab cd", numpy.zeros(5, dtype="int64")) == [
        (0, 2, TOKEN_END), (3, 5, TOKEN_END)
    ]  # fmt: skip


def test_add_pipe_with_no_config_warns_about_the_tokenizer():
    with pytest.warns(UserWarning, match="RawTextTokenizer"):
        nlp = spacy.blank("en")
        nlp.add_pipe("lstm_tokenizer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_nlp()


def test_initialize_examples():
    nlp = make_nlp()
    nlp.initialize(lambda: examples(nlp))
    tokenizer = nlp.get_pipe("lstm_tokenizer")
    assert tokenizer.expansions["du"] == ["de", "le"]
    assert tokenizer.expansions["aux"] == ["à", "les"]
    assert "é" in tokenizer.cfg["chars"]


def test_no_data():
    nlp = make_nlp()
    # docs without a treebank's raw text: nothing to learn from
    docs = [Doc(nlp.vocab, words=["Il", "parle"])]
    with pytest.raises(ValueError, match="no raw text.*spacy-lstm.Corpus.v1"):
        nlp.initialize(lambda: [Example(d, d) for d in docs])


def test_initialize_needs_the_raw_text_tokenizer():
    with pytest.warns(UserWarning):
        nlp = spacy.blank("fr")
        nlp.add_pipe("lstm_tokenizer", config={"model": SMALL_MODEL})
    with pytest.raises(ValueError, match="RawTextTokenizer.v1"):
        nlp.initialize(lambda: examples(nlp))


def test_overfitting_IO(trained):
    text = "Il parle du film. Nous allons au marché demain."
    doc = trained(text)
    assert [t.text for t in doc] == [
        "Il", "parle", "de", "le", "film", ".",
        "Nous", "allons", "à", "le", "marché", "demain", ".",
    ]  # fmt: skip
    sentences = ["Il parle de le film.", "Nous allons à le marché demain."]
    assert [s.text for s in doc.sents] == sentences
    # the original text and each word's place in it
    assert doc._.surface_text == text
    assert [t._.surface for t in doc[2:4]] == ["du", "du"]
    assert doc[4]._.surface_span == (12, 16)
    # a doc without multiword tokens keeps its text and offsets
    plain = trained("Marie mange une pomme.")
    assert plain.text == plain._.surface_text == "Marie mange une pomme."
    assert [t.idx for t in plain] == [t._.surface_span[0] for t in plain]
    with make_tempdir() as path:
        trained.to_disk(path)
        loaded = spacy.load(path)
    assert [t.text for t in loaded(text)] == [t.text for t in doc]
    restored = make_nlp().from_bytes(trained.to_bytes())
    assert [t.is_sent_start for t in restored(text)] == [t.is_sent_start for t in doc]


def test_scores_on_the_training_text(trained):
    scores = trained.evaluate(examples(trained))
    assert scores["tokenizer_words_f"] == 1.0
    assert scores["tokenizer_mwt_f"] == 1.0
    assert scores["tokenizer_sents_f"] == 1.0


def test_raw_text_round_trip_through_conllu(trained):
    path = CORPUS / "fr_train.conllu"
    docs = list(trained.pipe(read_paragraphs(path)))
    system = docs_to_conllu(docs)
    assert "3-4\tdu\t" in system
    gold = read_ud(path.read_text(encoding="utf8"))
    scores = evaluate(gold, read_ud(system))
    assert scores["words"]["f1"] == scores["multiword_tokens"]["f1"] == 1.0


def test_words_given_to_the_pipeline_stay(trained):
    doc = Doc(trained.vocab, words=["du", "film"])
    assert [t.text for t in trained(doc)] == ["du", "film"]


def test_unknown_multiword_token_split_before_a_known_suffix(tmp_path):
    lines = []
    for i, (surface, first, second) in enumerate(
        [("don't", "do", "n't"), ("Bush's", "Bush", "'s"), ("don't", "do", "n't"),
         ("Kim's", "Kim", "'s")]
    ):  # fmt: skip
        lines.append(
            f"# text = {surface} go\n1-2\t{surface}" + "\t_" * 8 + "\n"
            f"1\t{first}\t_\tX\t_\t_\t3\tdep\t_\t_\n"
            f"2\t{second}\t_\tX\t_\t_\t3\tdep\t_\t_\n"
            "3\tgo\t_\tVERB\t_\t_\t0\troot\t_\t_\n"
        )
    path = tmp_path / "en.conllu"
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    nlp = make_nlp("en")
    reader = registry.get("readers", "spacy-lstm.Corpus.v1")(
        path=path, gold_tokens=True
    )
    nlp.initialize(lambda: list(reader(nlp)))
    tokenizer = nlp.get_pipe("lstm_tokenizer")
    assert tokenizer.cfg["suffixes"] == ["n't", "'s"]
    assert tokenizer.expand("Obama's") == ["Obama", "'s"]
    assert tokenizer.expand("bush's") == ["bush", "'s"]  # seen as "Bush's" only
    assert tokenizer.expand("Don't") == ["Do", "n't"]
    tokenizer.cfg["split_unknown"] = False
    assert tokenizer.expand("Obama's") is None


def test_unknown_multiword_token_stays_one_word(trained):
    tokenizer = trained.get_pipe("lstm_tokenizer")
    labels = numpy.zeros(7, dtype="int64")
    labels[2], labels[6] = MWT_END, TOKEN_END
    doc = tokenizer.make_doc("zum Ort", labels)
    assert [t.text for t in doc] == ["zum", "Ort"]
    assert tokenizer.expand("Du") == ["De", "le"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\n", "x\x00y\x07z", "a\ud800b c", "ქართული ენა არის.", "日本語の文"],
)
def test_bad_input_gives_tokens_and_keeps_the_text(trained, text):
    doc = trained(text)
    assert doc._.surface_text == text
    if text.strip():
        assert any(not t.is_space for t in doc)
        assert all(t._.surface in text for t in doc)


def test_a_long_paragraph_is_read_in_windows(trained):
    text = "Il parle du film. " * 3000  # 54,000 characters, no newline
    tokenizer = trained.get_pipe("lstm_tokenizer")
    assert len(tokenizer._windows(len(text))) == 135
    doc = trained(text)
    assert doc._.surface_text == text
    assert len(list(doc.sents)) == 3000


def test_another_language_is_refused(trained):
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": RAW_TOKENIZER}})
    nlp.add_pipe("lstm_tokenizer", source=trained)
    refused = "trained on 'fr' text and the pipeline is 'en'"
    with pytest.raises(ValueError, match=refused):
        nlp("Hello world.")
    with make_tempdir() as path:
        trained.get_pipe("lstm_tokenizer").to_disk(path)
        english = make_nlp("en").get_pipe("lstm_tokenizer")
        with pytest.raises(ValueError, match="trained on 'fr'"):
            english.from_disk(path)


def test_missing_files_raise_clear_errors(trained):
    with make_tempdir() as path:
        trained.get_pipe("lstm_tokenizer").to_disk(path)
        (path / "expansions").unlink()
        fresh = make_nlp().get_pipe("lstm_tokenizer")
        with pytest.raises(ValueError, match="lstm_tokenizer file is missing"):
            fresh.from_disk(path)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="window must be positive"):
        make_nlp(window=0)
    with pytest.raises(ValueError, match="context must be 0 or more"):
        make_nlp(context=-1)


def test_sentences_left_to_a_later_component(trained):
    tokenizer = trained.get_pipe("lstm_tokenizer")
    tokenizer.cfg["sentences"] = False
    try:
        doc = trained("Il parle du film. Nous allons au marché demain.")
    finally:
        tokenizer.cfg["sentences"] = True
    assert not doc.has_annotation("SENT_START")
    assert [t.text for t in doc][:4] == ["Il", "parle", "de", "le"]
