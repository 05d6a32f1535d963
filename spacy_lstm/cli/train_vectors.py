"""`train-vectors`: the word2vec component trained straight from a tokenized
text file, without spacy train's per-word Doc and Example objects."""

import sys
import time
from pathlib import Path
from typing import Dict, Optional

import typer
from spacy import util
from spacy.cli._util import parse_config_overrides
from spacy.language import Language

from ..pipeline.word2vec import Word2Vec
from ..pipeline.word2vec_file import EncodedCorpus, train_on_corpus
from ..shipped import config_path
from . import app
from ._util import json_output_option, one_line_errors, report

# Seconds between two progress lines.
REPORT_EVERY = 5.0


@app.command(
    "train-vectors",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@one_line_errors
def train_vectors_cli(
    ctx: typer.Context,
    corpus: Path = typer.Argument(
        ...,
        help="Tokenized UTF-8 text (or .gz), one sentence or paragraph per line",
        exists=True,
        dir_okay=False,
    ),
    output: Path = typer.Argument(..., help="Folder for the trained pipeline"),
    config: Optional[Path] = typer.Option(
        None,
        "--config",
        "-c",
        help="A word2vec config (default: the shipped one)",
        exists=True,
        dir_okay=False,
    ),
    scores: Optional[Path] = json_output_option(),
) -> None:
    """Train the word2vec component of a config (settings as --components.
    word2vec.model.NAME VALUE overrides, as for spacy train) on a tokenized
    text file read once into word ids, then save the pipeline to OUTPUT: the
    same vectors and pipeline as `spacy train configs/word2vec.cfg` with
    pretokenized text, without its per-word Python objects. Each line is a
    sentence (context windows never cross lines); threads = 0 uses every
    core for both architectures."""  # fmt: skip
    overrides = parse_config_overrides(ctx.args)
    nlp = load_word2vec_pipeline(config or config_path("word2vec"), overrides)
    component = nlp.get_pipe(nlp.pipe_names[0])
    start = time.perf_counter()
    encoded = EncodedCorpus(corpus)
    note(
        f"{corpus}: {len(encoded.ids):,} words, {len(encoded.words):,} distinct, "
        f"read in {time.perf_counter() - start:.1f} s"
    )
    summary = train_on_corpus(
        component,
        encoded,
        threads=component.cfg["threads"],
        report=progress_printer(),
    )
    summary["seconds"] = time.perf_counter() - start
    nlp.to_disk(output)
    summary["output"] = str(output)
    summary.update(component.score([]))
    report(summary, scores)


def load_word2vec_pipeline(path: Path, overrides: Dict) -> Language:
    """The config's pipeline, which must be one word2vec component."""
    config = util.load_config(path, overrides=overrides, interpolate=False)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    pipes = [nlp.get_pipe(name) for name in nlp.pipe_names]
    if len(pipes) != 1 or not isinstance(pipes[0], Word2Vec):
        raise ValueError(
            f"train-vectors trains a pipeline of one word2vec component; {path} "
            f"has {nlp.pipe_names or 'none'}. Use configs/word2vec.cfg or "
            "`python -m spacy_lstm init-config word2vec`."
        )
    return nlp


def note(text: str) -> None:
    """A line on stderr, so that stdout holds only the JSON summary."""
    print(text, file=sys.stderr, flush=True)


def progress_printer():
    """A report callback that prints a progress line every REPORT_EVERY
    seconds and at the end of each epoch."""
    last = {"time": time.perf_counter(), "epoch": 1}

    def show(progress: Dict) -> None:
        now = time.perf_counter()
        epoch_done = progress["done"] * progress["epochs"] >= progress["epoch"] - 1e-9
        if now - last["time"] < REPORT_EVERY and not epoch_done:
            return
        last["time"] = now
        note(
            f"epoch {progress['epoch']}/{progress['epochs']}  "
            f"{progress['done']:6.1%}  {progress['words_per_second']:,.0f} words/s  "
            f"alpha {progress['alpha']:.5f}  loss {progress['loss']:.3f}"
        )

    return show
