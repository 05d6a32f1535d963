"""Annotate a corpus with a pipeline on a Dask cluster, in shards that a rerun
resumes: `annotate_shard`, the function every task runs (and that Ray Data's
`map_batches` or Spark's `mapPartitions` can run as well), and `annotate`, which
plans the shards, submits them and writes each one whole."""

import gzip
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

MANIFEST = "manifest.json"
DOCS_SUFFIX = ".spacy"
SUMMARY_SUFFIX = ".jsonl"
INSTALL_HINT = 'pip install "spacy-lstm[distributed]"'
# Items: a text line's number and text, or a .spacy doc's index and the doc.
Item = Tuple[int, Any]


@dataclass(frozen=True)
class Shard:
    """Items start..stop - 1 of one input, counted from 0: the lines of a text
    file (blank lines included), the docs of a .spacy file."""

    name: str
    input: int
    start: int
    stop: int


# One pipeline per worker process, loaded by its first task and reused by
# the next ones.
_PIPELINES: Dict[str, Language] = {}


def load_once(pipeline: str) -> Language:
    """The pipeline, loaded once per process."""
    if pipeline not in _PIPELINES:
        _PIPELINES[pipeline] = spacy.load(pipeline)
    return _PIPELINES[pipeline]


def annotate_shard(
    pipeline: str,
    source: str,
    items: Sequence[Item],
    batch_size: int = 64,
    threads: int = 1,
) -> Tuple[bytes, List[Dict]]:
    """Run the pipeline over one shard's items.

    pipeline (str): A pipeline name or directory, loaded once per process.
    source (str): The input file the items come from, for the summaries.
    items (Sequence[Tuple[int, Any]]): (line number, text) of a text file, or
        (doc index, Doc as bytes) of a .spacy file, in input order.
    batch_size (int): nlp.pipe's batch size.
    threads (int): torch's threads in this process.
    RETURNS (Tuple[bytes, List[Dict]]): The annotated docs as DocBin bytes (user
        data kept: head probabilities, surprisal), and one summary per item in
        input order: its source and line (or doc), then its tokens, sentences
        and perplexity (with an lstm_lm), or the error that stopped it.
    """
    import torch

    torch.set_num_threads(max(1, threads))
    nlp = load_once(pipeline)
    key = "line" if not items or isinstance(items[0][1], str) else "doc"
    inputs = [
        text if key == "line" else Doc(nlp.vocab).from_bytes(text) for _, text in items
    ]
    has_lm = Doc.has_extension("perplexity") and any(
        nlp.get_pipe_meta(name).factory == "lstm_lm" for name in nlp.pipe_names
    )
    docs = DocBin(store_user_data=True)
    summaries: List[Dict] = []
    for (number, _), result in zip(items, _pipe(nlp, inputs, batch_size)):
        summary: Dict[str, Any] = {"source": source, key: number}
        if isinstance(result, Exception):
            summary["error"] = f"{type(result).__name__}: {result}"
        else:
            docs.add(result)
            summary["tokens"] = len(result)
            if result.has_annotation("SENT_START"):
                summary["sentences"] = sum(1 for _ in result.sents)
            if has_lm:
                summary["perplexity"] = result._.perplexity
        summaries.append(summary)
    return docs.to_bytes(), summaries


def _pipe(nlp: Language, inputs: List, batch_size: int) -> Iterator[Any]:
    """nlp.pipe's docs, one batch at a time; where a batch fails, its items
    one by one, an item that fails giving its exception instead of a doc."""
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        try:
            yield from list(nlp.pipe(batch, batch_size=batch_size))
        except Exception:
            for item in batch:
                try:
                    yield nlp(item)
                except Exception as err:  # recorded in the summary, not lost
                    yield err


