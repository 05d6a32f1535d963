"""Annotate a corpus with a pipeline on a Dask cluster, in shards that a rerun
resumes: `annotate_shard` (worker.py), the function every task runs (and that
Ray Data's `map_batches` or Spark's `mapPartitions` can run as well), and
`annotate` (client.py), which checks what an output folder was made from,
plans the shards, submits them and writes each one whole."""

from .client import INSTALL_HINT, annotate
from .manifest import pipeline_digest
from .shards import Shard, plan_shards
from .worker import annotate_shard

__all__ = [
    "INSTALL_HINT",
    "Shard",
    "annotate",
    "annotate_shard",
    "pipeline_digest",
    "plan_shards",
]
