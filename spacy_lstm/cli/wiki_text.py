"""`wiki-text`: the raw text of the benchmarks from its public source, the
WikiExtractor output of a 2015 English Wikipedia dump."""

import fnmatch
import gzip
import re
import tarfile
from pathlib import Path
from typing import IO, Iterator, List, Optional

import typer

from . import app
from ._util import one_line_errors, output_file

# The files of the extract in the public archive (and in a folder unpacked from it).
DEFAULT_FILES = "*text/AA/wiki_*"
TOKEN = re.compile(r"[a-z0-9]+")


def paragraphs(lines: Iterator[str]) -> Iterator[str]:
    """WikiExtractor's output as one paragraph per line: the <doc> lines and
    blank lines dropped, an empty line after each article."""
    for line in lines:
        line = line.rstrip("\r\n")  # other spaces stay, as in the benchmarks' file
        if line.startswith("<doc "):
            continue
        if line.strip() == "</doc>":
            yield ""
        elif line.strip():
            yield line


def tokens(paragraph: str) -> str:
    """The lower-cased paragraph's runs of [a-z0-9], space-separated (text8's
    rule: punctuation and other characters dropped)."""
    return " ".join(TOKEN.findall(paragraph.lower()))


def source_files(source: Path, pattern: str) -> Iterator[IO[bytes]]:
    """The files matching pattern in a .tar.gz archive or a folder, in name
    order."""
    if source.is_dir():
        names = sorted(
            p
            for p in source.rglob("*")
            if p.is_file() and fnmatch.fnmatch(str(p), pattern)
        )
        for path in names:
            with path.open("rb") as file_:
                yield file_
        return
    with tarfile.open(source, "r:*") as archive:
        members = sorted(
            (
                m
                for m in archive.getmembers()
                if m.isfile() and fnmatch.fnmatch(m.name, pattern)
            ),
            key=lambda m: m.name,
        )
        for member in members:
            file_ = archive.extractfile(member)
            if file_ is not None:
                yield file_


@app.command("wiki-text")
@one_line_errors
def wiki_text_cli(
    source: Path = typer.Argument(
        ..., help="WikiExtractor output: a .tar.gz archive or a folder"
    ),
    text: Optional[Path] = typer.Option(
        None, "--text", help="Write the paragraphs here (.gz: compressed)"
    ),
    tokenized: Optional[Path] = typer.Option(
        None, "--tokenized", help="Write the lower-cased tokens here (.gz: compressed)"
    ),
    files: str = typer.Option(DEFAULT_FILES, "--files", help="Which files to read"),
) -> None:
    """Write the benchmarks' raw text from WikiExtractor's output: --text one
    paragraph per line in its original case (an empty line after each
    article), --tokenized each paragraph lower-cased as its runs of [a-z0-9]
    (empty lines dropped). An output that exists already is kept, so a
    project can run this before every workflow; an output that is missing
    while the source is too is an error that says what to do."""
    wanted = [
        path for path in (text, tokenized) if path is not None and not path.exists()
    ]
    if not wanted:
        print("The raw text exists already: kept.")
        return
    if not source.exists():
        missing = ", ".join(str(path) for path in wanted)
        raise ValueError(
            f"{missing} missing, and so is {source}, which it is made from: run "
            "`python -m spacy project assets` to fetch the Wikipedia extract, or "
            "point the project's raw_text and wiki_text variables at your own text."
        )
    # written under temporary names, renamed when whole: a stopped run leaves
    # no truncated text that a later run would keep
    temporary = [output_file(path).with_name(f".{path.name}.tmp") for path in wanted]
    outputs: List[IO[str]] = []
    try:
        for path, tmp in zip(wanted, temporary):
            opener = gzip.open if path.suffix == ".gz" else open
            outputs.append(opener(tmp, "wt", encoding="utf8"))
        n_files = n_lines = 0
        for file_ in source_files(source, files):
            n_files += 1
            lines = (raw.decode("utf8", errors="replace") for raw in file_)
            for paragraph in paragraphs(lines):
                n_lines += 1
                if text is not None and text in wanted:
                    outputs[wanted.index(text)].write(paragraph + "\n")
                if tokenized is not None and tokenized in wanted:
                    words = tokens(paragraph)
                    if words:
                        outputs[wanted.index(tokenized)].write(words + "\n")
    finally:
        for output in outputs:
            output.close()
    if not n_files:
        for tmp in temporary:
            tmp.unlink()
        raise ValueError(f"No file in {source} matches {files!r}.")
    for path, tmp in zip(wanted, temporary):
        tmp.replace(path)
    print(f"{n_files} files, {n_lines:,} lines: {', '.join(map(str, wanted))}")
