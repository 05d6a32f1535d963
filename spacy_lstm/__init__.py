"""spacy-lstm: recurrent neural networks for spaCy pipelines."""

from . import models, pipeline, readers  # noqa: F401  (registers the functions)

__version__ = "0.1.0"
