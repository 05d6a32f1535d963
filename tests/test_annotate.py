"""The annotate command on a two-process LocalCluster with the demo pipeline."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy
import pytest
import spacy
from spacy.tokens import DocBin

from spacy_lstm import annotate as annotate_module
from spacy_lstm.annotate import annotate, inputs, manifest, shards, worker

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
    with pytest.raises(ValueError, match="another content of"):
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
    with pytest.raises(ValueError, match=r"pip install \"dask\[distributed\]\""):
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


@pytest.fixture
def loads(monkeypatch):
    """The pipelines spacy.load loads, with the worker's cache emptied."""
    loaded = []
    monkeypatch.setattr(worker, "_PIPELINES", {})
    real_load = spacy.load
    monkeypatch.setattr(
        spacy, "load", lambda name: loaded.append(name) or real_load(name)
    )
    return loaded


def test_each_process_loads_the_pipeline_once(pipeline, loads):
    for _ in range(2):
        docs, rows = annotate_module.annotate_shard(pipeline, "x.txt", [(1, "A doc.")])
    assert loads == [pipeline] and rows[0]["tokens"] == 3


def die_once(marker, *args):
    """annotate_shard, except that the first call kills its worker process."""
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return worker.annotate_shard(*args)


def test_a_task_whose_worker_dies_is_run_again(pipeline, corpus, tmp_path, monkeypatch):
    import functools

    import cloudpickle

    # the workers cannot import this test module: send die_once by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        marker = str(tmp_path / "died")
        monkeypatch.setattr(
            worker, "annotate_shard", functools.partial(die_once, marker)
        )
        result = run(pipeline, [corpus], tmp_path / "out")
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert Path(marker).exists()
    assert result["docs"] == len(LINES) - 1


# What a resumed run refuses: each case below once mixed or repeated data.


def manifest_of(pipeline, paths, shard_size=5):
    return manifest.make_manifest(
        str(pipeline), [Path(p) for p in paths], shard_size, 100
    )


