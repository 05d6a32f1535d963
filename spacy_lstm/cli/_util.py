"""What every command shares: one-line errors, progress, the GPU and checks
that a pipeline has the component a command needs."""

import functools
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, TypeVar

import spacy
import typer
from spacy.cli._util import setup_gpu
from spacy.language import Language
from tqdm import tqdm
from wasabi import color

T = TypeVar("T")
# Set to 1 to see the traceback behind a command's one-line error.
TRACEBACK_ENV = "SPACY_LSTM_TRACEBACK"


def one_line_errors(command: Callable) -> Callable:
    """Turn the errors of ordinary mistakes (a missing or unreadable file, a
    pipeline that cannot load, a bad value) into one line and exit code 1, as
    spaCy's CLI does. Other exceptions are bugs and keep their traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ValueError, OSError) as err:
            if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
                raise
            fail(str(err).strip() or type(err).__name__)

    return run


def fail(text: str) -> None:
    """Print the error as one line on stderr (wasabi's msg.fail would wrap it
    at 80 columns) and exit with 1."""
    line = "✘ " + " ".join(text.split())
    print(color(line, fg="red") if sys.stderr.isatty() else line, file=sys.stderr)
    raise SystemExit(1)


def progress(
    items: Iterable[T], total: Optional[int] = None, unit: str = "it", desc: str = ""
) -> Iterable[T]:
    """A progress bar on stderr when it is a terminal; the items unchanged
    otherwise, so piped and logged output stays clean."""
    if not sys.stderr.isatty():
        return items
    return tqdm(items, total=total, unit=unit, desc=desc, leave=False)


def use_device(gpu_id: int) -> None:
    """Run torch on GPU gpu_id, or on the CPU when it is -1."""
    setup_gpu(gpu_id, silent=True)


def load_with(pipeline: str, factories: Sequence[str], command: str) -> Language:
    """Load a pipeline and check that it has a component made by one of the
    factories, before any work is done."""
    nlp = spacy.load(pipeline)
    made_by = [nlp.get_pipe_meta(name).factory for name in nlp.pipe_names]
    if not set(made_by) & set(factories):
        names = ", ".join(nlp.pipe_names) or "none"
        raise ValueError(
            f"{pipeline} has no {' or '.join(factories)} component, which "
            f"`{command}` needs (its components: {names})."
        )
    return nlp


def output_file(path: Path) -> Path:
    """An output path whose folder exists (created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def json_output_option() -> typer.models.OptionInfo:
    """The --output/-o option of the commands that print a JSON result."""
    return typer.Option(
        None, "--output", "-o", help="Also write the result to this JSON file",
        dir_okay=False,
    )  # fmt: skip


def report(result: dict, output: Optional[Path]) -> None:
    """Print the result as one JSON line and, with --output, also write it to
    that file (indented), as `spacy evaluate --output` does."""
    if output is not None:
        output_file(output).write_text(json.dumps(result, indent=2), encoding="utf8")
    print(json.dumps(result))
