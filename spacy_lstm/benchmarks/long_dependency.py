"""The vanishing gradient, measured: can a recurrent cell remember the first
symbol of a sequence after N distractors?

    python -m spacy_lstm.benchmarks.long_dependency [--gaps 10 50 100] [--steps 2000]
        [--gradients-svg gradients.svg]

Each sequence starts with one of 8 symbols, then N random distractor tokens,
then a query token; the model must output the first symbol. A one-layer
unidirectional network (the same torch cells as spacy-lstm's encoder: "rnn",
"gru", "lstm") reads the sequence and a linear layer classifies its last
hidden state. Chance is 1/8. The gradient that teaches the model to keep the
symbol has to travel back N steps: through a vanilla tanh RNN it shrinks at
every step, while the LSTM's additive cell state (and the GRU's update gate)
carry it. Prints one JSON line per (cell, gap) with held-out accuracy and how
that gradient shrinks: the mean norm of the loss's gradient with respect to
the input k steps before the query, relative to k = 0, before and after
training. --gradients-svg draws those curves for the longest gap.
"""

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Tuple

import torch
from torch import nn

from ..torch_modules.rnn import CELLS
from ..visualize import gradient_svg

N_SYMBOLS = 8
N_DISTRACTORS = 16
QUERY = N_SYMBOLS + N_DISTRACTORS
VOCAB = QUERY + 1
# the distances (steps before the query) shown in the JSON lines
SHOWN_DISTANCES = (1, 2, 5, 10, 20, 50, 100)


def make_batch(
    size: int, gap: int, generator: torch.Generator
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sequences of a symbol, gap distractors and a query, with the symbol
    each must recall."""
    symbols = torch.randint(0, N_SYMBOLS, (size,), generator=generator)
    distractors = torch.randint(
        N_SYMBOLS, N_SYMBOLS + N_DISTRACTORS, (size, gap), generator=generator
    )
    query = torch.full((size, 1), QUERY)
    return torch.cat([symbols[:, None], distractors, query], dim=1), symbols


class Recaller(nn.Module):
    """An embedding, one recurrent layer and a classifier that reads the
    last step: the network of the recall task."""

    def __init__(self, cell: str, width: int, max_gap: int, chrono: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, width)
        self.rnn = CELLS[cell](width, width, batch_first=True)
        self.output = nn.Linear(width, N_SYMBOLS)
        if cell == "lstm" and chrono:
            # Chrono initialisation (Tallec & Ollivier 2018): forget-gate
            # biases log(U(1, T)) make the cell state's memory span up to the
            # T steps the task needs from the start; the input gate mirrors it.
            # With torch's default biases the LSTM, too, failed at a gap of 50
            # here (--lstm-init default).
            with torch.no_grad():
                chrono = torch.log(torch.empty(width).uniform_(1, max_gap + 2))
                self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_ih_l0[width : 2 * width] = chrono
                self.rnn.bias_ih_l0[:width] = -chrono

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embed(tokens))

    def classify(self, inputs: torch.Tensor) -> torch.Tensor:
        """The symbol's scores from the sequence's input vectors."""
        hidden, _ = self.rnn(inputs)
        return self.output(hidden[:, -1])


def gradient_by_distance(
    model: Recaller, gap: int, batch_size: int, seed: int
) -> List[float]:
    """Mean norm of the loss's gradient with respect to the input vector k
    steps before the query, divided by that at k = 0 (the query itself), for
    k = 0 .. gap + 1 (the symbol): how much of the learning signal reaches
    back k steps."""
    tokens, targets = make_batch(batch_size, gap, torch.Generator().manual_seed(seed))
    inputs = model.embed(tokens).detach().requires_grad_(True)
    loss = nn.functional.cross_entropy(model.classify(inputs), targets)
    (grads,) = torch.autograd.grad(loss, inputs)
    norms = grads.norm(dim=2).mean(dim=0).flip(0)  # index k: k steps back
    return (norms / norms[0]).tolist()


def train_and_score(
    cell: str,
    gap: int,
    steps: int,
    width: int,
    batch_size: int,
    lr: float,
    seed: int,
    chrono: bool = True,
) -> dict:
    """Train one cell on one gap with Adam; return its held-out accuracy and
    its gradient by distance before and after training."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Recaller(cell, width, gap, chrono)
    before = gradient_by_distance(model, gap, batch_size, seed + 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(steps):
        tokens, targets = make_batch(batch_size, gap, generator)
        loss = nn.functional.cross_entropy(model(tokens), targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    seconds = time.perf_counter() - start
    tokens, targets = make_batch(2000, gap, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        accuracy = (model(tokens).argmax(dim=1) == targets).float().mean().item()
    after = gradient_by_distance(model, gap, batch_size, seed + 2)
    return {
        "cell": cell if cell != "lstm" or chrono else "lstm (torch's default init)",
        "gap": gap,
        "accuracy": round(accuracy, 3),
        "steps": steps,
        "seconds": round(seconds, 1),
        "gradient_before": _shown(before),
        "gradient_after": _shown(after),
        "gradient_curves": {"before training": before, "after training": after},
    }


def _shown(curve: List[float]) -> Dict[str, float]:
    return {str(k): float(f"{curve[k]:.3g}") for k in SHOWN_DISTANCES if k < len(curve)}


def main() -> None:
    """Train every cell on every gap and print the accuracies as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gaps", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--lstm-init",
        choices=["chrono", "default"],
        default="chrono",
        help="LSTM gate biases: chrono initialisation or torch's default",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--gradients-svg",
        type=Path,
        default=None,
        help="Draw the gradient by distance for the longest gap (log scale)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    curves: Dict[str, List[float]] = {}
    longest = max(args.gaps)
    for gap in args.gaps:
        for cell in args.cells:
            result = train_and_score(
                cell,
                gap,
                args.steps,
                args.width,
                args.batch_size,
                args.lr,
                args.seed,
                chrono=args.lstm_init == "chrono",
            )
            drawn = result.pop("gradient_curves")
            if gap == longest:
                for when, curve in drawn.items():
                    curves[f"{result['cell']}, {when}"] = curve
            print(json.dumps(result), flush=True)
    if args.gradients_svg is not None:
        title = f"Gradient reaching back k steps (gap {longest}), relative to k = 0"
        args.gradients_svg.write_text(gradient_svg(curves, title), encoding="utf8")


if __name__ == "__main__":
    main()
