"""Every name spacy-lstm registers resolves through its entry point and builds."""

import json
import subprocess
import sys
from importlib.metadata import distribution

import pytest
from spacy.util import registry

# The spaCy registry behind each entry-point group.
GROUPS = {
    "spacy_architectures": "architectures",
    "spacy_readers": "readers",
    "spacy_factories": "factories",
    "spacy_scorers": "scorers",
    "spacy_callbacks": "callbacks",
    "spacy_misc": "misc",
    "spacy_loggers": "loggers",
    "spacy_tokenizers": "tokenizers",
    "spacy_cli": "cli",
}

ENTRY_POINTS = [
    (ep.group, ep.name, ep.value)
    for ep in distribution("spacy-lstm").entry_points
    if ep.group.startswith("spacy_")
]


def small_tok2vec():
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=8, attrs=["NORM"], rows=[100], include_static_vectors=False
    )
    encode = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(8, 1, 0.0)
    return registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)


# Arguments that build each registered function.
BUILD_ARGS = {
    "spacy-lstm.BiLSTMEncoder.v1": lambda: {"width": 8, "depth": 1, "dropout": 0.0},
    "spacy-lstm.BiaffineParser.v1": lambda: {"tok2vec": small_tok2vec()},
    "spacy-lstm.CharEmbed.v1": lambda: {"words": small_tok2vec().get_ref("embed")},
    "spacy-lstm.CharTagger.v1": lambda: {"width": 8, "depth": 1},
    "spacy-lstm.RawTextTokenizer.v1": lambda: {},
    "spacy-lstm.Corpus.v1": lambda: {"path": "corpus/ud/dev.conllu"},
    "spacy-lstm.PlainText.v1": lambda: {"path": "corpus/text/sample.txt"},
    "spacy-lstm.WithSilver.v1": lambda: {
        "gold": registry.get("readers", "spacy-lstm.Corpus.v1")(path=None),
        "silver": None,
    },
    "spacy-lstm.Word2Vec.v1": lambda: {},
    "spacy-lstm.LSTMLanguageModel.v1": lambda: {"width": 8, "depth": 1},
    "spacy-lstm.LMStream.v1": lambda: {"path": "corpus/text/sample.txt"},
    "spacy-lstm.PretrainBiLM.v1": lambda: {},
    "spacy-lstm.init_from_bilm.v1": lambda: {},
    "spacy-lstm.int8_inference.v1": lambda: {},
    "spacy-lstm.precision.v1": lambda: {"precision": "float32"},
    "spacy-lstm.JsonlCorpus.v1": lambda: {"path": "corpus/ner/train.jsonl"},
    "spacy-lstm.word2vec_scorer.v1": lambda: {
        "similarity": "corpus/text/similarity.tsv"
    },
    "spacy-lstm.ConsoleLogger.v1": lambda: {},
    "spacy-lstm.WindowedTok2Vec.v1": lambda: {
        "embed": small_tok2vec().get_ref("embed"),
        "encode": small_tok2vec().get_ref("encode"),
    },
}


def test_entry_points_are_listed():
    names = {name for _, name, _ in ENTRY_POINTS}
    assert {
        "spacy-lstm.BiLSTMEncoder.v1",
        "spacy-lstm.BiaffineParser.v1",
        "spacy-lstm.Corpus.v1",
        "spacy-lstm.PlainText.v1",
        "spacy-lstm.Word2Vec.v1",
        "spacy-lstm.word2vec_scorer.v1",
        "spacy-lstm.init_from_bilm.v1",
        "spacy-lstm.ConsoleLogger.v1",
        "spacy-lstm.commands",
        "lstm_parser",
        "word2vec",
    } <= names
    for group, name, _ in ENTRY_POINTS:
        assert group in GROUPS, f"unknown entry-point group {group}"
        if group != "spacy_factories":
            assert name.startswith("spacy-lstm."), name


def test_entry_points_resolve_without_importing_spacy_lstm():
    """A fresh process finds every name through spaCy's registry alone."""
    lookups = [(GROUPS[group], name) for group, name, _ in ENTRY_POINTS]
    script = (
        "import json, sys, spacy\n"
        "assert 'spacy_lstm' not in sys.modules\n"
        "for reg, name in json.loads(sys.argv[1]):\n"
        "    spacy.registry.get(reg, name) if reg != 'factories' else "
        "spacy.blank('en').add_pipe(name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(lookups)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("group,name,value", ENTRY_POINTS)
def test_every_registered_name_builds(group, name, value):
    if group == "spacy_factories":
        import spacy

        assert spacy.blank("en").add_pipe(name) is not None
        return
    if group == "spacy_cli":  # loading it adds `python -m spacy lstm ...`
        from spacy.cli._util import app

        registry.get(GROUPS[group], name)
        assert "lstm" in [group.name for group in app.registered_groups]
        return
    func = registry.get(GROUPS[group], name)
    module, attr = value.split(":")
    assert func.__module__ == module and func.__name__ == attr
    assert name in BUILD_ARGS, f"add build arguments for {name} to this test"
    assert func(**BUILD_ARGS[name]()) is not None
