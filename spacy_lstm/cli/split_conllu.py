"""split-conllu: the first N sentences of a CoNLL-U file, and the rest."""

from pathlib import Path

import typer
from wasabi import msg

from . import app
from ._util import one_line_errors, output_file


@app.command("split-conllu")
@one_line_errors
def split_conllu_cli(
    source: Path = typer.Argument(..., help="A CoNLL-U file", exists=True),
    n_sents: int = typer.Argument(..., min=1, help="Sentences in the first part"),
    first: Path = typer.Argument(..., help="Where the first N sentences go"),
    rest: Path = typer.Argument(..., help="Where the other sentences go"),
) -> None:
    """Split a treebank in two at a sentence, comments kept with their
    sentence: to train on one part and choose or score on the other."""
    blocks = split_sentences(source.read_text(encoding="utf8"))
    if n_sents >= len(blocks):
        raise ValueError(
            f"{source} has {len(blocks)} sentences: the first part must leave "
            "some for the second."
        )
    for path, part in ((first, blocks[:n_sents]), (rest, blocks[n_sents:])):
        output_file(path).write_text("\n\n".join(part) + "\n\n", encoding="utf8")
    msg.good(f"{n_sents} sentences to {first}, {len(blocks) - n_sents} to {rest}")


def split_sentences(text: str):
    """The sentence blocks of CoNLL-U text; comment-only blocks are joined to
    the sentence after them."""
    blocks, pending = [], []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("#") for line in lines):
            pending.extend(lines)
            continue
        blocks.append("\n".join(pending + lines))
        pending = []
    return blocks
