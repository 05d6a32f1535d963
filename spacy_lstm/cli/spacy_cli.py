"""Our commands under spaCy's CLI: spaCy imports the `spacy_cli` entry points
when its CLI starts, so `python -m spacy lstm <command>` runs the same commands
as `python -m spacy_lstm <command>`."""

from spacy.cli._util import app as spacy_app

from . import app as lstm_app

spacy_app.add_typer(lstm_app, name="lstm")