def test_a_change_in_the_middle_of_an_input_is_refused(pipeline, tmp_path):
    corpus = tmp_path / "big.txt"
    data = bytearray(b"a" * 79 + b"\n") * (3 * (1 << 20) // 80)
    corpus.write_bytes(bytes(data))
    output = tmp_path / "out"
    manifest.check_output(output, manifest_of(pipeline, [corpus]))
    data[len(data) // 2] = ord("\n")  # same size, first and last MiB the same
    corpus.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"another content of .*big\.txt"):
        manifest.check_output(output, manifest_of(pipeline, [corpus]))


def test_a_changed_shard_plan_is_refused(pipeline, corpus, tmp_path):
    output = tmp_path / "out"
    saved = manifest_of(pipeline, [corpus])
    manifest.check_output(output, saved)
    saved["shards"] = saved["shards"][:-1]
    (output / shards.MANIFEST).write_text(json.dumps(saved), encoding="utf8")
    with pytest.raises(ValueError, match="another shard plan"):
        manifest.check_output(output, manifest_of(pipeline, [corpus]))


@pytest.fixture
def own_pipeline(pipeline, tmp_path):
    """A copy of the demo pipeline that a test may change."""
    import shutil

    return Path(shutil.copytree(pipeline, tmp_path / "pipeline"))


def disable_lm(path: Path) -> None:
    config = spacy.util.load_config(path / "config.cfg")
    config["nlp"]["disabled"] = ["lstm_lm"]
    config.to_disk(path / "config.cfg")


def test_a_pipeline_changed_at_the_same_path_is_refused(own_pipeline, corpus, tmp_path):
    output = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(str(own_pipeline), [corpus], output, on_shard=stop_after_one)
    disable_lm(own_pipeline)
    with pytest.raises(ValueError, match="another model at .*its files have changed"):
        run(str(own_pipeline), [corpus], output)
    # --overwrite starts again: every doc from the changed pipeline
    result = run(str(own_pipeline), [corpus], output, overwrite=True)
    assert result["shards_done_before"] == 0 and result["docs"] == len(LINES) - 1
    _, rows = read_output(output, spacy.blank("en").vocab)
    assert not any("perplexity" in row for row in rows)


def stop_after_one(counts):
    raise KeyboardInterrupt


def test_workers_key_their_pipeline_by_its_digest(own_pipeline, loads, monkeypatch):
    path = str(own_pipeline)
    before = annotate_module.pipeline_digest(path)
    _, rows = worker.annotate_shard(path, "x.txt", [(1, "A doc.")], digest=before)
    assert "perplexity" in rows[0]
    disable_lm(own_pipeline)
    after = annotate_module.pipeline_digest(path)
    assert after != before
    # a task of the old run: refused, not served by the new model on disk
    monkeypatch.setattr(worker, "_PIPELINES", {})
    with pytest.raises(ValueError, match="not the one this run began with"):
        worker.annotate_shard(path, "x.txt", [(1, "A doc.")], digest=before)
    # a task of a new run: the changed model, loaded anew
    _, rows = worker.annotate_shard(path, "x.txt", [(1, "A doc.")], digest=after)
    assert "perplexity" not in rows[0] and len(loads) == 2


def test_a_folder_that_holds_no_run_is_refused(pipeline, corpus, tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    (output / "000-000000.spacy").write_bytes(b"")  # not ours: no manifest
    with pytest.raises(ValueError, match="not empty and holds no annotate run"):
        run(pipeline, [corpus], output)
    with pytest.raises(ValueError, match="not empty and holds no annotate run"):
        run(pipeline, [corpus], output, overwrite=True)
    assert (output / "000-000000.spacy").read_bytes() == b""


def test_only_our_temporary_files_are_deleted(pipeline, corpus, tmp_path):
    output = tmp_path / "out"
    manifest.check_output(output, manifest_of(pipeline, [corpus]))
    (output / ".000-000001.jsonl.tmp").write_bytes(b"partial")
    (output / ".notes.txt.tmp").write_text("the user's", encoding="utf8")
    (output / "notes.txt").write_text("the user's", encoding="utf8")
    shards.remove_temporary(output)
    assert not (output / ".000-000001.jsonl.tmp").exists()
    assert (output / ".notes.txt.tmp").exists()
    shards.remove_run(output)
    assert sorted(p.name for p in output.iterdir()) == [".notes.txt.tmp", "notes.txt"]


def test_an_input_named_twice_is_refused(pipeline, corpus, tmp_path):
    with pytest.raises(ValueError, match="named twice"):
        run(pipeline, [corpus, tmp_path / "." / corpus.name], tmp_path / "out")
    copy = tmp_path / "copy.txt"
    copy.write_bytes(corpus.read_bytes())
    with pytest.raises(ValueError, match="same content as"):
        run(pipeline, [corpus, copy], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_truncated_gzip_names_the_file(pipeline, tmp_path):
    import gzip

    whole = gzip.compress(("A line of text.\n" * 2000).encode("utf8"))
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut\.txt\.gz is truncated or corrupt"):
        run(pipeline, [cut], tmp_path / "out")
    result = subprocess.run(
        [sys.executable, "-m", "spacy_lstm", "annotate", pipeline, str(cut),
         "--output", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "cut.txt.gz is truncated or corrupt" in line


def test_a_byte_order_mark_and_carriage_returns(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffThe first line.\r\nOld\rMac.\n\r\n".encode("utf8"))
    about = inputs.describe(path)
    assert about["items"] == 3 and about["size"] == path.stat().st_size
    plan = shards.plan_shards([about["items"]], 10)
    ((_, items, refused),) = inputs.read_items(path, plan, 100)
    assert items == [(1, "The first line."), (2, "Old Mac.")] and not refused


def test_annotate_shard_leaves_the_callers_threads(pipeline):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        worker.annotate_shard(pipeline, "x.txt", [(1, "A doc.")], threads=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def write_docbin(path: Path, n_docs: int, n_words: int = 12) -> List[str]:
    nlp = spacy.blank("en")
    words = " ".join(["words"] * (n_words - 3))
    texts = [f"Doc number {i} {words}" for i in range(n_docs)]
    docs = list(nlp.pipe(texts))
    for i, doc in enumerate(docs):
        doc.cats = {"EVEN": float(i % 2 == 0)}
        doc.user_data[("number", None, None, None)] = i
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return texts


def peak_memory(read) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_spacy_inputs_are_read_as_a_stream(tmp_path):
    texts = write_docbin(tmp_path / "in.spacy", 1200)
    about = inputs.describe(tmp_path / "in.spacy")
    assert about["items"] == 1200
    plan = shards.plan_shards([about["items"]], 500)
    vocab = spacy.blank("en").vocab
    seen = []
    for _, items, _ in inputs.read_items(tmp_path / "in.spacy", plan, 100):
        for i, data in items:
            doc = spacy.tokens.Doc(vocab).from_bytes(data)
            seen.append(
                (i, doc.text, doc.cats, doc.user_data[("number", None, None, None)])
            )
    assert seen == [
        (i, text, {"EVEN": float(i % 2 == 0)}, i) for i, text in enumerate(texts)
    ]


def test_reading_a_spacy_input_takes_the_same_memory_at_any_size(tmp_path):
    """Memory grows with the shard, not with the file: DocBin.from_disk
    holds the whole file and every doc's arrays."""
    peaks, docbin_peaks = [], []
    for n_docs in (100, 400):
        path = tmp_path / f"{n_docs}.spacy"
        write_docbin(path, n_docs, n_words=1000)
        plan = shards.plan_shards([n_docs], 25)

        def stream():
            for _ in inputs.read_items(path, plan, 100):
                pass

        peaks.append(peak_memory(stream))
        peaks[-1] = max(peaks[-1], peak_memory(lambda: inputs.describe(path)))
        docbin_peaks.append(peak_memory(lambda: DocBin().from_disk(path)))
    assert docbin_peaks[1] > 3 * docbin_peaks[0]
    assert peaks[1] < 1.5 * peaks[0], (peaks, docbin_peaks)


def test_a_corrupt_spacy_input_names_the_file(tmp_path):
    path = tmp_path / "bad.spacy"
    path.write_bytes(b"not a docbin at all")
    with pytest.raises(ValueError, match=r"bad\.spacy is truncated or corrupt"):
        inputs.describe(path)
