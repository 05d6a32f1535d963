"""`perplexity`, `explain` and `generate`: an lstm_lm pipeline on a text file,
a text or a prompt."""

import math
from pathlib import Path
from typing import Optional, Tuple

import typer
from spacy.language import Language
from spacy.tokens import Doc

from ..pipeline.language_model import LanguageModel
from ..training.readers import EOS
from ..visualize import gates_svg
from . import app
from ._util import (
    json_output_option,
    load_with,
    one_line_errors,
    output_file,
    progress,
    report,
    use_device,
)


def load_language_model(pipeline: str, command: str) -> Tuple[Language, LanguageModel]:
    """The pipeline and its (first) lstm_lm component."""
    nlp = load_with(pipeline, ["lstm_lm"], command)
    name = next(n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == "lstm_lm")
    return nlp, nlp.get_pipe(name)


@app.command("perplexity")
@one_line_errors
def perplexity_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    text_file: Path = typer.Argument(..., help="UTF-8 text file", exists=True),
    pretokenized: bool = typer.Option(
        False, "--pretokenized", help="Split lines on whitespace, not the tokenizer"
    ),
    output: Optional[Path] = json_output_option(),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Print one JSON line with the number of predicted tokens and the
    perplexity of the file. A word model reads each line's words and <eos>,
    a character model the file's characters (newlines included); the state is
    carried over the whole file."""
    use_device(gpu_id)
    nlp, lm = load_language_model(pipeline, "perplexity")
    text = text_file.read_text(encoding="utf8")
    if pretokenized:
        # the words are keyed (ORTH, LOWER, NORM) as the model's tokens are
        def make_doc(line: str) -> Doc:
            return Doc(nlp.vocab, words=line.split())
    else:
        # the tokenizer alone is linear in the line's length: no limit needed
        nlp.max_length = max(nlp.max_length, len(text) + 1)
        make_doc = nlp.make_doc
    units = lm.units_of_text(text, make_doc)
    perplexity = lm.stream_perplexity(
        units, wrap_steps=lambda steps, n: progress(steps, n, "step", "scoring")
    )
    report({"tokens": len(units), "perplexity": perplexity}, output)


@app.command("explain")
@one_line_errors
def explain_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    text: str = typer.Argument(..., help="The text to look inside"),
    output: Path = typer.Option(
        ..., "--output", "-o", help="SVG file to write", dir_okay=False
    ),
    pretokenized: bool = typer.Option(
        False, "--pretokenized", help="Split the text on whitespace"
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Draw what the language model does with the text as an SVG heatmap:
    the tokens in a row, their surprisal, and per layer the mean forget,
    input and output gate activations at each token (a GRU's update and
    reset gates)."""
    use_device(gpu_id)
    nlp, lm = load_language_model(pipeline, "explain")
    doc = Doc(nlp.vocab, words=text.split()) if pretokenized else nlp.make_doc(text)
    gates = lm.gates(doc)
    output_file(output).write_text(gates_svg(gates, title=text), encoding="utf8")
    report({"output": str(output), "units": len(gates["units"])}, None)


@app.command("generate")
@one_line_errors
def generate_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    prompt: str = typer.Argument(..., help="Text to continue"),
    n_tokens: int = typer.Option(30, min=0, help="Words or characters to generate"),
    temperature: float = typer.Option(1.0, help="Below 1: safer; above 1: wilder"),
    top_k: int = typer.Option(
        0, min=0, help="Sample from the k likeliest only (0: all)"
    ),
    seed: int = typer.Option(0, help="The same seed gives the same text"),
    pretokenized: bool = typer.Option(
        False, "--pretokenized", help="Split the prompt on whitespace"
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Continue the prompt and print the prompt with its continuation."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise typer.BadParameter(
            f"must be a positive number, got {temperature}", param_hint="--temperature"
        )
    use_device(gpu_id)
    nlp, lm = load_language_model(pipeline, "generate")
    if pretokenized:
        doc = Doc(nlp.vocab, words=prompt.split() or [" "])
    else:
        doc = nlp.make_doc(prompt)
    units = lm.generate(doc, n_tokens, temperature, top_k, seed)
    if lm.cfg["level"] == "char":
        print(prompt + "".join(units))
    else:
        print(" ".join([prompt, *units]).replace(f" {EOS}", "\n").replace(EOS, "\n"))
