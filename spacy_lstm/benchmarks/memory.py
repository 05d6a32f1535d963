"""Peak memory of long inputs: one doc of N tokens through a pipeline, and the
`perplexity` command over a file of N tokens.

    python -m spacy_lstm.benchmarks.memory PIPELINE \\
        [--doc-tokens 10000 100000] [--perplexity-tokens 10000 100000 1000000]

Every measurement runs in a fresh process (peak RSS only grows), on text made
of the words of the package's small corpus: the doc as one line of words, the
perplexity file as lines of 20 words. Prints one JSON line.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from ..shipped import corpus_dir


def words(n: int) -> List[str]:
    """n words cycled from the shipped sample text."""
    vocabulary = (corpus_dir() / "text" / "sample.txt").read_text("utf8").split()
    return [vocabulary[(i * 7919) % len(vocabulary)] for i in range(n)]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def doc_run(pipeline: str, n_tokens: int) -> Dict:
    """In this process: load, then one doc of n_tokens words."""
    import spacy
    import torch

    torch.set_num_threads(1)
    nlp = spacy.load(pipeline)
    text = " ".join(words(n_tokens))
    nlp.max_length = len(text) + 1
    loaded = peak_rss_mb()
    start = time.perf_counter()
    doc = nlp(text)
    return {
        "tokens": len(doc),
        "loaded_mb": round(loaded),
        "peak_mb": round(peak_rss_mb()),
        "seconds": round(time.perf_counter() - start, 1),
    }


def child(args: List[str]) -> Dict:
    """Run a measurement in a fresh process; its peak RSS comes back."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"Failed: {' '.join(args)}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = round(usage.ru_maxrss / 1024)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def main() -> None:
    """Measure each input in a fresh process and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pipeline")
    parser.add_argument("--doc-tokens", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument(
        "--perplexity-tokens", type=int, nargs="*", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--child-doc", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_doc:
        print(json.dumps(doc_run(args.pipeline, args.child_doc)))
        return
    this = [sys.executable, "-m", "spacy_lstm.benchmarks.memory", args.pipeline]
    result: Dict = {"pipeline": args.pipeline, "doc": [], "perplexity": []}
    for n in args.doc_tokens:
        result["doc"].append(child([*this, "--child-doc", str(n)]))
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.perplexity_tokens:
            path = Path(tmp) / f"{n}.txt"
            ws = words(n)
            lines = [" ".join(ws[i : i + 20]) for i in range(0, n, 20)]
            path.write_text("\n".join(lines) + "\n", encoding="utf8")
            command = [sys.executable, "-m", "spacy_lstm", "perplexity",
                       args.pipeline, str(path), "--pretokenized"]  # fmt: skip
            result["perplexity"].append({"words": n, **child(command)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
