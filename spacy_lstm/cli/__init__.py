"""Command-line tools: `python -m spacy_lstm <command>`, also registered under
spaCy's own CLI as `python -m spacy lstm <command>`."""

import typer

app = typer.Typer(
    name="spacy_lstm",
    help="spacy-lstm command-line tools. An ordinary mistake gets a one-line "
    "error; set SPACY_LSTM_TRACEBACK=1 to see the traceback behind it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.callback()
def main() -> None:
    """spacy-lstm command-line tools."""


from . import (  # noqa: E402,F401  (registers the commands)
    add_tokenizer,
    agreement,
    annotate,
    demo,
    evaluate_parser,
    init_config,
    language_model,
    split_conllu,
    train_vectors,
    vectors,
    wiki_text,
)
