"""Training speed of lstm_lm in spaCy against the plain-PyTorch recipe: the same
model size, the same text, the same windows, in one run.

    python -m spacy_lstm.benchmarks.lm_speed ptb.train.txt --width 200 --depth 2

Both train on 20 parallel streams in windows of 35 tokens with the state
carried between windows: the plain loop as lm_plain_torch does, lstm_lm through
`nlp.update` on batches from configs/lm_word.cfg's reader and batcher (so the
Doc and Example handling counts). Prints one JSON line with training tokens/s
of each (after a warm-up) and their ratio.

With --pipeline and --valid, it also times a trained lstm_lm pipeline's
`nlp.pipe` over the lines of a pretokenized text (one doc per line), in float32
and in bfloat16 (where the CPU computes it natively), with the perplexity of
the surprisal each sets.
"""

import argparse
import json
import time
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Optional, Tuple

import spacy
import torch
from spacy.schemas import ConfigSchemaTraining
from spacy.tokens import Doc
from spacy.training.initialize import init_nlp
from spacy.util import load_config, registry, resolve_dot_names

from ..inference import set_precision
from ..precision import has_native_bfloat16
from ..shipped import config_path
from ..torch_modules.language_model import RNNLanguageModel
from .lm_plain_torch import batchify, read_tokens, train_window

CONFIG = config_path("lm_word")
WARM_UP = 5


def plain_tokens_per_second(path: Path, args) -> float:
    """Training tokens/s of the plain-PyTorch loop after a warm-up."""
    tokens = read_tokens(path)
    # ids by frequency, as lstm_lm orders its vocabulary (a sampled softmax
    # draws by rank)
    ranked = [token for token, _ in Counter(tokens).most_common()]
    vocab = {token: i for i, token in enumerate(ranked)}
    data = batchify(torch.tensor([vocab[t] for t in tokens]), args.streams)
    model = RNNLanguageModel(
        len(vocab), args.width, args.depth, "lstm", args.dropout, sampled=args.sampled
    )
    model.train()
    state, count, start = None, 0, 0.0
    for k in range(args.windows + WARM_UP):
        if k == WARM_UP:
            count, start = 0, time.perf_counter()
        inputs = data[:, k * args.bptt : (k + 1) * args.bptt]
        targets = data[:, k * args.bptt + 1 : (k + 1) * args.bptt + 1]
        state = train_window(model, inputs, targets, state, 20.0, 0.25)
        count += targets.numel()
    return count / (time.perf_counter() - start)


def spacy_tokens_per_second(path: Path, args) -> float:
    """Training tokens/s of lstm_lm through nlp.update on lm_word.cfg's own
    reader and batcher, after a warm-up."""
    overrides = {
        "paths.train": str(path), "paths.dev": str(path),
        "corpora.train.streams": args.streams, "corpora.train.window": args.bptt,
        "components.lstm_lm.model.width": args.width,
        "components.lstm_lm.model.depth": args.depth,
        "components.lstm_lm.model.dropout": args.dropout,
        "components.lstm_lm.model.sampled_softmax": args.sampled,
    }  # fmt: skip
    nlp = init_nlp(load_config(CONFIG, overrides=overrides, interpolate=False))
    config = nlp.config.interpolate()
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    (corpus,) = resolve_dot_names(config, [T["train_corpus"]])
    batches = islice(T["batcher"](corpus(nlp)), args.windows + WARM_UP)
    count, start = 0, 0.0
    for k, batch in enumerate(batches):
        if k == WARM_UP:
            count, start = 0, time.perf_counter()
        nlp.update(batch, sgd=T["optimizer"])
        count += sum(len(eg.reference) - 1 for eg in batch)
    return count / (time.perf_counter() - start)


def inference_tokens_per_second(
    pipeline: str, path: Path, precision: str = "float32"
) -> Tuple[float, Optional[float]]:
    """nlp.pipe's tokens/s over the lines of a text, one doc per line, and
    the perplexity of the surprisal it sets (each line on its own, so not the
    perplexity command's convention), to see what bfloat16 costs."""
    nlp = set_precision(spacy.load(pipeline), precision)
    lines = path.read_text(encoding="utf8").splitlines()
    docs = [Doc(nlp.vocab, words=line.split()) for line in lines if line.split()]
    list(nlp.pipe(docs[:64]))  # warm-up
    start = time.perf_counter()
    docs = list(nlp.pipe(docs, batch_size=64))
    seconds = time.perf_counter() - start
    bits = [
        b for doc in docs if doc._.lm_surprisal is not None for b in doc._.lm_surprisal
    ]
    perplexity = float(2.0 ** (sum(bits) / len(bits))) if bits else None
    return sum(len(doc) for doc in docs) / seconds, perplexity


def main() -> None:
    """Run the measurements and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument(
        "--sampled", type=int, default=0, help="sampled softmax candidates (0: full)"
    )
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pipeline", help="a trained lstm_lm pipeline to time")
    parser.add_argument("--valid", type=Path, help="pretokenized text for --pipeline")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plain = plain_tokens_per_second(args.train, args)
    ours = spacy_tokens_per_second(args.train, args)
    plain_again = plain_tokens_per_second(args.train, args)  # A B A: drift shows
    result = {
        "plain_torch_tokens_per_s": [round(plain), round(plain_again)],
        "lstm_lm_tokens_per_s": round(ours),
        "ratio": round(ours / ((plain + plain_again) / 2), 2),
        "width": args.width, "depth": args.depth, "threads": args.threads,
    }  # fmt: skip
    if args.pipeline and args.valid:
        result["native_bfloat16"] = has_native_bfloat16(torch.device("cpu"))
        for suffix, precision in (("", "float32"), ("_bfloat16", "auto")):
            speed, perplexity = inference_tokens_per_second(
                args.pipeline, args.valid, precision
            )
            result[f"pipe_tokens_per_s{suffix}"] = round(speed)
            result[f"pipe_line_perplexity{suffix}"] = perplexity
    print(json.dumps(result))


if __name__ == "__main__":
    main()
