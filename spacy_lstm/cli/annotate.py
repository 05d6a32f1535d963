"""`annotate`: a pipeline over a corpus on a Dask cluster, in resumable
shards of spaCy DocBins."""

import sys
from pathlib import Path
from typing import Dict, List, Optional

import typer
from tqdm import tqdm

from ..annotate import annotate
from . import app
from ._util import one_line_errors, report

# Refused or failed lines printed one by one; the rest are only counted.
SHOW_REFUSED = 20


@app.command("annotate")
@one_line_errors
def annotate_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    inputs: List[Path] = typer.Argument(
        ...,
        help="Text files (.txt or .gz, one doc per line) or .spacy files",
        exists=True,
        dir_okay=False,
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Folder for the shards", file_okay=False
    ),
    scheduler: Optional[str] = typer.Option(
        None,
        "--scheduler",
        help="Address of a running Dask scheduler (default: a local cluster)",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", help="Processes of the local cluster (default: cores)"
    ),
    shard_size: int = typer.Option(1000, "--shard-size", help="Docs per shard"),
    batch_size: int = typer.Option(64, "--batch-size", help="nlp.pipe batch size"),
    max_chars: int = typer.Option(
        100_000, "--max-chars", help="Longer lines are skipped and counted"
    ),
    threads: int = typer.Option(1, "--threads", help="torch threads per task"),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Delete a run in OUTPUT made from another pipeline, other inputs or "
        "settings and start again (default: refuse it)",
    ),
    summary: Optional[Path] = typer.Option(
        None,
        "--summary",
        help="Also write the run's summary to this JSON file",
        dir_okay=False,
    ),  # fmt: skip
) -> None:
    """Annotate every line of the text inputs (or every doc of the .spacy
    inputs) with the pipeline on a Dask cluster and write OUTPUT/NAME.spacy
    (spaCy's DocBin, user data kept) and NAME.jsonl (per doc: source, line,
    tokens, sentences, perplexity with an lstm_lm) for each shard. A shard is
    written whole or not at all; run the same command again to resume a
    stopped run; a folder made from another pipeline, other inputs or settings
    is refused (or, with --overwrite, started again). Lines that are not UTF-8
    or too long are skipped, counted and listed in the shard's summary. Prints
    the run's summary as JSON."""
    shown = [0]

    def warn(row: Dict) -> None:
        shown[0] += 1
        if shown[0] <= SHOW_REFUSED:
            where = f"{row['source']}, {'line' if 'line' in row else 'doc'}"
            number = row.get("line", row.get("doc"))
            print(f"⚠ {where} {number} skipped: {row['error']}", file=sys.stderr)

    bar = (
        tqdm(unit="shard", desc="annotate", leave=False)
        if sys.stderr.isatty()
        else None
    )

    def advance(counts: Dict) -> None:
        if bar is not None:
            bar.update(1)

    try:
        result = annotate(
            pipeline,
            inputs,
            output,
            scheduler=scheduler,
            workers=workers,
            shard_size=shard_size,
            batch_size=batch_size,
            max_chars=max_chars,
            threads=threads,
            overwrite=overwrite,
            on_shard=advance,
            on_refused=warn,
        )
    except KeyboardInterrupt:
        written = len(list(output.glob("*.spacy")))
        print(
            f"Stopped with {written} shards written: run the same command again to "
            "resume.",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    finally:
        if bar is not None:
            bar.close()
    if shown[0] > SHOW_REFUSED:
        print(
            f"⚠ ... {shown[0] - SHOW_REFUSED} more in the .jsonl summaries",
            file=sys.stderr,
        )
    report(result, summary)
