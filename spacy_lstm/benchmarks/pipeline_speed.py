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
ratios. Prints one JSON line.
"""

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
import torch
from spacy.language import Language

from .parse_speed import speed_ratio


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
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = raw_texts(args.conllu, args.sents_per_doc)
    nlps = {name: spacy.load(name) for name in args.pipelines}
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
    anchor = args.pipelines[-1]
    result = {
        "docs": len(texts),
        "words": sum(len(doc) for doc in nlps[args.pipelines[0]].tokenizer.pipe(texts)),
        "torch_threads": args.threads,
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
        "pipes": {name: nlp.pipe_names for name, nlp in nlps.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
