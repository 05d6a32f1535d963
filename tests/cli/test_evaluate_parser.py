import json
from pathlib import Path

import pytest
from spacy.cli.train import train
from typer.testing import CliRunner

from spacy_lstm.cli import app
from spacy_lstm.training.conllu import read_conllu

ROOT = Path(__file__).parent.parent.parent
DEV = ROOT / "corpus" / "ud" / "dev.conllu"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    output = tmp_path_factory.mktemp("parser")
    overrides = {
        "paths.train": str(ROOT / "corpus/ud/train.conllu"),
        "paths.dev": str(DEV),
        "training.max_steps": 20,
        "training.eval_frequency": 10,
    }
    train(ROOT / "configs" / "parser.cfg", output, overrides=overrides)
    return output / "model-last"


def test_evaluate_parser_prints_both_conventions(pipeline, tmp_path):
    predictions = tmp_path / "out" / "pred.conllu"
    metrics = tmp_path / "out" / "metrics.json"
    result = CliRunner().invoke(
        app,
        ["evaluate-parser", str(pipeline), str(DEV), "--predictions",
         str(predictions), "--output", str(metrics), "--displacy-path",
         str(tmp_path / "html"), "--displacy-limit", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["sentences"] == 8 and scores["words"] == 71
    for convention in ("conll2018", "spacy"):
        assert 0.0 <= scores[convention]["las"] <= scores[convention]["uas"] <= 1.0
    assert json.loads(metrics.read_text(encoding="utf8")) == scores
    gold, predicted = read_conllu(DEV), read_conllu(predictions)
    assert [s.words for s in predicted] == [s.words for s in gold]
    for sent in predicted:
        assert sent.deps.count("root") == 1
    html = (tmp_path / "html" / "parses.html").read_text(encoding="utf8")
    assert html.count("<svg") == 2


def test_a_pipeline_without_a_parser(tmp_path):
    import spacy

    spacy.blank("en").to_disk(tmp_path / "blank")
    result = CliRunner().invoke(
        app, ["evaluate-parser", str(tmp_path / "blank"), str(DEV)]
    )
    assert result.exit_code == 1
    assert "has no lstm_parser or parser" in result.output


def test_read_conllu_rejects_bad_files(tmp_path):
    empty = tmp_path / "empty.conllu"
    empty.write_text("\n", encoding="utf8")
    with pytest.raises(ValueError, match="No sentences"):
        read_conllu(empty)
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tHello\t_\n\n", encoding="utf8")
    with pytest.raises(ValueError, match="line 1: expected 10 tab-separated columns"):
        read_conllu(bad)


def test_evaluate_parser_on_raw_text(pipeline, tmp_path):
    from spacy_lstm.conll2018 import METRICS, read_ud

    predictions = tmp_path / "raw.conllu"
    result = CliRunner().invoke(
        app,
        ["evaluate-parser", str(pipeline), str(DEV), "--raw-text",
         "--predictions", str(predictions), "--displacy-path", str(tmp_path / "html"),
         "--displacy-limit", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output.splitlines()[-1])
    assert scores["paragraphs"] == 1 and scores["words"] == 71
    raw = scores["conll2018_raw_text"]
    assert set(raw) == set(METRICS)
    # spaCy's English tokenizer splits this small corpus as its gold does
    assert raw["tokens"]["f1"] == raw["words"]["f1"] == 1.0
    assert 0.0 <= raw["las"]["f1"] <= raw["uas"]["f1"] <= 1.0
    gold = read_ud(DEV.read_text(encoding="utf8"))
    assert read_ud(predictions.read_text(encoding="utf8")).characters == gold.characters
    assert (tmp_path / "html" / "parses.html").exists()


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    output = tmp_path_factory.mktemp("tokenizer")
    overrides = {
        "paths.train": str(ROOT / "corpus/ud/train.conllu"),
        "paths.dev": str(DEV),
        "training.max_steps": 30,
        "training.eval_frequency": 30,
    }
    train(ROOT / "configs" / "tokenizer.cfg", output, overrides=overrides)
    return output / "model-last"


def test_add_tokenizer_then_score_raw_text(pipeline, tokenizer, tmp_path):
    import spacy

    output = tmp_path / "with_tokenizer"
    result = CliRunner().invoke(
        app, ["add-tokenizer", str(pipeline), str(tokenizer), str(output)]
    )
    assert result.exit_code == 0, result.output
    nlp = spacy.load(output)
    assert nlp.pipe_names[0] == "lstm_tokenizer"
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == (
        "spacy-lstm.RawTextTokenizer.v1"
    )
    doc = nlp("The dog chased a ball. She told me.")
    assert doc.text == "The dog chased a ball. She told me."
    assert doc.has_annotation("DEP")
    result = CliRunner().invoke(
        app, ["evaluate-parser", str(output), str(DEV), "--raw-text"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output.splitlines()[-1])["conll2018_raw_text"]
    assert 0.0 <= scores["las"]["f1"] <= scores["words"]["f1"] <= 1.0
    # the pipeline's senter sets the sentences instead
    result = CliRunner().invoke(
        app,
        ["add-tokenizer", str(pipeline), str(tokenizer), str(tmp_path / "senter"),
         "--pipeline-sentences"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    nlp = spacy.load(tmp_path / "senter")
    assert nlp.get_pipe("lstm_tokenizer").cfg["sentences"] is False
    assert nlp.config["components"]["lstm_tokenizer"]["sentences"] is False


def test_add_tokenizer_refuses_another_language(pipeline, tmp_path):
    import spacy

    french = spacy.blank("fr", config={"nlp": {"tokenizer": {
        "@tokenizers": "spacy-lstm.RawTextTokenizer.v1"}}})  # fmt: skip
    french.add_pipe("lstm_tokenizer")
    french.to_disk(tmp_path / "fr")
    result = CliRunner().invoke(
        app, ["add-tokenizer", str(pipeline), str(tmp_path / "fr"), str(tmp_path / "x")]
    )
    assert result.exit_code == 1
    assert "reads 'fr'" in result.output and "must be one language" in result.output


def test_split_conllu(tmp_path):
    first, rest = tmp_path / "a" / "first.conllu", tmp_path / "rest.conllu"
    result = CliRunner().invoke(
        app, ["split-conllu", str(DEV), "5", str(first), str(rest)]
    )
    assert result.exit_code == 0, result.output
    gold = read_conllu(DEV)
    assert [s.words for s in read_conllu(first)] == [s.words for s in gold[:5]]
    assert [s.words for s in read_conllu(rest)] == [s.words for s in gold[5:]]
    assert "# text = " in rest.read_text(encoding="utf8")
    result = CliRunner().invoke(
        app, ["split-conllu", str(DEV), "8", str(first), str(rest)]
    )
    assert result.exit_code == 1 and "has 8 sentences" in result.output
