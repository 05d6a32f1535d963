"""`perplexity` and `generate`: an lstm_lm pipeline on a text file or a prompt."""

import json
from pathlib import Path

import spacy
import typer
from spacy.tokens import Doc

from ..readers import EOS
from . import app


def _language_model(pipeline: str):
    nlp = spacy.load(pipeline)
    names = [
        name
        for name, pipe in nlp.pipeline
        if pipe.__class__.__name__ == "LanguageModel"
    ]
    if not names:
        raise ValueError(f"{pipeline} has no lstm_lm component.")
    return nlp, nlp.get_pipe(names[0])


@app.command("perplexity")
def perplexity_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    text_file: Path = typer.Argument(..., help="UTF-8 text file", exists=True),
    pretokenized: bool = typer.Option(
        False, "--pretokenized", help="Split lines on whitespace, not the tokenizer"
    ),
) -> None:
    """Print one JSON line with the number of predicted tokens and the
    perplexity of the file. A word model reads each line's words and <eos>,
    a character model the file's characters (newlines included); the state is
    carried over the whole file."""
    nlp, lm = _language_model(pipeline)
    text = text_file.read_text(encoding="utf8")
    units = lm.units_of_text(text, None if pretokenized else nlp.make_doc)
    print(json.dumps({"tokens": len(units), "perplexity": lm.stream_perplexity(units)}))


@app.command("generate")
def generate_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    prompt: str = typer.Argument(..., help="Text to continue"),
    n_tokens: int = typer.Option(30, help="Words or characters to generate"),
    temperature: float = typer.Option(1.0, help="Below 1: safer; above 1: wilder"),
    top_k: int = typer.Option(0, help="Sample from the k likeliest only (0: all)"),
    seed: int = typer.Option(0, help="The same seed gives the same text"),
    pretokenized: bool = typer.Option(
        False, "--pretokenized", help="Split the prompt on whitespace"
    ),
) -> None:
    """Continue the prompt and print the prompt with its continuation."""
    nlp, lm = _language_model(pipeline)
    if pretokenized:
        doc = Doc(nlp.vocab, words=prompt.split() or [" "])
    else:
        doc = nlp.make_doc(prompt)
    units = lm.generate(doc, n_tokens, temperature, top_k, seed)
    if lm.cfg["level"] == "char":
        print(prompt + "".join(units))
    else:
        print(" ".join([prompt, *units]).replace(f" {EOS}", "\n").replace(EOS, "\n"))
