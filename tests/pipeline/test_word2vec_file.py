"""word2vec trained straight from a text file (train-vectors)."""

import json
import random

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from typer.testing import CliRunner

from spacy_lstm.cli import app
from spacy_lstm.pipeline.word2vec_file import EncodedCorpus, train_on_corpus

ANIMALS = ["cat", "dog", "mouse", "horse", "cow", "sheep"]
MACHINES = ["car", "engine", "truck", "wheel", "motor", "bus"]


def write_topic_corpus(path, n_lines=600, seed=0):
    """Lines drawn from one of two topics: words co-occur within a topic."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        topic = rng.choice([ANIMALS, MACHINES])
        lines.append(" ".join(rng.choice(topic) for _ in range(8)))
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def make_nlp(threads=1, **model):
    nlp = spacy.blank("en")
    settings = dict(vector_size=24, min_count=1, epochs=5, window=3, sample=0.0)
    settings.update(model)
    nlp.add_pipe("word2vec", config={"model": settings, "threads": threads})
    return nlp


def train(path, threads=1, **model):
    nlp = make_nlp(threads, **model)
    train_on_corpus(nlp.get_pipe("word2vec"), EncodedCorpus(path), threads=threads)
    return nlp


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_words_that_cooccur_end_up_closer(tmp_path, architecture):
    path = write_topic_corpus(tmp_path / "text.txt")
    vocab = train(path, threads=2, architecture=architecture).vocab

    def sim(a, b):
        return vocab[a].similarity(vocab[b])

    within = numpy.mean([sim(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = numpy.mean([sim(a, b) for a in ANIMALS for b in MACHINES])
    assert within > across + 0.3


def test_one_thread_is_reproducible(tmp_path):
    path = write_topic_corpus(tmp_path / "text.txt")
    first, second = train(path), train(path)
    numpy.testing.assert_array_equal(
        first.vocab.vectors.data, second.vocab.vectors.data
    )


def test_vocabulary_is_the_one_spacy_train_builds(tmp_path):
    """Same keys (LOWER merges cases), counts and row order as the
    component's own initialize on the same words."""
    text = "The cook cooks\nthe Cook and the chef cook\n\nchef cooks soup\n"
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf8")
    from_file = train(path)
    in_spacy = make_nlp()
    docs = [Doc(in_spacy.vocab, words=line.split()) for line in text.split("\n")]
    examples = [Example(doc, doc) for doc in docs if len(doc)]
    in_spacy.initialize(lambda: examples)
    assert list(from_file.vocab.vectors.keys()) == list(in_spacy.vocab.vectors.keys())
    for_file, for_spacy = (
        nlp.get_pipe("word2vec").model.attrs["counts"].tolist()
        for nlp in (from_file, in_spacy)
    )
    assert for_file == for_spacy
    assert (
        from_file.vocab["Cook"].vector.tolist()
        == from_file.vocab["cook"].vector.tolist()
    )


def test_lines_and_long_lines_are_sentences(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("a b c\n\n  d e  \n" + " ".join(["w"] * 25_000) + "\n")
    corpus = EncodedCorpus(path)
    assert corpus.starts.tolist() == [0, 3, 5, 10_005, 20_005, 25_005]
    assert corpus.words == ["a", "b", "c", "d", "e", "w"]


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def test_command_saves_a_pipeline_with_the_trained_vectors(tmp_path):
    path = write_topic_corpus(tmp_path / "text.txt")
    summary_path = tmp_path / "summary.json"
    result = invoke(
        "train-vectors", path, tmp_path / "vectors", "--output", summary_path,
        "--components.word2vec.model.min_count", 1,
        "--components.word2vec.model.vector_size", 16,
        "--components.word2vec.threads", 1,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == json.loads(summary_path.read_text())
    assert summary["words"] == 600 * 8 and summary["vocabulary"] == 12
    nlp = spacy.load(tmp_path / "vectors")
    assert nlp.pipe_names == ["word2vec"]
    assert nlp.vocab.vectors.shape == (12, 16)
    # the same settings, trained in this process, give the same vectors
    again = train(path, threads=1, min_count=1, vector_size=16, epochs=5, window=5,
                  sample=0.001)  # fmt: skip
    numpy.testing.assert_array_equal(nlp.vocab.vectors.data, again.vocab.vectors.data)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "has no words"),
        (b"\n\n   \n\n", "has no words"),
        (b"fine line\n\xff\xfe broken\n", "line 2: not valid UTF-8"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    result = invoke("train-vectors", path, tmp_path / "out")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_file_and_wrong_config(tmp_path):
    result = invoke("train-vectors", tmp_path / "nothing.txt", tmp_path / "out")
    assert result.exit_code != 0 and "does not exist" in result.output
    path = write_topic_corpus(tmp_path / "text.txt", n_lines=10)
    config = tmp_path / "parser.cfg"
    assert invoke("init-config", "parser", config).exit_code == 0
    result = invoke("train-vectors", path, tmp_path / "out", "--config", config)
    assert result.exit_code == 1
    assert "one word2vec component" in result.output