def fingerprint(path: Path) -> Dict:
    """What identifies an input's content cheaply: its size and a hash of
    its first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as file_:
        digest.update(file_.read(1 << 20))
        if size > 1 << 20:
            file_.seek(max(1 << 20, size - (1 << 20)))
            digest.update(file_.read())
    return {"path": str(path.resolve()), "size": size, "blake2b": digest.hexdigest()}


def is_docbin(path: Path) -> bool:
    """Whether the input is a .spacy file (else text, one doc per line)."""
    return path.suffix == DOCS_SUFFIX


def count_items(path: Path) -> int:
    """The lines of a text file (blank ones too), the docs of a .spacy file."""
    if is_docbin(path):
        return len(DocBin().from_disk(path))
    n_lines, last = 0, b"\n"
    with _open_binary(path) as file_:
        for chunk in iter(lambda: file_.read(1 << 20), b""):
            n_lines += chunk.count(b"\n")
            last = chunk[-1:]
    return n_lines + (last != b"\n")


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def plan_shards(counts: Sequence[int], shard_size: int) -> List[Shard]:
    """Shards of shard_size items, in input order, none spanning two inputs."""
    return [
        Shard(f"{i:03d}-{k:06d}", i, start, min(start + shard_size, count))
        for i, count in enumerate(counts)
        for k, start in enumerate(range(0, count, shard_size))
    ]


def read_items(
    path: Path, shards: Sequence[Shard], max_chars: int
) -> Iterator[Tuple[Shard, List[Item], List[Dict]]]:
    """Each of the input's shards with its items and the lines refused before
    any parsing (not UTF-8, or longer than max_chars characters). Blank lines
    are no docs and are left out."""
    if is_docbin(path):
        # DocBin has no random access: read the docs once, in order
        docs = iter(DocBin(store_user_data=True).from_disk(path).get_docs(_vocab()))
        for shard in shards:
            items = [(i, next(docs).to_bytes()) for i in range(shard.start, shard.stop)]
            yield shard, items, []
        return
    with _open_binary(path) as file_:
        lines = enumerate(file_, start=1)
        for shard in shards:
            items, refused = [], []
            for number, raw in lines:
                try:
                    text = raw.decode("utf8").rstrip("\r\n")
                except UnicodeDecodeError as err:
                    refused.append(
                        _refused(path, number, f"not UTF-8 (byte {err.start})")
                    )
                else:
                    if len(text) > max_chars:
                        reason = f"{len(text)} characters, over --max-chars {max_chars}"
                        refused.append(_refused(path, number, reason))
                    elif text.strip():
                        items.append((number, text))
                if number == shard.stop:  # line numbers count from 1
                    break
            yield shard, items, refused


def _refused(path: Path, number: int, reason: str) -> Dict:
    return {"source": str(path), "line": number, "error": reason}


_VOCAB = None


def _vocab():
    """A bare vocab to read .spacy inputs with on the client."""
    global _VOCAB
    if _VOCAB is None:
        from spacy.vocab import Vocab

        _VOCAB = Vocab()
    return _VOCAB


def check_pipeline(pipeline: str) -> str:
    """The pipeline as workers should load it (an absolute directory or a
    package name), or a ValueError if it is neither."""
    path = Path(pipeline)
    if path.exists():
        if not (path / "config.cfg").is_file():
            raise ValueError(
                f"{pipeline} is not a spaCy pipeline: no config.cfg in it."
            )
        return str(path.resolve())
    if spacy.util.is_package(pipeline):
        return pipeline
    raise ValueError(
        f"Pipeline not found: {pipeline} is neither a directory nor an installed "
        "package."
    )


def make_manifest(
    pipeline: str, inputs: Sequence[Path], shard_size: int, max_chars: int
) -> Dict:
    """What the output folder is made from: the inputs (fingerprints and
    counts), the settings and the shard plan."""
    described = []
    for path in inputs:
        if not path.is_file():
            raise ValueError(f"Input not found: {path}")
        described.append({**fingerprint(path), "items": count_items(path)})
    shards = plan_shards([d["items"] for d in described], shard_size)
    return {
        "pipeline": pipeline,
        "inputs": described,
        "shard_size": shard_size,
        "max_chars": max_chars,
        "shards": [asdict(shard) for shard in shards],
    }


def check_manifest(output: Path, manifest: Dict) -> None:
    """Write the manifest into a new output folder, or check that an
    existing one was made from the same inputs and settings."""
    path = output / MANIFEST
    if not path.is_file():
        output.mkdir(parents=True, exist_ok=True)
        _write_whole(path, json.dumps(manifest, indent=1).encode("utf8"))
        return
    saved = json.loads(path.read_text(encoding="utf8"))
    for key in ("pipeline", "shard_size", "max_chars"):
        if saved.get(key) != manifest[key]:
            raise ValueError(
                f"{output} was annotated with {key} {saved.get(key)!r}, not "
                f"{manifest[key]!r}. Rerun with the same settings to resume, or "
                "choose a new --output."
            )
    old = [(d["path"], d["size"], d["blake2b"]) for d in saved.get("inputs", [])]
    new = [(d["path"], d["size"], d["blake2b"]) for d in manifest["inputs"]]
    if old != new:
        changed = [n[0] for o, n in zip(old, new) if o != n] or [n[0] for n in new]
        raise ValueError(
            f"The inputs of {output} have changed since it was started "
            f"({', '.join(changed)}; or their list differs). Resuming would mix "
            "two corpora: choose a new --output, or delete it to start again."
        )


def _write_whole(path: Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a reader sees the whole file
    or none."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def is_done(output: Path, shard: Shard) -> bool:
    """Whether the shard is written: its docs are written last."""
    return (output / f"{shard.name}{DOCS_SUFFIX}").is_file()


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
    on_shard: Optional[Callable[[Dict], None]] = None,
    on_refused: Optional[Callable[[Dict], None]] = None,
) -> Dict:
    """Annotate the inputs with the pipeline, shard by shard, on a Dask
    cluster: a LocalCluster of `workers` processes (default: the CPU cores),
    or the scheduler at `scheduler`. Each finished shard is written as
    NAME.spacy (a DocBin) and NAME.jsonl (one summary per non-blank line or
    doc) under output; a rerun skips them. Returns the run's summary.

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
    check_manifest(output, manifest)
    for stale in output.glob(".*.tmp"):  # a run stopped while writing
        stale.unlink()
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
                        annotate_shard,
                        pipeline,
                        str(inputs[shard.input]),
                        items,
                        batch_size,
                        threads,
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
                _write_whole(
                    output / f"{shard.name}{SUMMARY_SUFFIX}",
                    "".join(json.dumps(row) + "\n" for row in rows).encode("utf8"),
                )
                _write_whole(output / f"{shard.name}{DOCS_SUFFIX}", docs)
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
