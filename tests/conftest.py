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
