"""Every config in configs/ is filled, loads, validates, and passes spaCy's own
`debug config` and `debug data` on the small data in corpus/. (pipeline.cfg
sources trained stages: tests/test_demo_pipeline.py checks it on the demo's.)"""

from pathlib import Path

import pytest
import spacy
from spacy.cli.debug_config import debug_config
from spacy.cli.debug_data import debug_data
from spacy.cli.init_config import fill_config
from spacy.schemas import ConfigSchemaTraining
from spacy.util import load_config, registry

ROOT = Path(__file__).parent.parent
CONFIGS = sorted(
    path for path in (ROOT / "configs").glob("*.cfg") if path.name != "pipeline.cfg"
)


@pytest.fixture
def in_root(monkeypatch):
    """The configs' [paths] are relative to the repository root."""
    monkeypatch.chdir(ROOT)


def vector_overrides(path, request):
    """--paths.vectors, the word2vec pipeline trained on corpus/, for configs
    that use vectors; fewer streams where the small text cannot fill them."""
    overrides = {}
    config = load_config(path, interpolate=False)
    if config["paths"].get("vectors") is not None:
        overrides["paths.vectors"] = str(request.getfixturevalue("word2vec_pipeline"))
    # lm_agreement's 64 streams of 35 tokens need more text than the sample's
    train = config["corpora"].get("train", {})
    if train.get("@readers") == "spacy-lstm.LMStream.v1" and train["streams"] > 20:
        overrides["corpora.train.streams"] = 4
    return overrides


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_fill_config_adds_nothing(path, request, tmp_path, in_root):
    """What `spacy init fill-config` would write equals the config."""
    config = load_config(path, interpolate=False)
    for key, value in vector_overrides(path, request).items():
        config["paths"][key.split(".")[1]] = value
    config.to_disk(tmp_path / "base.cfg", interpolate=False)
    base, filled = fill_config(
        tmp_path / "filled.cfg", tmp_path / "base.cfg", silent=True
    )
    assert filled == base, (
        f"{path.name} is not filled: run python -m spacy init fill-config --diff"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads_and_validates(path, request, in_root):
    config = load_config(path, overrides=vector_overrides(path, request))
    nlp = spacy.util.load_model_from_config(config, auto_fill=False, validate=True)
    assert nlp.pipe_names == config["nlp"]["pipeline"]
    training = registry.resolve(
        nlp.config.interpolate()["training"], schema=ConfigSchemaTraining
    )
    assert training["max_steps"] >= 0


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_spacy_debug_config_and_data(path, request, in_root):
    overrides = vector_overrides(path, request)
    debug_config(path, overrides=overrides)
    # the small data is too little to train on: debug data says so, and exits
    # with 1 on that error only after every check ran
    with pytest.raises(SystemExit) as exited:
        debug_data(path, config_overrides=overrides, silent=True)
    assert exited.value.code == 1


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_spacy_debug_config_from_another_folder(path, request, tmp_path, monkeypatch):
    """The readers check their paths when they read, as spaCy's do, so a
    shipped config resolves from any folder."""
    overrides = vector_overrides(path, request)  # an absolute path, if any
    monkeypatch.chdir(tmp_path)
    debug_config(path, overrides=overrides)
    config = load_config(path, overrides=overrides).interpolate()
    for name, corpus in registry.resolve(config["corpora"]).items():
        with pytest.raises(ValueError, match="not exist|not a file|no path"):
            next(iter(corpus(spacy.blank("en"))))
