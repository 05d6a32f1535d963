"""`annotate`: the client that checks the output folder against the run,
plans the shards, reads the inputs lazily, submits the shards to a Dask
cluster and writes what comes back, each shard whole."""

import json
import os
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import worker
from .inputs import Item, read_items
from .manifest import check_output, check_pipeline, make_manifest
from .shards import (
    DOCS_SUFFIX,
    SUMMARY_SUFFIX,
    Shard,
    is_done,
    remove_temporary,
    write_whole,
)

# spacy-lstm is installed from a checkout or a wheel: its extra is named by
# path, and Dask's own package serves any install.
INSTALL_HINT = 'pip install "dask[distributed]"'


def annotate(
    pipeline: str,
    inputs: Sequence[Path],
    output: Path,
    *,
    scheduler: Optional[str] = None,
    workers: Optional[int] = None,
    shard_size: int = 1000,
    batch_size: int = 64,
    max_chars: int = 100_000,
    threads: int = 1,
    overwrite: bool = False,
    on_shard: Optional[Callable[[Dict], None]] = None,
    on_refused: Optional[Callable[[Dict], None]] = None,
) -> Dict:
    """Annotate the inputs with the pipeline, shard by shard, on a Dask
    cluster: a LocalCluster of `workers` processes (default: the CPU cores),
    or the scheduler at `scheduler`. Each finished shard is written as
    NAME.spacy (a DocBin) and NAME.jsonl (one summary per non-blank line or
    doc) under output; a rerun skips them. An output folder made from another
    pipeline (its files are hashed), other inputs (hashed whole) or settings
    is refused, or deleted and started again with `overwrite`; so is a
    non-empty folder that holds no run, always. Returns the run's summary.

    on_shard (Callable[[Dict], None]): Called with each shard's counts as it
        is written (the progress bar).
    on_refused (Callable[[Dict], None]): Called with each line refused or
        failed: {"source", "line", "error"}.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError(
            f"annotate runs on Dask's distributed scheduler: {INSTALL_HINT}"
        ) from None
    for name, value in (("shard_size", shard_size), ("batch_size", batch_size)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    pipeline = check_pipeline(pipeline)
    inputs = [Path(path) for path in inputs]
    manifest = make_manifest(pipeline, inputs, shard_size, max_chars)
    check_output(output, manifest, overwrite=overwrite)
    remove_temporary(output)  # a run stopped while writing
    digest = manifest["pipeline_digest"]
    shards = [Shard(**shard) for shard in manifest["shards"]]
    pending = [shard for shard in shards if not is_done(output, shard)]
    totals = {"docs": 0, "tokens": 0, "failed": 0, "refused": 0}
    start = time.perf_counter()
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # one thread each: OpenMP threads would spin against each other
                env={"OMP_NUM_THREADS": str(threads)},
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as err:
                raise ValueError(
                    f"Could not reach the Dask scheduler at {scheduler}: {err}"
                ) from None
        with client:
            n_workers = max(1, len(client.scheduler_info()["workers"]))
            queue = _payloads(inputs, shards, pending, max_chars)
            done = as_completed()
            refused_of: Dict[str, List[Dict]] = {}
            shard_of: Dict[str, Shard] = {}

            def submit_next() -> bool:
                for shard, items, refused in queue:
                    refused_of[shard.name] = refused
                    future = client.submit(
                        worker.annotate_shard,
                        pipeline,
                        str(inputs[shard.input]),
                        items,
                        batch_size,
                        threads,
                        digest,
                        key=f"annotate-{shard.name}-{os.getpid()}-{time.time_ns()}",
                        retries=2,
                    )
                    shard_of[future.key] = shard
                    done.add(future)
                    return True
                return False

            # enough shards in flight to keep every worker busy, few enough
            # that the client does not hold the corpus
            for _ in range(2 * n_workers):
                if not submit_next():
                    break
            for future in done:
                shard = shard_of.pop(future.key)
                try:
                    docs, summaries = future.result()
                except Exception as err:  # after Dask's retries
                    raise ValueError(
                        f"Shard {shard.name} of {inputs[shard.input]} failed "
                        f"({type(err).__name__}: {err}). The finished shards are "
                        "kept: run the same command again to resume."
                    ) from err
                refused = refused_of.pop(shard.name)
                rows = sorted(
                    summaries + refused, key=lambda row: row.get("line", row.get("doc"))
                )
                write_whole(
                    output / f"{shard.name}{SUMMARY_SUFFIX}",
                    "".join(json.dumps(row) + "\n" for row in rows).encode("utf8"),
                )
                write_whole(output / f"{shard.name}{DOCS_SUFFIX}", docs)
                counts = {
                    "docs": sum(1 for row in summaries if "error" not in row),
                    "tokens": sum(row.get("tokens", 0) for row in summaries),
                    "failed": sum(1 for row in summaries if "error" in row),
                    "refused": len(refused),
                }
                for key, value in counts.items():
                    totals[key] += value
                if on_refused is not None:
                    for row in rows:
                        if "error" in row:
                            on_refused(row)
                if on_shard is not None:
                    on_shard({"shard": shard.name, **counts})
                del future
                submit_next()
    finally:
        if cluster is not None:
            cluster.close()
    seconds = time.perf_counter() - start
    return {
        "output": str(output),
        "shards": len(shards),
        "shards_done_before": len(shards) - len(pending),
        **totals,
        "seconds": round(seconds, 2),
        "words_per_second": round(totals["tokens"] / seconds) if seconds else 0,
    }


def _payloads(
    inputs: Sequence[Path],
    shards: Sequence[Shard],
    pending: Sequence[Shard],
    max_chars: int,
) -> Iterator[Tuple[Shard, List[Item], List[Dict]]]:
    """The pending shards with their items, read lazily in shard order."""
    wanted = {shard.name for shard in pending}
    for i, path in enumerate(inputs):
        own = [shard for shard in shards if shard.input == i]
        if not wanted.intersection(shard.name for shard in own):
            continue
        for shard, items, refused in read_items(path, own, max_chars):
            if shard.name in wanted:
                yield shard, items, refused
