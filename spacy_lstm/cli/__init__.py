"""Command-line tools: `python -m spacy_lstm <command>`."""

import typer

app = typer.Typer(
    name="spacy_lstm", help="spacy-lstm command-line tools.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """spacy-lstm command-line tools."""


from . import demo, evaluate_parser, language_model, vectors  # noqa: E402,F401  (registers)
