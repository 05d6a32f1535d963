"""The shard plan and the files of an output folder: which names are ours,
which shards are done, and writing each file whole."""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

MANIFEST = "manifest.json"
DOCS_SUFFIX = ".spacy"
SUMMARY_SUFFIX = ".jsonl"
# A shard's files, and a file being written (a run stopped while writing it
# leaves it behind): nothing else in a folder is annotate's to delete.
OUR_FILE = re.compile(r"^\d{3}-\d{6}\.(spacy|jsonl)$")
OUR_TMP = re.compile(r"^\.(\d{3}-\d{6}\.(spacy|jsonl)|manifest\.json)\.tmp$")


@dataclass(frozen=True)
class Shard:
    """Items start..stop - 1 of one input, counted from 0: the lines of a text
    file (blank lines included), the docs of a .spacy file."""

    name: str
    input: int
    start: int
    stop: int


def plan_shards(counts: Sequence[int], shard_size: int) -> List[Shard]:
    """Shards of shard_size items, in input order, none spanning two inputs."""
    return [
        Shard(f"{i:03d}-{k:06d}", i, start, min(start + shard_size, count))
        for i, count in enumerate(counts)
        for k, start in enumerate(range(0, count, shard_size))
    ]


def write_whole(path: Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a reader sees the whole file
    or none."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def is_done(output: Path, shard: Shard) -> bool:
    """Whether the shard is written: its docs are written last."""
    return (output / f"{shard.name}{DOCS_SUFFIX}").is_file()


def remove_temporary(output: Path) -> None:
    """Delete the files a stopped run was writing (ours only)."""
    for path in output.iterdir():
        if OUR_TMP.match(path.name):
            path.unlink()


def remove_run(output: Path) -> None:
    """Delete a run's manifest, shards and temporary files, and nothing else."""
    for path in output.iterdir():
        if (
            path.name == MANIFEST
            or OUR_FILE.match(path.name)
            or OUR_TMP.match(path.name)
        ):
            path.unlink()
