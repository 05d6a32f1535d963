"""What an output folder was made from: the pipeline (a digest of its files),
the inputs (a hash of all their bytes), the settings and the shard plan, kept
in OUTPUT/manifest.json and compared on every rerun."""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, Optional, Sequence

import spacy

from .inputs import CHUNK, describe
from .shards import MANIFEST, plan_shards, remove_run, write_whole

VERSION = 2


def check_pipeline(pipeline: str) -> str:
    """The pipeline as workers should load it (an absolute directory or a
    package name), or a ValueError if it is neither."""
    path = Path(pipeline)
    if path.exists():
        if not (path / "config.cfg").is_file():
            raise ValueError(
                f"{pipeline} is not a spaCy pipeline: no config.cfg in it."
            )
        return str(path.resolve())
    if spacy.util.is_package(pipeline):
        return pipeline
    raise ValueError(
        f"Pipeline not found: {pipeline} is neither a directory nor an installed "
        "package."
    )


def pipeline_digest(pipeline: str) -> str:
    """A blake2b digest of every file of the pipeline (its config, meta,
    weights and vocab; an installed package's whole folder), names included:
    another model at the same path has another digest."""
    path = Path(pipeline)
    root = path if path.exists() else spacy.util.get_package_path(pipeline)
    digest = hashlib.blake2b(digest_size=16)
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )  # fmt: skip
    for file_ in files:
        digest.update(str(file_.relative_to(root)).encode("utf8") + b"\0")
        with file_.open("rb") as data:
            for chunk in iter(lambda: data.read(CHUNK), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def make_manifest(
    pipeline: str, inputs: Sequence[Path], shard_size: int, max_chars: int
) -> Dict:
    """The manifest of a run: the pipeline and its digest, the inputs (path,
    size, hash, items), the settings and the shard plan. An input that is
    missing, named twice or a copy of another is a ValueError."""
    described = []
    for path in inputs:
        if not path.is_file():
            raise ValueError(f"Input not found: {path}")
        about = describe(path)
        for other in described:
            if other["path"] == about["path"]:
                raise ValueError(
                    f"{path} is named twice: each input is annotated once."
                )
            if about["items"] and (other["size"], other["blake2b"]) == (
                about["size"],
                about["blake2b"],
            ):
                raise ValueError(
                    f"{path} has the same content as {other['path']}: each input "
                    "is annotated once."
                )
        described.append(about)
    shards = plan_shards([d["items"] for d in described], shard_size)
    return {
        "version": VERSION,
        "pipeline": pipeline,
        "pipeline_digest": pipeline_digest(pipeline),
        "inputs": described,
        "shard_size": shard_size,
        "max_chars": max_chars,
        "shards": [asdict(shard) for shard in shards],
    }


def _difference(saved: Dict, manifest: Dict) -> Optional[str]:
    """What differs between a saved manifest and this run's, in words."""
    if saved.get("version") != manifest["version"]:
        return f"an older version of annotate ({saved.get('version', 1)})"
    if saved.get("pipeline") != manifest["pipeline"]:
        return f"the pipeline {saved.get('pipeline')!r}"
    if saved.get("pipeline_digest") != manifest["pipeline_digest"]:
        return f"another model at {manifest['pipeline']} (its files have changed)"
    for key in ("shard_size", "max_chars"):
        if saved.get(key) != manifest[key]:
            return f"{key} {saved.get(key)!r}, not {manifest[key]!r}"
    old, new = saved.get("inputs", []), manifest["inputs"]
    if [d["path"] for d in old] != [d["path"] for d in new]:
        return f"the inputs {', '.join(d['path'] for d in old)}"
    for before, now in zip(old, new):
        if any(before.get(k) != now[k] for k in ("size", "blake2b", "items")):
            return f"another content of {now['path']} (it has changed since)"
    if saved.get("shards") != manifest["shards"]:
        return "another shard plan"
    return None


def check_output(output: Path, manifest: Dict, overwrite: bool = False) -> None:
    """Start a run in output (new or empty: the manifest is written), or
    check that the run there was made from the same pipeline, inputs and
    settings. A run made otherwise is refused, or with overwrite deleted
    (its own files only); a non-empty folder that holds no run is refused."""
    path = output / MANIFEST
    if output.exists() and not output.is_dir():
        raise ValueError(f"--output {output} is a file, not a folder.")
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf8"))
        except ValueError:
            raise ValueError(
                f"{path} is not valid JSON: choose a new --output."
            ) from None
        difference = _difference(saved, manifest)
        if difference is None:
            return
        if not overwrite:
            raise ValueError(
                f"{output} was annotated from {difference}. Resuming would mix two "
                "runs: choose a new --output, or pass --overwrite to delete that "
                "run and start again."
            )
        remove_run(output)
    elif output.is_dir() and any(output.iterdir()):
        raise ValueError(
            f"{output} is not empty and holds no annotate run (no {MANIFEST}): "
            "choose a new or empty --output."
        )
    output.mkdir(parents=True, exist_ok=True)
    write_whole(path, json.dumps(manifest, indent=1).encode("utf8"))
