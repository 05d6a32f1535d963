"""Parse speed under other costs of the encoder's padding groups, side by side.

    python -m spacy_lstm.benchmarks.padding_costs PIPELINE --conllu DEV.conllu \\
        [--costs 8,32 16,256 ...] [--precision auto] [--rounds 8] [--threads 2]

The BiLSTM encoder cuts each batch into padded groups by a cost model: a step
and a pass cost so many padded cells beyond their cells (see
util.cheapest_groups and models.encoder's STEP_COST). This runs one pipeline
over the gold sentences of a CoNLL-U file once per (step, pass) setting in
each round, the settings in a rotated order from round to round and the
sentences in a new order each round (as parse_speed does), and reports each
setting's best round in words/s, its speed as a multiple of the first
setting's (the median of the per-round ratios) and the share of heads and
labels as with the first setting. Prints one JSON line.
"""

import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple

import torch

from ..cli.evaluate_parser import load_for_gold_sentences, read_conllu
from ..inference import precision_of, set_precision
from ..models import encoder
from . import describe_cpu
from .parse_speed import agreement, parse, speed_ratio

# (step, pass) in float32, then in bfloat16
COST_NAMES = ("STEP_COST", "GROUP_COST", "STEP_COST_BFLOAT16", "GROUP_COST_BFLOAT16")


def parse_costs(text: str) -> Tuple[float, float]:
    """ "16,256" -> (16.0, 256.0)"""
    step, _, pass_ = text.partition(",")
    try:
        return float(step), float(pass_)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STEP,PASS costs, got {text!r}")


def main() -> None:
    """Time the pipeline under each cost setting in rotated rounds and print
    one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline", help="a pipeline with a spacy-lstm encoder")
    parser.add_argument("--conllu", required=True, help="gold sentences to parse")
    parser.add_argument(
        "--costs",
        nargs="+",
        type=parse_costs,
        default=[(8.0, 32.0), (16.0, 128.0), (16.0, 256.0), (32.0, 512.0)],
        help="STEP,PASS settings; the first is the reference",
    )
    parser.add_argument("--precision", default="auto", help="auto, float32, bfloat16")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="0: torch default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sents = read_conllu(Path(args.conllu))
    nlp = set_precision(load_for_gold_sentences(args.pipeline), args.precision)
    # Both precisions' costs are set: the plan reads the one it runs in.
    saved = {name: getattr(encoder, name) for name in COST_NAMES}

    def use(costs: Tuple[float, float]) -> None:
        for name, cost in zip(COST_NAMES, costs * 2):
            setattr(encoder, name, cost)

    settings = list(args.costs)
    times: Dict[Tuple[float, float], List[float]] = {c: [] for c in settings}
    parses = {}
    try:
        for costs in settings:  # warm up: each plan's shapes once
            use(costs)
            parse(nlp, sents, args.batch_size, seed=args.rounds)
        for round_ in range(args.rounds):
            shift = round_ % len(settings)
            for costs in settings[shift:] + settings[:shift]:
                use(costs)
                seconds, parses[costs] = parse(nlp, sents, args.batch_size, round_)
                times[costs].append(seconds)
    finally:
        for name, cost in saved.items():
            setattr(encoder, name, cost)
    words = sum(len(s.words) for s in sents)
    result: Dict = describe_cpu()
    result["precision"] = precision_of(nlp)
    result["words"] = words
    reference = settings[0]
    for costs in settings:
        name = "%g,%g" % costs
        result[f"parse words/s {name}"] = round(words / min(times[costs]))
        result[f"speed ratio {name} / %g,%g" % reference] = speed_ratio(
            times[costs], times[reference]
        )
        result[f"agreement {name}"] = agreement(parses[costs], parses[reference])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
