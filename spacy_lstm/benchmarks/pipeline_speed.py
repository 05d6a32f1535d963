"""Words per second of whole pipelines on raw text, single process and with
n_process workers, side by side.

    python -m spacy_lstm.benchmarks.pipeline_speed PIPELINE [PIPELINE ...] \\
        --conllu DEV.conllu [--sents-per-doc 10] [--n-process 1 2]

The raw text is the `# text` of the CoNLL-U file's sentences, `sents-per-doc`
of them joined into one doc, so that the pipelines find sentences and tokens
themselves. Every pipeline runs every setting in turn, A B A B, and the best
round is reported (words = tokens the pipeline made; n_process > 1 includes
starting the workers), with each pipeline's speed as a multiple of the last
pipeline's (the anchor) in the same setting: the median of the per-round
ratios. A pipeline with spacy-lstm torch layers runs in float32 and, where the
CPU computes bfloat16 natively, in bfloat16 as well, with the share of tokens
whose head, and head and label, agree with its float32 parse. Every pipeline
gets the same cores: torch's --threads (default one; spaCy's CNN layers use one
thread whatever torch is allowed) in one process, or one thread in each of
n_process workers. Prints one JSON line, with the CPU, its bfloat16 flags and
the threads and processes of every timing.
"""

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
import torch
from spacy.language import Language

from ..inference import set_precision, torch_shims
from . import describe_cpu
from .parse_speed import agreement, speed_ratio


def raw_texts(conllu: Path, sents_per_doc: int) -> List[str]:
    """The raw text of the CoNLL-U file, sents_per_doc sentences per doc."""
    sentences = [
        line[len("# text = ") :].strip()
        for line in conllu.read_text(encoding="utf8").splitlines()
        if line.startswith("# text = ")
    ]
    if not sentences:
        raise ValueError(f"{conllu} has no '# text = ' lines.")
    return [
        " ".join(sentences[i : i + sents_per_doc])
        for i in range(0, len(sentences), sents_per_doc)
    ]


def words_per_second(
    nlp: Language, texts: List[str], n_process: int, batch_size: int
) -> float:
    """Tokens per second of nlp.pipe over the texts."""
    start = time.perf_counter()
    words = sum(
        len(doc) for doc in nlp.pipe(texts, n_process=n_process, batch_size=batch_size)
    )
    return words / (time.perf_counter() - start)


def main() -> None:
    """Time every pipeline in every setting, in alternating rounds, and print
    one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pipelines", nargs="+")
    parser.add_argument("--conllu", type=Path, required=True)
    parser.add_argument("--sents-per-doc", type=int, default=10)
    parser.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads with n_process=1"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = raw_texts(args.conllu, args.sents_per_doc)
    cpu = describe_cpu()
    nlps: Dict[str, Language] = {}
    for path in args.pipelines:
        nlp = spacy.load(path)
        if not torch_shims(nlp):  # no spacy-lstm layers: spaCy's CNN
            nlps[path] = nlp
            continue
        nlps[f"{path} float32"] = set_precision(nlp, "float32")
        if cpu["native_bfloat16"]:
            nlps[f"{path} bfloat16"] = set_precision(spacy.load(path), "bfloat16")
    for nlp in nlps.values():  # warm up
        list(nlp.pipe(texts[:20]))
    speeds: Dict[Tuple[str, int], List[float]] = {
        (name, n): [] for name in nlps for n in args.n_process
    }
    for _ in range(args.rounds):
        for (name, n_process), so_far in speeds.items():
            so_far.append(
                words_per_second(nlps[name], texts, n_process, args.batch_size)
            )
    anchor = list(nlps)[-1]
    first = next(iter(nlps.values()))
    result = {
        **cpu,
        "docs": len(texts),
        "words": sum(len(doc) for doc in first.tokenizer.pipe(texts)),
        "words_per_second": {
            f"{name} n_process={n}": round(max(wps))
            for (name, n), wps in speeds.items()
        },
        "speed_ratio": {
            f"{name} / {anchor} n_process={n}": speed_ratio(
                [1 / x for x in wps], [1 / x for x in speeds[(anchor, n)]]
            )
            for (name, n), wps in speeds.items()
            if name != anchor
        },
        # the forked workers of n_process > 1 run torch on one thread each
        "threads / processes": {
            f"{name} n_process={n}": [args.threads if n == 1 else 1, n]
            for name, n in speeds
        },
        "pipes": {name: nlp.pipe_names for name, nlp in nlps.items()},
    }
    for name in nlps:
        path, _, variant = name.rpartition(" ")
        if variant == "bfloat16":
            docs = list(nlps[name].pipe(texts, batch_size=args.batch_size))
            float32 = nlps[f"{path} float32"].pipe(texts, batch_size=args.batch_size)
            result[f"agreement {name}"] = agreement(docs, list(float32))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
