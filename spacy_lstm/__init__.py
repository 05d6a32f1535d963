"""spacy-lstm: recurrent neural networks for spaCy pipelines."""

from . import loggers, models, pipeline, training  # noqa: F401  (registers)
from .inference import int8_inference, set_precision  # noqa: F401

__version__ = "0.1.0"
