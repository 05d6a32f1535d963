"""word2vec in spacy-lstm against gensim, same corpus, same settings, one run.

    python -m spacy_lstm.benchmarks.word2vec_vs_gensim CORPUS.txt[.gz] \\
        --similarity wordsim353.tsv --analogies questions-words.txt \\
        --architecture skipgram --epochs 5 --output DIR

CORPUS.txt is whitespace-tokenized text, one sentence per line (gensim's
LineSentence format). Ours trains it both ways (--paths): straight from the
file (`python -m spacy_lstm train-vectors`) and through `spacy train` with
pretokenized = true. Each run is its own command, timed whole (start-up,
vocabulary scan and saving included) with its peak RSS. All vector sets are
then scored by the same code (`spacy_lstm.vectors.evaluation`), and gensim's
own evaluation of its vectors is printed too, as a check on ours. Prints one
JSON line.

gensim runs as `Word2Vec(corpus_file=...)`; --gensim-iterable also runs it on
`LineSentence(corpus)`. The two differ in their learning rate: with corpus_file
each worker measures its progress against the whole corpus, so within an epoch
the rate falls only 1/workers of an epoch's share, and it ends near
alpha x (1 - 1/workers) / epochs (0.0025 with 2 workers and 5 epochs) instead of
min_alpha. The iterable run has word2vec.c's linear schedule down to min_alpha.
spacy-lstm's schedule is linear too, and its default min_alpha is that 0.0025.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

from ..shipped import config_path
from ..vectors.evaluation import (
    evaluate_analogies,
    evaluate_similarity,
    read_analogies,
    read_similarity_pairs,
)
from ..vectors.word2vec_format import read_word2vec, table_from_vectors

CONFIG = config_path("word2vec")

GENSIM_SCRIPT = """
import json, sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
corpus, out, sg, epochs, threads, similarity, analogies, mode = sys.argv[1:9]
data = {"corpus_file": corpus}
if mode == "iterable":
    data = {"sentences": LineSentence(corpus)}
model = Word2Vec(**data, sg=int(sg), epochs=int(epochs),
                 workers=int(threads), vector_size=100, window=5, negative=5,
                 sample=1e-3, min_count=5, alpha=0.025, min_alpha=0.0001, seed=1)
model.wv.save_word2vec_format(out, binary=True)
pairs = model.wv.evaluate_word_pairs(similarity)
analogy, _ = model.wv.evaluate_word_analogies(analogies, restrict_vocab=30000,
                                              case_insensitive=True)
print(json.dumps({"gensim_spearman": pairs[1][0], "gensim_analogies": analogy}))
"""


def run_timed(command: List[str]) -> Tuple[float, int, str]:
    """Run a command; return its wall seconds, peak RSS in MB and stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"Command failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss // 1024, stdout


def score(table, pairs, sections) -> Dict[str, float]:
    """WordSim-353 Spearman and analogy accuracies of a vector table."""
    similarity = evaluate_similarity(table, pairs)
    analogies = evaluate_analogies(table, sections)
    return {
        "wordsim353": round(similarity["spearman"], 3),
        "analogies": round(analogies["accuracy"], 3),
        "analogies_semantic": round(analogies["semantic"], 3),
        "analogies_syntactic": round(analogies["syntactic"], 3),
        "vocabulary": len(table.words),
    }


def plain_text(corpus: Path, folder: Path) -> Path:
    """The corpus as plain text: gensim's corpus_file mode cannot read .gz, so
    a .gz corpus is decompressed into folder first, before anything is timed."""
    if corpus.suffix != ".gz":
        return corpus
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / corpus.stem
    if not plain.exists() or plain.stat().st_mtime < corpus.stat().st_mtime:
        with gzip.open(corpus, "rb") as source, plain.open("wb") as target:
            shutil.copyfileobj(source, target)
    return plain


