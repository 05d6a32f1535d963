"""The plain-PyTorch word-LM recipe (pytorch/examples word_language_model) on
spacy-lstm's RNNLanguageModel: the baseline lstm_lm is measured against.

    python -m spacy_lstm.benchmarks.lm_plain_torch ptb.train.txt ptb.valid.txt \\
        --width 200 --depth 2 --dropout 0.2 --minutes 30

Text is whitespace-tokenized with <eos> after each line. Training: the stream
is cut into 20 parallel streams, trained in windows of 35 tokens with the
hidden state carried from window to window (truncated backpropagation through
time), SGD at learning rate 20, gradient-norm clipping at 0.25, the rate
divided by 4 whenever the validation perplexity does not improve. Validation
runs over the whole stream (batch 10), <eos> counted. Prints one JSON line per
epoch: training tokens/s and validation perplexity.
"""

import argparse
import json
import math
import time
from pathlib import Path
from typing import Dict, List

import torch

from ..torch_modules.language_model import RNNLanguageModel, detach_state

EOS = "<eos>"


def read_tokens(path: Path) -> List[str]:
    """The file's whitespace-separated words with <eos> after each line."""
    tokens = []
    with path.open(encoding="utf8") as file_:
        for line in file_:
            tokens.extend(line.split())
            tokens.append(EOS)
    return tokens


def batchify(ids: torch.Tensor, n_streams: int) -> torch.Tensor:
    """(n_streams, length): the stream cut into parallel rows."""
    length = len(ids) // n_streams
    return ids[: length * n_streams].view(n_streams, length)


def train_window(
    model: RNNLanguageModel,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    state,
    lr: float,
    clip: float,
):
    """One step of the recipe: forward from the carried state, backward, clip
    the global gradient norm, plain SGD. Returns the state to carry on."""
    if state is not None:
        state = detach_state(state)
    hidden, state = model(inputs, state)
    loss = model.loss(hidden, targets) / targets.numel()
    model.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(param.grad, alpha=-lr)
    return state


def evaluate(model: RNNLanguageModel, data: torch.Tensor, bptt: int) -> float:
    """Perplexity of the rows of data, the state carried across windows."""
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, data.shape[1] - 1, bptt):
            inputs = data[:, start : start + bptt]
            targets = data[:, start + 1 : start + 1 + bptt]
            inputs = inputs[:, : targets.shape[1]]
            hidden, state = model(inputs, state)
            total += float(model.loss(hidden, targets))
            count += targets.numel()
    return math.exp(total / count)


def main() -> None:
    """Train the plain-PyTorch recipe for the given time and print its
    validation perplexity."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("valid", type=Path)
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--clip", type=float, default=0.25)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_tokens = read_tokens(args.train)
    vocab: Dict[str, int] = {}
    for token in train_tokens:
        vocab.setdefault(token, len(vocab))
    if "<unk>" not in vocab:
        vocab["<unk>"] = len(vocab)
    unk = vocab["<unk>"]

    def encode(tokens: List[str]) -> torch.Tensor:
        return torch.tensor([vocab.get(t, unk) for t in tokens], dtype=torch.long)

    train = batchify(encode(train_tokens), args.batch_size)
    valid = batchify(encode(read_tokens(args.valid)), 10)
    model = RNNLanguageModel(
        len(vocab), args.width, args.depth, args.cell, args.dropout, tie=True
    )
    lr, best, start_time, epoch = args.lr, math.inf, time.perf_counter(), 0
    while time.perf_counter() - start_time < args.minutes * 60:
        epoch += 1
        model.train()
        state, tokens, epoch_start = None, 0, time.perf_counter()
        for start in range(0, train.shape[1] - 1, args.bptt):
            if time.perf_counter() - start_time >= args.minutes * 60:
                break
            targets = train[:, start + 1 : start + 1 + args.bptt]
            inputs = train[:, start : start + targets.shape[1]]
            state = train_window(model, inputs, targets, state, lr, args.clip)
            tokens += targets.numel()
        seconds = time.perf_counter() - epoch_start
        ppl = evaluate(model, valid, args.bptt)
        if ppl < best:
            best = ppl
        else:
            lr /= 4
        print(json.dumps({
            "epoch": epoch, "train_tokens_per_s": round(tokens / seconds),
            "valid_ppl": round(ppl, 2), "lr": lr,
            "minutes": round((time.perf_counter() - start_time) / 60, 1),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
