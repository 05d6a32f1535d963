"""Parse speed of spaCy pipelines on gold-tokenized sentences, side by side.

    python -m spacy_lstm.benchmarks.parse_speed PIPELINE [PIPELINE ...] \\
        --conllu DEV.conllu [--threads 1 | --all-cores] [--int8] \\
        [--train-config CONFIG ... --train TRAIN --dev DEV]

Every sentence of the CoNLL-U file becomes one doc with its gold words, and
sentence segmenters are disabled, as when parsing with gold sentences. The
pipelines run over the same docs in turn, A B A B, after a warm-up pass; each
round shuffles the sentences into a new order, the same for every pipeline, so
that its batches are new, as on new text. The best round of each is reported
in words per second (single process, `nlp.pipe`), with its CoNLL 2018 UAS and
LAS, and its speed as a multiple of the last pipeline's (the anchor): the
median over the rounds of the ratio within each round, which
holds up better than the best rounds on a machine whose speed drifts.

Every pipeline gets the same cores. By default one: torch on one thread, one
process (spaCy's CNN layers run on one thread whatever torch is allowed, so
this is the per-core comparison; --threads N gives ours N threads, more cores
than the CNN). With --all-cores every pipeline gets all the
machine's cores: spaCy's CNN through nlp.pipe's n_process (or in one process
where that is faster), ours through torch's threads or through n_process, all
timed and the fastest kept. The output names the threads and processes each
pipeline ran with.

A pipeline with spacy-lstm torch layers runs in float32 and, where the CPU
computes bfloat16 natively (AVX512-BF16 or AMX), in bfloat16 as well; with
--int8 also with int8_inference. For each of these the share of tokens whose
head, and head and label, agree with its float32 parse is reported, and the
output names the CPU, its bfloat16 and int8 flags and the precision each
pipeline ran in.

With --train-config, it also times `nlp.update` on training batches of that
config (words per second, dropout on, after a warm-up) for each config given.
Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import time
from itertools import islice
from pathlib import Path
from typing import Dict, List, Tuple

import numpy
import torch
from spacy.language import Language
from spacy.schemas import ConfigSchemaTraining
from spacy.tokens import Doc
from spacy.training.initialize import init_nlp
from spacy.util import load_config, registry, resolve_dot_names

from ..cli.evaluate_parser import (
    Sentence,
    conll2018_scores,
    gold_sentence_docs,
    load_for_gold_sentences,
    read_conllu,
)
from ..inference import int8_inference, precision_of, set_precision, torch_shims
from . import describe_cpu

# (torch threads, nlp.pipe processes) of one timing
Setting = Tuple[int, int]


def settings(
    has_torch: bool, cores: int, all_cores: bool, threads: int = 1
) -> List[Setting]:
    """What to time a pipeline with. By default every pipeline gets one core:
    one thread, one process. With all_cores every pipeline gets all of them:
    through processes for a pipeline without torch layers (spaCy's CNN layers
    use one thread whatever torch is allowed), and for ours through torch's
    threads and through processes, all timed (the fastest is reported). A
    pipeline without torch layers is also timed in one process: on short docs
    moving them between processes can cost spaCy's CNN more than a second
    process gains (EWT dev sentences in batches of 64 on 2 cores, one script:
    4,092 words/s with n_process=2, 4,385 to 6,890 in one process).

    has_torch (bool): Whether the pipeline has spacy-lstm torch layers.
    cores (int): The machine's cores.
    all_cores (bool): All cores for every pipeline, instead of one.
    threads (int): Torch threads for ours without all_cores: more than one
        gives ours more cores than spaCy's CNN, and the output says so.
    RETURNS (List[Tuple[int, int]]): (torch threads, processes) settings.
    """
    if not all_cores or cores < 2:
        return [(threads if has_torch else 1, 1)]
    if not has_torch:
        return [(1, cores), (1, 1)]
    return [(cores, 1), (1, cores)]


def parse(
    nlp: Language,
    sentences: List[Sentence],
    batch_size: int,
    seed: int = 0,
    setting: Setting = (1, 1),
) -> Tuple[float, List[Doc]]:
    """Seconds to parse the sentences, one doc each, with nlp.pipe, in the
    order that the seed shuffles them into, and the parsed docs in the
    sentences' order. Each round's own order makes new batches, as new text
    does: torch's CPU kernels keep what they built for the batch shapes they
    have seen, so parsing the same batches again flatters them (the encoder
    in bfloat16 took 1.4 times as long on the first pass over EWT dev as on
    the next)."""
    order = numpy.random.default_rng(seed).permutation(len(sentences))
    docs = gold_sentence_docs(nlp, [sentences[i] for i in order])
    threads, n_process = setting
    torch.set_num_threads(threads)
    start = time.perf_counter()
    docs = list(nlp.pipe(docs, batch_size=batch_size, n_process=n_process))
    seconds = time.perf_counter() - start
    in_order: List[Doc] = [docs[0]] * len(docs)
    for doc, i in zip(docs, order):
        in_order[i] = doc
    return seconds, in_order


def agreement(docs: List[Doc], reference: List[Doc]) -> Dict[str, float]:
    """The share of tokens with the reference's head, and head and label."""
    same_head = same_arc = total = 0
    for doc, ref in zip(docs, reference):
        for token, ref_token in zip(doc, ref):
            head = token.head.i == ref_token.head.i
            same_head += head
            same_arc += head and token.dep == ref_token.dep
            total += 1
    return {"heads": same_head / total, "heads_and_labels": same_arc / total}


