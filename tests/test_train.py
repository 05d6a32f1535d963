"""spacy train runs each config on the small data in corpus/."""

from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train
from spacy.util import make_tempdir

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("config", ["parser_transition.cfg", "parser.cfg"])
def test_spacy_train_smoke(config, tmp_path):
    overrides = {
        "paths.train": str(ROOT / "corpus/ud/train.conllu"),
        "paths.dev": str(ROOT / "corpus/ud/dev.conllu"),
        "training.max_steps": 30,
        "training.eval_frequency": 10,
    }
    train(ROOT / "configs" / config, tmp_path, overrides=overrides)
    nlp = spacy.load(tmp_path / "model-last")
    doc = nlp("I saw a girl with a telescope.")
    assert doc.has_annotation("DEP")
    assert all(token.head.i in range(len(doc)) for token in doc)
    scores = nlp.meta["performance"]
    assert 0.0 <= scores["dep_uas"] <= 1.0


def test_spacy_train_word2vec_runs_the_planned_epochs(tmp_path):
    train(ROOT / "configs" / "word2vec.cfg", tmp_path, overrides={})
    nlp = spacy.load(tmp_path / "model-last")
    w2v = nlp.get_pipe("word2vec")
    # max_steps was set from the epochs: every planned word was trained on
    assert w2v.model.attrs["words_trained"] == w2v.model.attrs["planned_words"] > 0
    assert nlp.vocab.vectors.shape[1] == 100
    assert nlp("Maria")[0].has_vector


def test_spacy_train_parser_with_word2vec_vectors(tmp_path, word2vec_pipeline):
    overrides = {
        "paths.vectors": str(word2vec_pipeline),
        "training.max_steps": 20,
        "training.eval_frequency": 10,
    }
    train(ROOT / "configs" / "parser_vectors.cfg", tmp_path, overrides=overrides)
    nlp = spacy.load(tmp_path / "model-last")
    vectors = spacy.load(word2vec_pipeline).vocab.vectors
    assert nlp.vocab.vectors.shape == vectors.shape
    # keyed by LOWER again after loading, as the static vectors were trained
    assert nlp.vocab.vectors.attr == vectors.attr
    assert nlp("Maria")[0].has_vector
    doc = nlp("I saw a girl with a telescope.")
    assert doc.has_annotation("DEP")


@pytest.mark.parametrize(
    "config,sampled", [("lm_word.cfg", 0), ("lm_word.cfg", 50), ("lm_char.cfg", 0)]
)
def test_spacy_train_language_model(config, sampled, tmp_path, capsys):
    overrides = {"training.max_steps": 20, "training.eval_frequency": 10}
    if sampled:  # fewer than the sample text's 283 words: the sampled softmax runs
        overrides["components.lstm_lm.model.sampled_softmax"] = sampled
    train(ROOT / "configs" / config, tmp_path, overrides=overrides)
    nlp = spacy.load(tmp_path / "model-last")
    doc = nlp("She always had a passion for cooking.")
    assert doc._.perplexity > 1
    perplexity = nlp.meta["performance"]["lm_ppl"]
    assert perplexity > 1
    # the training table shows the perplexity itself, not 100 times it
    table = capsys.readouterr().out.splitlines()
    header = next(line.split() for line in table if "LM_PPL" in line)
    last_row = [line.split() for line in table if line.split()[1:2] == ["20"]]
    column = header.index("LM_PPL") + len(last_row[-1]) - len(header)
    assert float(last_row[-1][column]) == pytest.approx(perplexity, abs=0.01)


def test_spacy_ner_on_the_bilstm_encoder_trains_and_reloads(tmp_path):
    overrides = {"training.max_steps": 150, "training.eval_frequency": 50}
    train(ROOT / "configs" / "ner.cfg", tmp_path, overrides=overrides)
    nlp = spacy.load(tmp_path / "model-best")
    assert nlp.pipe_names == ["tok2vec", "ner"]
    encoders = [
        n for n in nlp.get_pipe("tok2vec").model.walk() if n.name == "bilstm_encoder"
    ]
    assert len(encoders) == 1
    assert nlp.meta["performance"]["ents_f"] >= 0.5  # 6 dev sentences, 12 entities
    doc = nlp("Maria works as a cook in London.")  # a training sentence
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Maria", "PERSON"),
        ("London", "GPE"),
    ]
    with make_tempdir() as tmp:
        nlp.to_disk(tmp)
        again = spacy.load(tmp)("Maria works as a cook in London.")
        assert [(e.text, e.label_) for e in again.ents] == [
            (e.text, e.label_) for e in doc.ents
        ]


def test_spacy_textcat_on_the_bilstm_encoder_trains_and_reloads(tmp_path):
    overrides = {"training.max_steps": 100, "training.eval_frequency": 50}
    train(ROOT / "configs" / "textcat.cfg", tmp_path, overrides=overrides)
    nlp = spacy.load(tmp_path / "model-best")
    assert nlp.pipe_names == ["tok2vec", "textcat"]
    assert nlp.meta["performance"]["cats_score"] >= 0.8  # 6 dev texts
    cats = nlp("The telescope shows the rings of Saturn at night.").cats
    assert cats["SCIENCE"] > cats["FOOD"]
    with make_tempdir() as tmp:
        nlp.to_disk(tmp)
        again = spacy.load(tmp)("Add the flour, then stir the eggs into the milk.").cats
        assert again == nlp("Add the flour, then stir the eggs into the milk.").cats
        assert again["FOOD"] > again["SCIENCE"]
