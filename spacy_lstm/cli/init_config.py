"""init-config: write one of the shipped configs where the user wants it."""

import re
import sys
from pathlib import Path

import typer
from thinc.api import Config
from wasabi import msg

from ..shipped import config_names, config_path
from . import app
from ._util import one_line_errors, output_file

SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
SETTING = re.compile(r"^(\w+)\s*=")


def config_with_blank_paths(text: str) -> str:
    """The config text with every [paths] value set to null, so the user fills
    them in (or passes --paths.train and so on to spacy train). Comments and
    everything else are kept as they are."""
    lines, section = [], None
    for line in text.splitlines():
        header = SECTION.match(line)
        if header:
            section = header.group(1)
        setting = SETTING.match(line)
        if section == "paths" and setting:
            line = f"{setting.group(1)} = null"
        lines.append(line)
    blank = "\n".join(lines) + "\n"
    Config().from_str(blank, interpolate=False)  # still a valid config
    return blank


@app.command("init-config")
@one_line_errors
def init_config_cli(
    name: str = typer.Argument(
        ..., help=f"The shipped config: {', '.join(config_names())}"
    ),
    output: Path = typer.Argument(..., help="Where to write it, or - for stdout"),
) -> None:
    """Write a shipped config with its data paths left blank ([paths] values
    set to null), ready for `python -m spacy train OUTPUT --paths.train ...`."""
    text = config_with_blank_paths(config_path(name).read_text(encoding="utf8"))
    if str(output) == "-":
        sys.stdout.write(text)
        return
    output_file(output).write_text(text, encoding="utf8")
    paths = Config().from_str(text, interpolate=False).get("paths", {})
    msg.good(f"Saved the {Path(config_path(name)).stem} config to {output}")
    if paths:
        msg.text(
            f"Set its [paths] ({', '.join(paths)}) in the file, or with "
            f"--paths.NAME on the command line: python -m spacy train {output} "
            "--paths.train ... --paths.dev ..."
        )
