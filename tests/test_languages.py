"""Beyond English: the hand-annotated German (with multiword tokens) and
Chinese (no spaces) treebanks in corpus/ud train a parser with --nlp.lang
and are scored on their gold words."""

from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train

from spacy_lstm.cli.evaluate_parser import evaluate_parser, load_for_gold_sentences
from spacy_lstm.training.conllu import read_conllu

ROOT = Path(__file__).parent.parent
UD = ROOT / "corpus" / "ud"


def test_multiword_tokens_are_read_as_their_words():
    sentences = read_conllu(UD / "de_train.conllu")
    zum = sentences[1]
    assert zum.words == ["Sie", "geht", "zu", "dem", "Markt", "."]
    # spaCy's German tokenizer keeps the contraction whole: the gold words
    # are what the parser is trained and scored on
    assert [t.text for t in spacy.blank("de")("Sie geht zum Markt.")] == [
        "Sie",
        "geht",
        "zum",
        "Markt",
        ".",
    ]
    chinese = read_conllu(UD / "zh_train.conllu")[0]
    assert chinese.words == ["玛丽", "是", "厨师", "。"]
    assert chinese.spaces == [False, False, False, True]


@pytest.mark.parametrize("lang", ["de", "zh"])
def test_parser_trains_and_evaluates_in_another_language(lang, tmp_path):
    overrides = {
        "nlp.lang": lang,
        "paths.train": str(UD / f"{lang}_train.conllu"),
        "paths.dev": str(UD / f"{lang}_dev.conllu"),
        # the treebank's words, multiword tokens split, as the parser is scored
        "corpora.train.gold_tokens": True,
        "corpora.dev.gold_tokens": True,
        "training.max_steps": 30,
        "training.eval_frequency": 10,
    }
    train(ROOT / "configs" / "parser.cfg", tmp_path, overrides=overrides)
    nlp = load_for_gold_sentences(str(tmp_path / "model-last"))
    assert nlp.lang == lang
    sentences = read_conllu(UD / f"{lang}_dev.conllu")
    scores, docs = evaluate_parser(nlp, sentences)
    assert scores["words"] == sum(len(s.words) for s in sentences)
    assert 0.0 <= scores["conll2018"]["las"] <= scores["conll2018"]["uas"] <= 1.0
    assert [[t.text for t in doc] for doc in docs] == [s.words for s in sentences]
    assert all(sum(t.head.i == t.i for t in doc) == 1 for doc in docs)
