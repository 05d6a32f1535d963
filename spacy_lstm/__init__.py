"""spacy-lstm: recurrent neural networks for spaCy pipelines."""

import os

import torch

from . import jsonl, loggers, models, pipeline, readers  # noqa: F401  (registers)
from .inference import int8_inference, set_precision  # noqa: F401

__version__ = "0.1.0"

# nlp.pipe(n_process=2) forks the process. A forked child that runs torch's
# OpenMP thread pool, set up by the parent, hangs on its first parallel op;
# one thread per child avoids it, as torch's DataLoader workers do.
os.register_at_fork(after_in_child=lambda: torch.set_num_threads(1))
