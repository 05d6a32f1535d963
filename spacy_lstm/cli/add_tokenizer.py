"""add-tokenizer: put a trained lstm_tokenizer in front of a pipeline."""

from pathlib import Path

import spacy
import typer
from spacy.language import Language
from wasabi import msg

from . import app
from ._util import load_with, one_line_errors

RAW_TEXT_TOKENIZER = {"@tokenizers": "spacy-lstm.RawTextTokenizer.v1"}


@app.command("add-tokenizer")
@one_line_errors
def add_tokenizer_cli(
    pipeline: str = typer.Argument(..., help="The pipeline to read raw text with it"),
    tokenizer: str = typer.Argument(
        ..., help="A pipeline with a trained lstm_tokenizer"
    ),
    output: Path = typer.Argument(..., help="Where to save the new pipeline"),
    pipeline_sentences: bool = typer.Option(
        False,
        "--pipeline-sentences",
        help="Leave sentence boundaries to PIPELINE's senter or parser",
    ),
) -> None:
    """Save PIPELINE with the lstm_tokenizer of TOKENIZER first and spaCy's
    tokenizer replaced by spacy-lstm.RawTextTokenizer.v1, so that nlp(text)
    gives its components the tokenizer's words and sentences."""
    add_tokenizer(pipeline, tokenizer, sentences=not pipeline_sentences).to_disk(output)
    msg.good(f"Saved the pipeline with lstm_tokenizer to {output}")


def add_tokenizer(pipeline: str, tokenizer: str, sentences: bool = True) -> Language:
    """PIPELINE loaded with the raw-text tokenizer and TOKENIZER's
    lstm_tokenizer as its first component.

    sentences (bool): Whether the tokenizer sets sentence starts.
    """
    source = load_with(tokenizer, ["lstm_tokenizer"], "add-tokenizer")
    name = next(
        n for n in source.pipe_names
        if source.get_pipe_meta(n).factory == "lstm_tokenizer"
    )  # fmt: skip
    nlp = spacy.load(pipeline, config={"nlp": {"tokenizer": RAW_TEXT_TOKENIZER}})
    if source.lang != nlp.lang:
        raise ValueError(
            f"{tokenizer} reads '{source.lang}' and {pipeline} is '{nlp.lang}': "
            "they must be one language."
        )
    if name in nlp.pipe_names:
        nlp.remove_pipe(name)
    # added from its settings and weights rather than sourced, so that the
    # saved config holds the sentences setting
    config = {k: v for k, v in source.config["components"][name].items()}
    config.pop("factory")
    config["sentences"] = sentences
    added = nlp.add_pipe("lstm_tokenizer", name=name, config=config, first=True)
    added.from_bytes(source.get_pipe(name).to_bytes())
    return nlp
