"""The size of trained pipelines: on disk, and the parameters of each
component (thinc's and the torch modules'), the static vectors apart.

    python -m spacy_lstm.benchmarks.sizes PIPELINE [PIPELINE ...]

Prints one JSON line per pipeline.
"""

import argparse
import json
from pathlib import Path
from typing import Dict

import spacy
from thinc.api import Model, PyTorchShim


def n_parameters(model: Model) -> int:
    """The parameters of a thinc model and of the torch modules it wraps,
    each counted once."""
    total, seen = 0, set()
    for node in model.walk():
        total += sum(
            node.get_param(name).size
            for name in node.param_names
            if node.has_param(name)
        )
        for shim in node.shims:
            if isinstance(shim, PyTorchShim) and id(shim) not in seen:
                seen.add(id(shim))
                total += sum(p.numel() for p in shim._model.parameters())
    return total


def describe(path: Path) -> Dict:
    """A pipeline's size on disk and its parameters per component."""
    nlp = spacy.load(path)
    components = {
        name: n_parameters(pipe.model)
        for name, pipe in nlp.pipeline
        if isinstance(getattr(pipe, "model", None), Model)
    }
    disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return {
        "pipeline": str(path),
        "disk_mb": round(disk / 2**20, 1),
        "parameters": sum(components.values()),
        "components": components,
        "vectors": list(nlp.vocab.vectors.shape),
    }


def main() -> None:
    """Print one JSON line per pipeline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipelines", nargs="+", type=Path)
    for path in parser.parse_args().pipelines:
        print(json.dumps(describe(path)))


if __name__ == "__main__":
    main()
