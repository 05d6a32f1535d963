"""`agreement` and `agreement-items`: long-distance agreement measured with a
language model, on items from a file or built from treebanks."""

from collections import Counter
from pathlib import Path
from typing import List, Optional

import typer

from ..agreement import (
    items_from_conllu,
    read_items,
    read_linzen,
    score_items,
    write_items,
)
from . import app
from ._util import (
    json_output_option,
    one_line_errors,
    output_file,
    progress,
    report,
    use_device,
)
from .language_model import load_language_model


@app.command("agreement")
@one_line_errors
def agreement_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    items_file: Path = typer.Argument(
        ..., help="Items (TSV), or the sentence file with --gold", exists=True
    ),
    gold: Optional[Path] = typer.Option(
        None,
        "--gold",
        help="Line-aligned gold file (Linzen et al. format): target index, "
        "correct, wrong, attractors",
        exists=True,
    ),
    pool_from: Optional[int] = typer.Option(
        None, "--pool-from", min=1, help="Report number groups >= N together as 'N+'"
    ),
    output: Optional[Path] = json_output_option(),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Score minimal pairs with the pipeline's word language model and print
    one JSON line: accuracy (the correct form more probable than the wrong
    one after the prefix) overall and per group. Items whose forms are
    outside the model's vocabulary are counted as unscored."""
    items = read_linzen(items_file, gold) if gold else read_items(items_file)
    use_device(gpu_id)
    _, lm = load_language_model(pipeline, "agreement")
    result = score_items(
        lm,
        items,
        pool_from=pool_from,
        wrap_batches=lambda batches, n: progress(batches, n, "batch", "scoring"),
    )
    report(result, output)


@app.command("agreement-items")
@one_line_errors
def agreement_items_cli(
    treebanks: List[Path] = typer.Argument(
        ..., help="English UD treebanks (CoNLL-U)", exists=True
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Items file (TSV) to write", dir_okay=False
    ),
) -> None:
    """Build subject-verb agreement items from the treebanks: the words
    before each finite verb whose noun subject comes before it, the verb and
    its other number, and the number of attractors (nouns of the other number
    between subject and verb) as the group. Prints the count per group."""
    items = items_from_conllu(treebanks)
    if not items:
        raise ValueError("The treebanks have no subject-verb agreement items.")
    write_items(items, output_file(output))
    groups = Counter(item.group for item in items)
    ordered = {group: groups[group] for group in sorted(groups, key=int)}
    report({"output": str(output), "items": len(items), "groups": ordered}, None)
