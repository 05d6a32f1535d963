import json
from pathlib import Path

import pytest
from spacy.cli.train import train
from typer.testing import CliRunner

from spacy_lstm.cli import app

ROOT = Path(__file__).parent.parent.parent
SAMPLE = ROOT / "corpus" / "text" / "sample.txt"


@pytest.fixture(scope="module", params=["lm_word.cfg", "lm_char.cfg"])
def pipeline(request, tmp_path_factory):
    output = tmp_path_factory.mktemp("lm")
    overrides = {"training.max_steps": 30, "training.eval_frequency": 30}
    train(ROOT / "configs" / request.param, output, overrides=overrides)
    return output / "model-last", request.param.split("_")[1].split(".")[0]


def run(*args):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_perplexity_counts_the_stream(pipeline, tmp_path):
    pipeline, level = pipeline
    text = "She told him.\n\nShe cooks soup.\n"
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf8")
    output = tmp_path / "scores" / "perplexity.json"
    result = json.loads(
        run("perplexity", pipeline, path, "--pretokenized", "--output", output)
    )
    # words: 3 + <eos> + 3 + <eos>; characters: every one, newlines included
    assert result["tokens"] == (len(text) if level == "char" else 8)
    assert result["perplexity"] > 1
    assert json.loads(output.read_text()) == result


def test_generate_is_seeded(pipeline):
    pipeline, _ = pipeline
    first = run("generate", pipeline, "She always", "--n-tokens", "8", "--seed", "2")
    again = run("generate", pipeline, "She always", "--n-tokens", "8", "--seed", "2")
    assert first == again and first.startswith("She always")


def test_a_pipeline_without_lstm_lm(tmp_path):
    import spacy

    spacy.blank("en").to_disk(tmp_path / "blank")
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "blank"), "hi"])
    assert result.exit_code == 1 and "has no lstm_lm component" in result.output


def test_pretokenized_words_are_keyed_as_the_model_keys_them(pipeline, tmp_path):
    """With key = LOWER, a capitalised word is the lower-case word, tokenized
    or not."""
    pipeline, level = pipeline
    if level == "char":
        pytest.skip("characters have no key")
    import spacy

    nlp = spacy.load(pipeline)
    nlp.get_pipe("lstm_lm").cfg["key"] = "LOWER"
    nlp.to_disk(tmp_path / "lower")
    path = tmp_path / "text.txt"
    path.write_text("She Told Him .\n", encoding="utf8")
    tokenized = json.loads(run("perplexity", tmp_path / "lower", path))
    pretokenized = json.loads(
        run("perplexity", tmp_path / "lower", path, "--pretokenized")
    )
    assert pretokenized == tokenized


def test_generate_rejects_a_bad_temperature(pipeline):
    result = CliRunner().invoke(
        app, ["generate", str(pipeline[0]), "hi", "--temperature", "nan"]
    )
    assert result.exit_code == 2 and "temperature" in result.output


def test_explain_draws_gates_and_surprisal(pipeline, tmp_path):
    pipeline, level = pipeline
    output = tmp_path / "pictures" / "gates.svg"
    result = json.loads(run("explain", pipeline, "She cooks <soup>", "-o", output))
    svg = output.read_text(encoding="utf8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "surprisal (bits)" in svg and "layer 2 forget gate" in svg
    assert "&lt;soup&gt;" in svg  # the text is escaped
    assert result["units"] == (len("She cooks <soup>") if level == "char" else 5)


def test_agreement_scores_both_formats(pipeline, tmp_path):
    pipeline, level = pipeline
    items = tmp_path / "items.tsv"
    items.write_text(
        "prefix\tcorrect\twrong\tgroup\n"
        "She\tcooks\tcook\t0\n"
        "She cooks\tsoup\tzebra\t4\n",
        encoding="utf8",
    )
    if level == "char":
        result = CliRunner().invoke(app, ["agreement", str(pipeline), str(items)])
        assert result.exit_code == 1 and "word-level model" in result.output
        return
    result = json.loads(run("agreement", pipeline, items, "--pool-from", "3"))
    assert result["items"] == 2 and result["scored"] + result["unscored"] == 2
    assert set(result["groups"]) <= {"0", "3+"}
    text, gold = tmp_path / "s.text", tmp_path / "s.gold"
    text.write_text("She cooks soup\n", encoding="utf8")
    gold.write_text("1\tcooks\tcook\t0\n", encoding="utf8")
    linzen = json.loads(run("agreement", pipeline, text, "--gold", gold))
    assert linzen["items"] == 1
    gold.write_text("7\tcooks\tcook\t0\n", encoding="utf8")
    bad = CliRunner().invoke(
        app, ["agreement", str(pipeline), str(text), "--gold", str(gold)]
    )
    assert bad.exit_code == 1 and "line 1: the target index" in bad.output


def test_agreement_items_from_the_shipped_treebank(tmp_path):
    output = tmp_path / "items" / "agreement.tsv"
    treebank = ROOT / "corpus" / "ud" / "agreement.conllu"
    result = json.loads(run("agreement-items", treebank, "-o", output))
    lines = output.read_text(encoding="utf8").splitlines()
    assert lines[0] == "prefix\tcorrect\twrong\tgroup"
    assert lines[1] == "The keys to the cabinet\tare\tis\t1"
    assert result["items"] == len(lines) - 1 == 8
    assert result["groups"] == {"0": 1, "1": 5, "2": 1, "3": 1}
    no_items = CliRunner().invoke(
        app,
        [
            "agreement-items",
            str(ROOT / "corpus" / "ud" / "dev.conllu"),
            "-o",
            str(output),
        ],
    )
    assert (
        no_items.exit_code == 1 and "no subject-verb agreement items" in no_items.output
    )
