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
