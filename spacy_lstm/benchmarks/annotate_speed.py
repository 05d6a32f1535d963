"""The annotate command's throughput on a local Dask cluster against one
process's nlp.pipe over the same docs, and a run killed midway and resumed.

    python -m spacy_lstm.benchmarks.annotate_speed PIPELINE TEXT \\
        [--docs 100000] [--workers 2] [--shard-size 1000] [--kill-after 3] \\
        [--kill-docs 10000]

The first `docs` non-blank lines of TEXT (.txt or .gz) are the corpus. One
process: spacy.load, nlp.pipe with torch on `workers` threads, and the docs
saved as one DocBin. The cluster: `annotate` from its start to its last shard
written, `workers` processes of one torch thread. Each side's time includes
loading the pipeline. Then the CLI runs again in a new folder, is killed
(SIGKILL, with its workers) once `kill-after` shards are written, and runs
again, on the first `kill-docs` docs: every line must come out exactly once,
in order. Prints one JSON line.
"""

import argparse
import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import spacy
import torch
from spacy.tokens import DocBin

from ..annotate import annotate
from . import describe_cpu


def first_lines(path: Path, n: int) -> List[str]:
    """The first n non-blank lines of a text file (.gz or not)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf8") as file_:
        return list(itertools.islice((line for line in file_ if line.strip()), n))


def single_process(
    pipeline: str, corpus: Path, threads: int, batch_size: int, output: Path
):
    """Words and seconds of spacy.load, nlp.pipe and saving the DocBin."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    nlp = spacy.load(pipeline)
    texts = corpus.read_text(encoding="utf8").splitlines()
    docs = DocBin(store_user_data=True)
    n_words = 0
    for doc in nlp.pipe(texts, batch_size=batch_size):
        docs.add(doc)
        n_words += len(doc)
    docs.to_disk(output)
    return n_words, time.perf_counter() - start


def killed_and_resumed(pipeline: str, corpus: Path, output: Path, args) -> dict:
    """Run the CLI, kill it with its workers after kill_after shards, run it
    again; check that every line is in the output once, in order."""
    command = [
        sys.executable, "-m", "spacy_lstm", "annotate", pipeline, str(corpus),
        "--output", str(output), "--workers", str(args.workers),
        "--shard-size", str(args.shard_size),
    ]  # fmt: skip
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    while len(list(output.glob("*.spacy"))) < args.kill_after and first.poll() is None:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_when_killed = len(list(output.glob("*.spacy")))
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    lines = [
        json.loads(row)["line"]
        for shard in sorted(output.glob("*.jsonl"))
        for row in shard.open(encoding="utf8")
    ]
    return {
        "shards_done_when_killed": done_when_killed,
        "shards_done_before_second_run": summary["shards_done_before"],
        "every_line_once_in_order": lines == list(range(1, args.docs + 1)),
    }


def main() -> None:
    """Time both sides, run the kill test and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline")
    parser.add_argument("text", type=Path)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--kill-after", type=int, default=3, help="0: no kill test")
    parser.add_argument(
        "--kill-docs",
        type=int,
        default=10_000,
        help="The first docs, for the kill test",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        texts = first_lines(args.text, args.docs)
        args.docs = len(texts)
        corpus.write_text("".join(texts), encoding="utf8")
        words, one_seconds = single_process(
            args.pipeline,
            corpus,
            args.workers,
            args.batch_size,
            Path(tmp) / "one.spacy",
        )
        result = annotate(
            args.pipeline,
            [corpus],
            Path(tmp) / "cluster",
            workers=args.workers,
            shard_size=args.shard_size,
            batch_size=args.batch_size,
        )
        report = {
            **describe_cpu(),
            "docs": args.docs,
            "words": words,
            "workers": args.workers,
            "nlp_pipe_words_per_second": round(words / one_seconds),
            "annotate_words_per_second": result["words_per_second"],
            "ratio": round(result["words_per_second"] / (words / one_seconds), 3),
        }
        if result["tokens"] != words:
            raise SystemExit(
                f"The cluster made {result['tokens']} tokens, not {words}."
            )
        if args.kill_after:
            args.docs = min(args.docs, args.kill_docs)
            small = Path(tmp) / "small.txt"
            small.write_text("".join(texts[: args.docs]), encoding="utf8")
            report["kill_test_docs"] = args.docs
            report.update(
                killed_and_resumed(args.pipeline, small, Path(tmp) / "killed", args)
            )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
