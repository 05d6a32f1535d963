import subprocess
import sys
from pathlib import Path

import pytest
from spacy.cli.train import train

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def word2vec_pipeline(tmp_path_factory):
    """configs/word2vec.cfg trained on corpus/: the vectors that configs with
    static vectors (paths.vectors) load."""
    output = tmp_path_factory.mktemp("word2vec_pipeline")
    train(ROOT / "configs" / "word2vec.cfg", output, overrides={})
    return output / "model-last"


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """`python -m spacy_lstm demo`, run once: its output dir and printout."""
    output = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "spacy_lstm", "demo", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return output, result.stdout


@pytest.fixture(scope="session")
def ud_pipeline(tmp_path_factory):
    """configs/ud.cfg trained briefly on corpus/'s French sentences: what the
    ud workflow makes, for the examples that load it."""
    output = tmp_path_factory.mktemp("ud_pipeline")
    overrides = {
        "nlp.lang": "fr",
        "paths.train": str(ROOT / "corpus/ud/fr_train.conllu"),
        "paths.dev": str(ROOT / "corpus/ud/fr_dev.conllu"),
        "training.max_steps": 40,
        "training.eval_frequency": 20,
    }
    train(ROOT / "configs" / "ud.cfg", output, overrides=overrides)
    return output / "model-last"
