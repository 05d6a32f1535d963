import json
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.cli.init_pipeline import init_vectors_cli
from spacy.cli.train import train
from typer.testing import CliRunner

from spacy_lstm.cli import app
from spacy_lstm.vectors.word2vec_format import read_word2vec

ROOT = Path(__file__).parent.parent.parent
SIMILARITY = ROOT / "corpus" / "text" / "similarity.tsv"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    output = tmp_path_factory.mktemp("word2vec")
    train(ROOT / "configs" / "word2vec.cfg", output, overrides={})
    return output / "model-last"


def invoke(*args):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


@pytest.mark.parametrize("suffix", [".txt", ".bin"])
def test_export_writes_the_table_most_frequent_first(pipeline, tmp_path, suffix):
    out = tmp_path / f"vectors{suffix}"
    info = invoke("export-vectors", pipeline, out)
    nlp = spacy.load(pipeline)
    assert info["words"] == nlp.vocab.vectors.shape[0]
    table = read_word2vec(out)
    assert table.words[:3] == ["the", ".", "a"]  # the most frequent tokens
    for word, row in zip(table.words, table.vectors):
        numpy.testing.assert_allclose(row, nlp.vocab[word].vector, rtol=1e-5)


def test_spacy_init_vectors_reads_the_export(pipeline, tmp_path):
    out = tmp_path / "vectors.txt"
    invoke("export-vectors", pipeline, out)
    settings = dict(truncate=0, mode="default", prune=-1, name=None, attr="ORTH")
    init_vectors_cli(
        "en", out, tmp_path / "imported", verbose=False, jsonl_loc=None, **settings
    )
    imported = spacy.load(tmp_path / "imported")
    original = spacy.load(pipeline)
    numpy.testing.assert_allclose(
        imported.vocab["cook"].vector, original.vocab["cook"].vector, rtol=1e-5
    )


def test_evaluate_vectors_on_pipeline_and_file(pipeline, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(
        ": family\nhe she david maria\n: gram1\ncook cooks read reads\n"
    )
    output = tmp_path / "scores.json"
    result = invoke("evaluate-vectors", pipeline, "--similarity", SIMILARITY,
                    "--analogies", questions, "--output", output)  # fmt: skip
    assert json.loads(output.read_text()) == result
    scores = result["similarity:similarity.tsv"]
    assert scores["pairs"] == 15 and -1 <= scores["spearman"] <= 1
    assert result["analogies:questions.txt"]["questions"] == 2
    out = tmp_path / "v.bin"
    invoke("export-vectors", pipeline, out)
    from_file = invoke("evaluate-vectors", out, "--similarity", SIMILARITY)
    assert from_file["similarity:similarity.tsv"] == pytest.approx(scores)


def test_errors_are_clear(pipeline, tmp_path):
    result = CliRunner().invoke(app, ["evaluate-vectors", str(tmp_path / "nothing")])
    assert result.exit_code != 0
    blank = spacy.blank("en")
    blank.to_disk(tmp_path / "blank")
    result = CliRunner().invoke(
        app, ["export-vectors", str(tmp_path / "blank"), str(tmp_path / "v.txt")]
    )
    assert result.exit_code == 1 and "has no vectors" in result.output
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("zzyzx qwxq 5\n", encoding="utf8")
    result = CliRunner().invoke(
        app, ["evaluate-vectors", str(pipeline), "--similarity", str(unknown)]
    )
    assert result.exit_code == 1 and "No pair" in result.output
