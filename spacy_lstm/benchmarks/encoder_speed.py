"""Tokens per second of spacy-lstm.BiLSTMEncoder.v1 against spaCy's
spacy.TorchBiLSTMEncoder.v1 at the same width and depth, in one process.

    python -m spacy_lstm.benchmarks.encoder_speed [--conllu FILE] [--threads 2]

Doc lengths come from a CoNLL-U file grouped N_SENTS sentences to a doc (as
`spacy convert -n` makes them), or from a fixed synthetic distribution. The
encoders run over the same batches, alternating A B A B, and the best round of
each is reported, forward+backward (training) and forward only (inference).
Prints one JSON line.
"""

import argparse
import json
import statistics
import time
from typing import List

import numpy
import torch
from spacy.util import registry


def conllu_doc_lengths(path: str, n_sents: int) -> List[int]:
    """Token counts of docs of n_sents consecutive sentences of a CoNLL-U file."""
    sent_lengths, current = [], 0
    with open(path, encoding="utf8") as file_:
        for line in file_:
            if not line.strip():
                if current:
                    sent_lengths.append(current)
                current = 0
            elif not line.startswith("#") and line.split("\t", 1)[0].isdigit():
                current += 1
    if current:
        sent_lengths.append(current)
    return [
        sum(sent_lengths[i : i + n_sents]) for i in range(0, len(sent_lengths), n_sents)
    ]


def synthetic_doc_lengths(n_docs: int, n_sents: int, seed: int = 0) -> List[int]:
    """Token counts of n_docs docs of n_sents sentences of log-normal length."""
    rng = numpy.random.default_rng(seed)
    # English sentence lengths are roughly log-normal with a mean near 17 tokens.
    sents = numpy.clip(rng.lognormal(2.6, 0.6, size=(n_docs, n_sents)), 1, 200)
    return [int(x) for x in sents.astype(int).sum(axis=1)]


def make_batches(lengths: List[int], batch_words: int, width: int, seed: int = 0):
    """Random input vectors for docs of the given lengths, in batches of about
    batch_words words."""
    rng = numpy.random.default_rng(seed)
    batches, batch, words = [], [], 0
    for n in lengths:
        batch.append(rng.normal(size=(n, width)).astype("float32"))
        words += n
        if words >= batch_words:
            batches.append(batch)
            batch, words = [], 0
    if batch:
        batches.append(batch)
    return batches


def run(model, batches, train: bool) -> float:
    """Seconds to run the model over the batches: forward and backward when
    training, forward only otherwise."""
    start = time.perf_counter()
    for Xs in batches:
        if train:
            Ys, backprop = model.begin_update(Xs)
            backprop(Ys)
        else:
            model.predict(Xs)
    return time.perf_counter() - start


def main() -> None:
    """Time both encoders, alternating rounds, and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conllu", help="take doc lengths from this CoNLL-U file")
    parser.add_argument("--n-sents", type=int, default=10, help="sentences per doc")
    parser.add_argument("--batch-words", type=int, default=1000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-docs", type=int, default=400)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.conllu:
        lengths = conllu_doc_lengths(args.conllu, args.n_sents)[: args.max_docs]
    else:
        lengths = synthetic_doc_lengths(args.max_docs, args.n_sents)
    batches = make_batches(lengths, args.batch_words, args.width)
    settings = dict(width=args.width, depth=args.depth, dropout=args.dropout)
    models = {
        "spacy-lstm": registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")(
            **settings
        ),
        "spacy": registry.get("architectures", "spacy.TorchBiLSTMEncoder.v1")(
            **settings
        ),
    }
    for model in models.values():
        model.initialize()
        run(model, batches[:3], train=True)  # warm up

    n_tokens = sum(lengths)
    result = {
        "tokens": n_tokens,
        "docs": len(lengths),
        "batches": len(batches),
        "threads": args.threads,
        **settings,
    }
    for mode, train in (("train", True), ("predict", False)):
        times = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                times[name].append(run(model, batches, train))
        for name in models:
            result[f"{name} {mode} tokens/s"] = round(n_tokens / min(times[name]))
        ratios = [a / b for a, b in zip(times["spacy"], times["spacy-lstm"])]
        result[f"{mode} speed-up"] = round(statistics.median(ratios), 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
