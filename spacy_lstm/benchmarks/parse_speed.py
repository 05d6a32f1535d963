"""Parse speed of spaCy pipelines on gold-tokenized sentences, side by side.

    python -m spacy_lstm.benchmarks.parse_speed PIPELINE [PIPELINE ...] \\
        --conllu DEV.conllu [--train-config CONFIG ... --train TRAIN --dev DEV]

Every sentence of the CoNLL-U file becomes one doc with its gold words, and
sentence segmenters are disabled, as when parsing with gold sentences. The
pipelines run over the same docs in turn, A B A B, and the best round of each
is reported in words per second (single process, `nlp.pipe`).

With --train-config, it also times `nlp.update` on training batches of that
config (words per second, dropout on, after a warm-up) for each config given.
Prints one JSON line.
"""

import argparse
import json
import time
from itertools import islice
from pathlib import Path
from typing import Dict, List

import torch
from spacy.language import Language
from spacy.schemas import ConfigSchemaTraining
from spacy.training.initialize import init_nlp
from spacy.util import load_config, registry, resolve_dot_names

from ..cli.evaluate_parser import (
    Sentence,
    gold_sentence_docs,
    load_for_gold_sentences,
    read_conllu,
)


def parse_seconds(nlp: Language, sentences: List[Sentence], batch_size: int) -> float:
    """Seconds to parse the sentences, one doc each, with nlp.pipe."""
    docs = gold_sentence_docs(nlp, sentences)
    start = time.perf_counter()
    for _ in nlp.pipe(docs, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def train_words_per_second(config_path: str, overrides: Dict, n_batches: int) -> float:
    """Words/s of nlp.update over the config's first training batches,
    after a warm-up."""
    nlp = init_nlp(load_config(config_path, overrides=overrides, interpolate=False))
    config = nlp.config.interpolate()
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    (corpus,) = resolve_dot_names(config, [T["train_corpus"]])
    optimizer = T["optimizer"]
    batches = list(islice(T["batcher"](corpus(nlp)), n_batches + 2))
    for batch in batches[:2]:  # warm up
        nlp.update(batch, sgd=optimizer, drop=T["dropout"])
    words = 0
    start = time.perf_counter()
    for batch in batches[2:]:
        nlp.update(batch, sgd=optimizer, drop=T["dropout"])
        words += sum(len(eg.predicted) for eg in batch)
    return words / (time.perf_counter() - start)


def main() -> None:
    """Time every pipeline in alternating rounds and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipelines", nargs="*", help="pipelines to parse with")
    parser.add_argument("--conllu", help="gold-tokenized sentences to parse")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="0: torch default")
    parser.add_argument("--train-config", nargs="*", default=[])
    parser.add_argument("--train", help="training data for --train-config")
    parser.add_argument("--dev", help="dev data for --train-config")
    parser.add_argument("--train-batches", type=int, default=20)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result: Dict = {"threads": torch.get_num_threads()}

    if args.pipelines:
        sents = read_conllu(Path(args.conllu))
        words = sum(len(s.words) for s in sents)
        result["sentences"], result["words"] = len(sents), words
        nlps = {}
        for path in args.pipelines:
            nlp = load_for_gold_sentences(path)
            parse_seconds(nlp, sents[:200], args.batch_size)  # warm up
            nlps[path] = nlp
        times: Dict[str, List[float]] = {path: [] for path in nlps}
        for _ in range(args.rounds):
            for path, nlp in nlps.items():
                times[path].append(parse_seconds(nlp, sents, args.batch_size))
        for path in nlps:
            result[f"parse words/s {path}"] = round(words / min(times[path]))

    overrides = {}
    if args.train:
        overrides["paths.train"] = args.train
    if args.dev:
        overrides["paths.dev"] = args.dev
    for config_path in args.train_config:
        speed = train_words_per_second(config_path, overrides, args.train_batches)
        result[f"train words/s {config_path}"] = round(speed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
