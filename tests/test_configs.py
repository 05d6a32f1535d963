"""Every config in configs/ is filled, loads and validates."""

from pathlib import Path

import pytest
import spacy
from spacy.cli.init_config import fill_config
from spacy.schemas import ConfigSchemaTraining
from spacy.util import load_config, registry

# pipeline.cfg only sources trained components (spacy assemble):
# tests/test_demo_pipeline.py assembles it
CONFIGS = sorted(
    path
    for path in (Path(__file__).parent.parent / "configs").glob("*.cfg")
    if path.name != "pipeline.cfg"
)


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_filled(path, tmp_path):
    filled, _ = fill_config(tmp_path / "filled.cfg", path, silent=True)
    assert filled == load_config(path, interpolate=False), (
        f"{path.name} is not filled: run python -m spacy init fill-config"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads_and_validates(path, request):
    overrides = {}
    if "${paths.vectors}" in path.read_text(encoding="utf8").split("[initialize]")[0]:
        # the config sources a component from the vectors pipeline
        overrides["paths.vectors"] = str(request.getfixturevalue("word2vec_pipeline"))
    config = load_config(path, overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=False, validate=True)
    assert nlp.pipe_names == config["nlp"]["pipeline"]
    training = registry.resolve(
        nlp.config.interpolate()["training"], schema=ConfigSchemaTraining
    )
    assert training["max_steps"] >= 0
