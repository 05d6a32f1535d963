"""The annotate command on a two-process LocalCluster with the demo pipeline."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import DocBin

from spacy_lstm import annotate as annotate_module
from spacy_lstm.annotate import annotate

pytest.importorskip("distributed")

ROOT = Path(__file__).parent.parent
LINES = [
    "The girl saw the man with the telescope.",
    "",
    "Maria, who lives next to the school, reads a book.",
] + [f"The keys to cabinet number {i} are on the table." for i in range(20)]


@pytest.fixture(autouse=True)
def float32(monkeypatch):
    """Workers inherit the environment: the same precision as nlp.pipe here."""
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def pipeline(demo):
    return str(demo[0] / "pipeline")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf8")
    return path


def run(pipeline, inputs, output, **kwargs):
    return annotate(pipeline, inputs, output, workers=2, shard_size=5, **kwargs)


def read_output(output: Path, vocab):
    """The docs and summaries of every shard, in shard order."""
    docs, rows = [], []
    for shard in sorted(output.glob("*.spacy")):
        docs.extend(DocBin().from_disk(shard).get_docs(vocab))
        rows.extend(map(json.loads, shard.with_suffix(".jsonl").open(encoding="utf8")))
    return docs, rows


def test_output_equals_nlp_pipe(pipeline, corpus, tmp_path):
    result = run(pipeline, [corpus], tmp_path / "out")
    nlp = spacy.load(pipeline)
    expected = list(nlp.pipe(line for line in LINES if line))
    docs, rows = read_output(tmp_path / "out", nlp.vocab)
    assert result["docs"] == len(expected) == len(docs)
    assert result["tokens"] == sum(len(doc) for doc in expected)
    assert [row["line"] for row in rows] == [
        i + 1 for i, line in enumerate(LINES) if line
    ]
    for doc, want, row in zip(docs, expected, rows):
        assert [t.text for t in doc] == [t.text for t in want]
        assert [t.head.i for t in doc] == [t.head.i for t in want]
        assert [t.dep_ for t in doc] == [t.dep_ for t in want]
        numpy.testing.assert_allclose(
            doc._.lm_surprisal, want._.lm_surprisal, rtol=1e-4, atol=1e-4
        )
        assert row["tokens"] == len(want)
        assert row["sentences"] == len(list(want.sents))
        assert row["perplexity"] == pytest.approx(want._.perplexity, rel=1e-4)


def test_resume_after_an_interrupted_run(pipeline, corpus, tmp_path):
    output = tmp_path / "out"

    def stop(counts):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(pipeline, [corpus], output, on_shard=stop)
    finished = sorted(output.glob("*.spacy"))
    assert len(finished) == 1
    # a shard cut off while it was written is a temporary file, done again
    (output / ".000-000004.spacy.tmp").write_bytes(b"partial")
    result = run(pipeline, [corpus], output)
    assert result["shards_done_before"] == 1
    assert result["docs"] + len(DocBin().from_disk(finished[0])) == len(LINES) - 1
    assert not list(output.glob(".*.tmp"))
    _, rows = read_output(output, spacy.blank("en").vocab)
    assert [row["line"] for row in rows] == [
        i + 1 for i, line in enumerate(LINES) if line
    ]
    # all done: nothing to do
    assert run(pipeline, [corpus], output)["docs"] == 0


def test_a_changed_input_is_refused_on_resume(pipeline, corpus, tmp_path):
    output = tmp_path / "out"
    run(pipeline, [corpus], output)
    with corpus.open("a", encoding="utf8") as file_:
        file_.write("One more line.\n")
    with pytest.raises(ValueError, match="have changed"):
        run(pipeline, [corpus], output)
    with pytest.raises(ValueError, match="shard_size"):
        annotate(pipeline, [corpus], output, workers=2, shard_size=7)


def test_bad_lines_are_counted_with_file_and_line(pipeline, tmp_path):
    corpus = tmp_path / "bad.txt"
    corpus.write_bytes(
        b"A good line.\n\xff\xfe not UTF-8\n" + b"x " * 200 + b"\nFine.\n"
    )
    result = run(pipeline, [corpus], tmp_path / "out", max_chars=100)
    assert (result["docs"], result["refused"]) == (2, 2)
    _, rows = read_output(tmp_path / "out", spacy.blank("en").vocab)
    errors = {row["line"]: row["error"] for row in rows if "error" in row}
    assert sorted(errors) == [2, 3]
    assert "UTF-8" in errors[2] and "max-chars" in errors[3]
    assert all(row["source"] == str(corpus) for row in rows)


def test_spacy_inputs(pipeline, tmp_path):
    nlp = spacy.blank("en")
    DocBin(docs=[nlp(line) for line in LINES[:5] if line]).to_disk(
        tmp_path / "in.spacy"
    )
    result = run(pipeline, [tmp_path / "in.spacy"], tmp_path / "out")
    docs, rows = read_output(tmp_path / "out", spacy.load(pipeline).vocab)
    assert result["docs"] == 4 and [row["doc"] for row in rows] == [0, 1, 2, 3]
    assert all(doc.has_annotation("DEP") for doc in docs)


def test_cli_errors_are_one_line(pipeline, corpus, tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "spacy_lstm", "annotate", *map(str, args)],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip

    missing = cli(tmp_path / "nothing", corpus, "--output", tmp_path / "out")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"✘ Pipeline not found: {tmp_path / 'nothing'} is neither a directory nor "
        "an installed package."
    ]
    unreachable = cli(
        pipeline,
        corpus,
        "--output",
        tmp_path / "out",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert unreachable.returncode == 1
    (line,) = unreachable.stderr.strip().splitlines()
    assert "Could not reach the Dask scheduler at tcp://127.0.0.1:9" in line


def test_without_dask_the_error_says_how_to_install(
    pipeline, corpus, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValueError, match=r"spacy-lstm\[distributed\]"):
        annotate(pipeline, [corpus], tmp_path / "out")


def test_the_shard_plan():
    shards = annotate_module.plan_shards([7, 0, 3], 3)
    assert [(s.name, s.input, s.start, s.stop) for s in shards] == [
        ("000-000000", 0, 0, 3),
        ("000-000001", 0, 3, 6),
        ("000-000002", 0, 6, 7),
        ("002-000000", 2, 0, 3),
    ]


def test_the_readme_command(pipeline, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    (command,) = re.findall(r"^python -m spacy_lstm annotate .*$", readme, re.M)
    args = command.split()[3:]
    args[args.index("training/demo/pipeline")] = pipeline
    args[args.index("--output") + 1] = str(tmp_path / "annotated")
    result = subprocess.run(
        [sys.executable, "-m", "spacy_lstm", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    n_lines = sum(1 for line in open(ROOT / "corpus/text/sample.txt") if line.strip())
    assert summary["docs"] == n_lines and summary["refused"] == 0


def test_each_process_loads_the_pipeline_once(pipeline, monkeypatch):
    loads = []
    monkeypatch.setattr(annotate_module, "_PIPELINES", {})
    real_load = spacy.load
    monkeypatch.setattr(
        spacy, "load", lambda name: loads.append(name) or real_load(name)
    )
    for _ in range(2):
        docs, rows = annotate_module.annotate_shard(pipeline, "x.txt", [(1, "A doc.")])
    assert loads == [pipeline] and rows[0]["tokens"] == 3


def die_once(marker, *args):
    """annotate_shard, except that the first call kills its worker process."""
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return annotate_module.annotate_shard(*args)


def test_a_task_whose_worker_dies_is_run_again(pipeline, corpus, tmp_path, monkeypatch):
    import functools

    import cloudpickle

    # the workers cannot import this test module: send die_once by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        marker = str(tmp_path / "died")
        monkeypatch.setattr(
            annotate_module, "annotate_shard", functools.partial(die_once, marker)
        )
        result = run(pipeline, [corpus], tmp_path / "out")
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert Path(marker).exists()
    assert result["docs"] == len(LINES) - 1