def main() -> None:
    """Train with gensim, then in our ways, score all, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--similarity", type=Path, required=True)
    parser.add_argument("--analogies", type=Path, required=True)
    parser.add_argument(
        "--architecture", choices=["skipgram", "cbow"], default="skipgram"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="gensim's workers")
    parser.add_argument(
        "--spacy-threads", type=int, default=0, help="word2vec threads (0: default)"
    )
    parser.add_argument(
        "--spacy-min-alpha",
        type=float,
        help="our min_alpha (default: the config's, 0.0025, where gensim's "
        "corpus_file mode ends with 2 workers and 5 epochs; 0.0001 is word2vec.c's)",
    )
    parser.add_argument("--output", type=Path, default=Path("training/word2vec_bench"))
    parser.add_argument("--skip-gensim", action="store_true")
    parser.add_argument("--gensim-iterable", action="store_true")
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=["train-vectors", "spacy-train"],
        default=["train-vectors", "spacy-train"],
        help="our ways to train: from the file (train-vectors) and spacy train",
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    args.corpus = plain_text(args.corpus, args.output)
    with args.corpus.open(encoding="utf8") as file_:
        n_words = sum(len(line.split()) for line in file_)
    pairs = read_similarity_pairs(args.similarity)
    sections = read_analogies(args.analogies)
    result: Dict = {
        "corpus_words": n_words,
        "epochs": args.epochs,
        "architecture": args.architecture,
        "gensim_workers": args.threads,
        "spacy_threads": args.spacy_threads,
        "spacy_min_alpha": args.spacy_min_alpha,
    }
    modes = [] if args.skip_gensim else ["corpus_file"]
    if args.gensim_iterable:
        modes.append("iterable")
    for mode in modes:
        out = args.output / f"gensim-{mode}-{args.architecture}.bin"
        seconds, rss, stdout = run_timed(
            [sys.executable, "-c", GENSIM_SCRIPT, str(args.corpus), str(out),
             str(int(args.architecture == "skipgram")), str(args.epochs),
             str(args.threads), str(args.similarity), str(args.analogies), mode]
        )  # fmt: skip
        result["gensim" if mode == "corpus_file" else "gensim_iterable"] = {
            "seconds": round(seconds, 1),
            "words_per_second": round(n_words * args.epochs / seconds),
            "peak_rss_mb": rss,
            **score(read_word2vec(out), pairs, sections),
            **json.loads(stdout.strip().splitlines()[-1]),
        }
    settings = [
        "--components.word2vec.threads", str(args.spacy_threads),
        "--components.word2vec.model.architecture", args.architecture,
        "--components.word2vec.model.epochs", str(args.epochs),
        *(["--components.word2vec.model.min_alpha", str(args.spacy_min_alpha)]
          if args.spacy_min_alpha is not None else []),
    ]  # fmt: skip
    import spacy

    for path in args.paths:
        output = args.output / f"{path}-{args.architecture}"
        if path == "train-vectors":
            command = [sys.executable, "-m", "spacy_lstm", "train-vectors",
                       str(args.corpus), str(output)]  # fmt: skip
            pipeline = output
        else:
            command = [
                sys.executable, "-m", "spacy", "train", str(CONFIG),
                "--output", str(output), "--paths.train", str(args.corpus),
                "--paths.dev", str(args.corpus),
                "--corpora.train.pretokenized", "true",
                "--corpora.train.empty_reference", "true",
            ]  # fmt: skip
            pipeline = output / "model-last"
        command += ["--paths.similarity", str(args.similarity), *settings]
        seconds, rss, _ = run_timed(command)
        nlp = spacy.load(pipeline)
        table = table_from_vectors(nlp.vocab.vectors, nlp.vocab.strings)
        result[path.replace("-", "_")] = {
            "seconds": round(seconds, 1),
            "words_per_second": round(n_words * args.epochs / seconds),
            "peak_rss_mb": rss,
            **score(table, pairs, sections),
            **(
                {"speed_ratio": round(result["gensim"]["seconds"] / seconds, 2)}
                if "gensim" in result
                else {}
            ),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