def speed_ratio(seconds: List[float], anchor_seconds: List[float]) -> float:
    """How many times as fast as the anchor: the median of the per-round
    ratios of the anchor's time to this one's."""
    return round(statistics.median(a / s for s, a in zip(seconds, anchor_seconds)), 3)


def train_words_per_second(config_path: str, overrides: Dict, n_batches: int) -> float:
    """Words/s of nlp.update over the config's first training batches,
    after a warm-up."""
    nlp = init_nlp(load_config(config_path, overrides=overrides, interpolate=False))
    config = nlp.config.interpolate()
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    (corpus,) = resolve_dot_names(config, [T["train_corpus"]])
    optimizer = T["optimizer"]
    batches = list(islice(T["batcher"](corpus(nlp)), n_batches + 2))
    # as spacy train does: frozen components (a sourced word2vec) are not updated
    frozen = T["frozen_components"]
    for batch in batches[:2]:  # warm up
        nlp.update(batch, sgd=optimizer, drop=T["dropout"], exclude=frozen)
    words = 0
    start = time.perf_counter()
    for batch in batches[2:]:
        nlp.update(batch, sgd=optimizer, drop=T["dropout"], exclude=frozen)
        words += sum(len(eg.predicted) for eg in batch)
    return words / (time.perf_counter() - start)


def main() -> None:
    """Time every pipeline in alternating rounds and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipelines", nargs="*", help="pipelines to parse with")
    parser.add_argument("--conllu", help="gold-tokenized sentences to parse")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of ours (default 1)"
    )
    parser.add_argument(
        "--all-cores",
        action="store_true",
        help="every pipeline on all cores (default: one core each)",
    )
    parser.add_argument("--int8", action="store_true", help="also time int8 copies")
    parser.add_argument("--train-config", nargs="*", default=[])
    parser.add_argument("--train", help="training data for --train-config")
    parser.add_argument("--dev", help="dev data for --train-config")
    parser.add_argument("--train-batches", type=int, default=20)
    args = parser.parse_args()
    if args.pipelines and not args.conllu:
        parser.error("--conllu is needed to time pipelines (gold-tokenized sentences)")
    if not args.pipelines and not args.train_config:
        parser.error("nothing to time: pipelines (with --conllu) or --train-config")
    cores = os.cpu_count() or 1
    result: Dict = describe_cpu()
    result["cores"] = "all" if args.all_cores else args.threads

    if args.pipelines:
        sents = read_conllu(Path(args.conllu))
        words = sum(len(s.words) for s in sents)
        result["sentences"], result["words"] = len(sents), words
        nlps: Dict[str, Language] = {}
        for path in args.pipelines:
            nlp = load_for_gold_sentences(path)
            if not torch_shims(nlp):  # no spacy-lstm layers: spaCy's CNN
                nlps[path] = nlp
                continue
            nlps[f"{path} float32"] = set_precision(nlp, "float32")
            if result["native_bfloat16"]:
                nlp = load_for_gold_sentences(path)
                nlps[f"{path} bfloat16"] = set_precision(nlp, "bfloat16")
            if args.int8:
                nlps[f"{path} int8"] = int8_inference(load_for_gold_sentences(path))
        tried = {
            name: settings(bool(torch_shims(nlp)), cores, args.all_cores, args.threads)
            for name, nlp in nlps.items()
        }
        for name, nlp in nlps.items():  # warm up
            for setting in tried[name]:
                parse(nlp, sents, args.batch_size, args.rounds, setting)
        times_of: Dict[Tuple[str, Setting], List[float]] = {
            (name, setting): [] for name in nlps for setting in tried[name]
        }
        parses = {}
        for round_ in range(args.rounds):
            for (name, setting), so_far in times_of.items():
                nlp = nlps[name]
                seconds, parses[name] = parse(
                    nlp, sents, args.batch_size, round_, setting
                )
                so_far.append(seconds)
        # each pipeline's faster setting, by its best round
        best = {
            name: min(tried[name], key=lambda setting: min(times_of[name, setting]))
            for name in nlps
        }
        times = {name: times_of[name, best[name]] for name in nlps}
        anchor = list(nlps)[-1]
        for name in nlps:
            threads, n_process = best[name]
            result[f"threads / processes {name}"] = [threads, n_process]
            result[f"parse words/s {name}"] = round(words / min(times[name]))
            if name != anchor:
                ratio = speed_ratio(times[name], times[anchor])
                result[f"speed ratio {name} / {anchor}"] = ratio
            result[f"UAS / LAS {name}"] = conll2018_scores(sents, parses[name])
            result[f"precision {name}"] = precision_of(nlps[name])
            path, _, variant = name.rpartition(" ")
            if variant in ("bfloat16", "int8"):
                float32 = parses[f"{path} float32"]
                result[f"agreement {name}"] = agreement(parses[name], float32)

    overrides = {}
    if args.train:
        overrides["paths.train"] = args.train
    if args.dev:
        overrides["paths.dev"] = args.dev
    torch.set_num_threads(args.threads)
    for config_path in args.train_config:
        speed = train_words_per_second(config_path, overrides, args.train_batches)
        result[f"train words/s {config_path}"] = round(speed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
