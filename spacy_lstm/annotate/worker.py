"""`annotate_shard`, the function every task runs, on a Dask worker or in
Ray Data's `map_batches` and Spark's `mapPartitions`."""

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from .inputs import Item
from .manifest import pipeline_digest

# One pipeline per path and worker process, loaded by its first task and
# reused by the next ones of the same run. Keyed by the pipeline's digest:
# a model replaced at the same path is loaded anew, not served from memory.
_PIPELINES: Dict[str, Tuple[Optional[str], Language]] = {}


def load_once(pipeline: str, digest: Optional[str] = None) -> Language:
    """The pipeline, loaded once per process and digest. With a digest, the
    pipeline found at that path must have it (a ValueError if it has
    changed since the run began): every task of a run uses one model."""
    cached = _PIPELINES.get(pipeline)
    if cached is not None and (digest is None or cached[0] == digest):
        return cached[1]
    _PIPELINES.pop(pipeline, None)
    if digest is not None and pipeline_digest(pipeline) != digest:
        raise ValueError(
            f"The pipeline at {pipeline} is not the one this run began with: its "
            "files have changed (or differ on this worker)."
        )
    nlp = spacy.load(pipeline)
    _PIPELINES[pipeline] = (digest, nlp)
    return nlp


def annotate_shard(
    pipeline: str,
    source: str,
    items: Sequence[Item],
    batch_size: int = 64,
    threads: int = 1,
    digest: Optional[str] = None,
) -> Tuple[bytes, List[Dict]]:
    """Run the pipeline over one shard's items.

    pipeline (str): A pipeline name or directory, loaded once per process.
    source (str): The input file the items come from, for the summaries.
    items (Sequence[Tuple[int, Any]]): (line number, text) of a text file, or
        (doc index, Doc as bytes) of a .spacy file, in input order.
    batch_size (int): nlp.pipe's batch size.
    threads (int): torch's threads while the shard runs; the caller's
        setting is restored afterwards.
    digest (Optional[str]): The pipeline's digest (`pipeline_digest`) when
        the run began: a pipeline changed since is an error, not a mix.
    RETURNS (Tuple[bytes, List[Dict]]): The annotated docs as DocBin bytes (user
        data kept: head probabilities, surprisal), and one summary per item in
        input order: its source and line (or doc), then its tokens, sentences
        and perplexity (with an lstm_lm), or the error that stopped it.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        return _annotate(load_once(pipeline, digest), source, items, batch_size)
    finally:
        torch.set_num_threads(before)


def _annotate(
    nlp: Language, source: str, items: Sequence[Item], batch_size: int
) -> Tuple[bytes, List[Dict]]:
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
