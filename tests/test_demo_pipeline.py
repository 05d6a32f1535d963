"""The assembled pipeline of configs/pipeline.cfg, built by the demo command:
every annotation, exact round trips, n_process=2, spacy package, and spaCy's
own CLI on the pipeline and its stages."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy
import pytest
import spacy
import torch

ROOT = Path(__file__).parent.parent
TEXTS = [
    "I saw a girl with a telescope.",
    "Maria works as a cook. She always had a passion for cooking!",
    "",
    "Zorblax quuxed the 🦜 flibbertigibbet.",
    "David lives in San Francisco. He met Maria at a school alumni meeting. "
    "They talk about food.",
]


def annotations(doc):
    """Everything the pipeline sets on a doc, in comparable form."""
    return {
        "tokens": [t.text for t in doc],
        "heads": [t.head.i for t in doc],
        "deps": [t.dep_ for t in doc],
        "tags": [t.tag_ for t in doc],
        "sent_starts": [t.is_sent_start for t in doc],
        "head_probs": [t._.head_prob for t in doc],  # None, not NaN, for spaces
        "alternatives": [[(h.i, p) for h, p in t._.head_alternatives] for t in doc],
        "surprisal": [t._.surprisal for t in doc],
        "vectors": [t.vector.tolist() for t in doc],
    }


def test_demo_prints_every_part(demo):
    output, printout = demo
    for expected in (
        "python -m spacy assemble configs/pipeline.cfg",
        "alternative heads",
        "telescope",
        "bit",
        "Next word after",
        "Fill the blank",
        "Nearest neighbours",
        "smoke demo",
    ):
        assert expected in printout
    assert (output / "telescope.svg").read_text(encoding="utf8").startswith("<svg")
    gates = (output / "maria_gates.svg").read_text(encoding="utf8")
    assert gates.startswith("<svg") and "forget gate" in gates


def test_assembled_pipeline_sets_every_annotation(demo):
    nlp = spacy.load(demo[0] / "pipeline")
    assert nlp.pipe_names == [
        "word2vec", "tok2vec", "tagger", "senter", "lstm_parser", "lstm_lm",
    ]  # fmt: skip
    doc = nlp(TEXTS[4])
    assert len(list(doc.sents)) >= 2  # sentences on raw text, from senter
    for sent in doc.sents:
        assert sum(t.dep_ == "ROOT" for t in sent) == 1
    assert all(t.dep_ and t.tag_ for t in doc)
    assert all(0.0 <= t._.head_prob <= 1.0 for t in doc)
    assert all(t._.surprisal >= 0.0 for t in doc)
    assert doc._.perplexity > 1.0
    assert nlp.vocab.vectors.attr == spacy.attrs.LOWER
    assert doc[0].has_vector and nlp.vocab["david"].has_vector
    assert doc[0:3].similarity(doc[3:6]) != 0.0
    empty = nlp("")
    assert len(empty) == 0 and empty._.perplexity is None


def test_round_trips_give_identical_annotations(demo, tmp_path):
    nlp = spacy.load(demo[0] / "pipeline")
    expected = [annotations(doc) for doc in nlp.pipe(TEXTS)]
    nlp.to_disk(tmp_path / "copy")
    reloaded = spacy.load(tmp_path / "copy")
    assert [annotations(doc) for doc in reloaded.pipe(TEXTS)] == expected
    from_bytes = type(nlp).from_config(nlp.config).from_bytes(nlp.to_bytes())
    assert [annotations(doc) for doc in from_bytes.pipe(TEXTS)] == expected
    assert numpy.array_equal(from_bytes.vocab.vectors.data, nlp.vocab.vectors.data)


def test_two_processes_give_the_same_annotations(demo):
    nlp = spacy.load(demo[0] / "pipeline")
    texts = TEXTS * 6
    one = [annotations(doc) for doc in nlp.pipe(texts, batch_size=4)]
    two = [annotations(doc) for doc in nlp.pipe(texts, batch_size=4, n_process=2)]
    assert two == one


def random_texts(n: int, seed: int = 0):
    """Random Unicode: letters of many scripts, emoji, combining marks,
    right-to-left text, control characters and runs of whitespace."""
    rng = numpy.random.default_rng(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "äöüßéèçñ",
        "абвгдежз", "αβγδεζ", "שלוםעולם", "مرحبابالعالم", "漢字かなカナ", "🦜🚀👍🏽",
        "\u0301\u0308", "\x00\x07\x1b\u200b\u200e\ufeff", " ", "  \n", "\t\n\n",
        ".,;:!?-'\"()",
    ]  # fmt: skip
    texts = []
    for _ in range(n):
        parts = [str(rng.choice(list(pools[rng.integers(len(pools))])))
                 for _ in range(rng.integers(0, 60))]  # fmt: skip
        texts.append("".join(parts))
    return texts


def test_random_unicode_through_two_processes(demo, monkeypatch):
    # A worker runs torch on one thread (spacy_lstm/__init__.py). The one
    # process does too, in float32: with two threads, or in bfloat16, the
    # kernels can round differently and flip this tiny model's many near-ties.
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")
    nlp = spacy.load(demo[0] / "pipeline")
    texts = random_texts(40)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = [annotations(doc) for doc in nlp.pipe(texts, batch_size=8)]
    finally:
        torch.set_num_threads(threads)
    two = [annotations(doc) for doc in nlp.pipe(texts, batch_size=8, n_process=2)]
    assert two == one
    for doc in nlp.pipe(texts):
        for sent in doc.sents:
            assert sum(t.head.i == t.i for t in sent) >= 1
        for token in doc:
            assert token._.head_prob is None or 0.0 <= token._.head_prob <= 1.0
            assert token._.surprisal is None or token._.surprisal >= 0.0


STAGES = ["stages/word2vec", "stages/lm", "stages/parser"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_loads_elsewhere_and_packages(demo, stage, tmp_path):
    """Nothing in a saved stage refers to a file outside it: it loads from
    another working directory, and spacy package builds it."""
    path = demo[0] / stage / "model-last"
    check = "import spacy, sys; print(spacy.load(sys.argv[1]).pipe_names)"
    loaded = subprocess.run(
        [sys.executable, "-c", check, str(path)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    built = subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(path), str(tmp_path),
         "--name", "stage", "--version", "0.0.1", "--build", "wheel"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert list(tmp_path.glob("*/dist/*.whl"))


def test_spacy_cli_on_pipeline_cfg(demo, tmp_path, monkeypatch):
    """spacy debug config passes on pipeline.cfg with the demo's stages, and
    spacy init fill-config adds nothing to it."""
    from spacy.cli.debug_config import debug_config
    from spacy.cli.init_config import fill_config
    from spacy.util import load_config

    stages = {"parser": demo[0] / "stages/parser/model-last",
              "lm": demo[0] / "stages/lm/model-last"}  # fmt: skip
    monkeypatch.chdir(ROOT)  # the [corpora] paths are relative to the repository
    debug_config(
        ROOT / "configs" / "pipeline.cfg",
        overrides={f"paths.{key}": str(path) for key, path in stages.items()},
    )
    config = load_config(ROOT / "configs" / "pipeline.cfg", interpolate=False)
    for key, path in stages.items():
        config["paths"][key] = str(path)
    config.to_disk(tmp_path / "base.cfg", interpolate=False)
    base, filled = fill_config(tmp_path / "f.cfg", tmp_path / "base.cfg", silent=True)
    assert filled == base


def test_spacy_evaluate_reports_our_scores(demo, tmp_path):
    """spacy evaluate prints UAS and LAS; --per-component puts every score,
    the language model's and word2vec's included, in the JSON output."""
    subprocess.run(
        [sys.executable, "-m", "spacy", "convert", str(ROOT / "corpus/ud/dev.conllu"),
         str(tmp_path), "-c", "conllu", "-n", "10"],
        check=True, capture_output=True,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "evaluate", str(demo[0] / "pipeline"),
         str(tmp_path / "dev.spacy"), "--output", str(tmp_path / "scores.json"),
         "--per-component"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads((tmp_path / "scores.json").read_text(encoding="utf8"))
    assert 0.0 <= scores["lstm_parser"]["dep_las"] <= 1.0
    assert scores["lstm_lm"]["lm_ppl"] > 1.0
    assert "word2vec_spearman" in scores["word2vec"]


def test_spacy_package_builds_a_wheel_that_loads(demo, tmp_path):
    """spacy package -> wheel that requires spacy-lstm -> installed on its own
    (no dependencies: this environment has them) -> spacy.load by name."""
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(demo[0] / "pipeline"),
         str(tmp_path), "--name", "lstm_demo", "--version", "0.0.1",
         "--build", "wheel"],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*/dist/*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
        requirements = archive.read(metadata).decode("utf8")
    assert "Requires-Dist: spacy-lstm" in requirements
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(site), str(wheel)],
        check=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    check = (
        "import spacy; nlp = spacy.load('en_lstm_demo'); "
        "doc = nlp('I saw a girl with a telescope.'); "
        "print(nlp.pipe_names[-1], doc[6].head.text, round(doc._.perplexity) > 0)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True,
        cwd=tmp_path,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.split() == ["lstm_lm", "saw", "True"]


def test_readme_python_examples_run_on_the_demo_pipeline(demo, ud_pipeline, tmp_path):
    """The README's Python blocks, in order, with every pipeline they load
    replaced by the demo's, or for the ud workflow's, by a small one."""
    output, _ = demo
    readme = (ROOT / "README.md").read_text(encoding="utf8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 3
    script = "import spacy\n" + "\n".join(blocks)
    ud = str(ud_pipeline)
    script = re.sub(
        r'spacy\.load\("training/ud/[^"]+"\)', f"spacy.load({ud!r})", script
    )
    pipeline = str(output / "pipeline")
    script = re.sub(r'spacy\.load\("[^"]+"\)', f"spacy.load({pipeline!r})", script)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "telescope" in result.stdout


@pytest.mark.parametrize(
    "block",
    re.findall(
        r"```python\n(.*?)```",
        (ROOT / "docs" / "reference.md").read_text(encoding="utf8"),
        re.S,
    ),
)
def test_reference_python_examples_run(block, demo):
    """Each Python block of the reference, on a blank English pipeline or,
    where it loads one, the demo's."""
    code = re.sub(
        r'spacy\.load\("[^"]+"', f"spacy.load({str(demo[0] / 'pipeline')!r}", block
    )
    exec(code, {"spacy": spacy, "nlp": spacy.blank("en")})
