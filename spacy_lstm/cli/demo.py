"""demo: train the small pipeline on corpus/, save it, reload it and show it.

The demo runs the multi-stage recipe of configs/pipeline.cfg with spaCy's own
CLI (the commands are printed, so they can be copied), on the tiny corpus, in
about a minute. A model trained on ~30 sentences and ~600 words is a smoke
test of the machinery, not a useful model.
"""

import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import spacy
import typer
from spacy import displacy
from spacy.language import Language

from ..shipped import configs_dir, corpus_dir
from ..visualize import gates_svg
from . import app
from ._util import one_line_errors, use_device

SENTENCES = [
    "I saw a girl with a telescope.",
    "Maria works as a cook in a famous restaurant in New York.",
]
PROMPT = "She told him that she always had a passion for"
BLANK_SENTENCE = "She told him that she always had a passion for ___."
NEIGHBOUR_WORDS = ["maria", "cook", "telescope", "school"]


def recipe(
    configs: Path, corpus: Path, output: Path, gpu_id: int = -1
) -> List[List[str]]:
    """The spacy commands that build the pipeline in output/pipeline: word2vec,
    then the language model, then the parser with the word2vec vectors, then
    assembling the three. The overrides size the stages for the tiny corpus.
    word2vec always trains on the CPU."""
    text = corpus / "text" / "sample.txt"
    stages = output / "stages"
    vectors = stages / "word2vec" / "model-last"
    gpu = ["--gpu-id", str(gpu_id)] if gpu_id >= 0 else []
    return [
        ["train", configs / "word2vec.cfg", "--output", stages / "word2vec",
         "--paths.train", text, "--paths.dev", text,
         "--paths.similarity", corpus / "text" / "similarity.tsv",
         "--components.word2vec.model.min_count", "2",
         "--components.word2vec.model.epochs", "50",
         "--components.word2vec.model.sample", "0"],
        ["train", configs / "lm_word.cfg", "--output", stages / "lm",
         "--paths.train", text, "--paths.dev", text, "--paths.vectors", vectors,
         "--corpora.train.pretokenized", "false",
         "--corpora.dev.pretokenized", "false",
         "--components.lstm_lm.key", "LOWER",
         "--components.lstm_lm.model.width", "200",
         "--components.lstm_lm.model.dropout", "0.2", *gpu],
        ["train", configs / "parser_vectors.cfg", "--output", stages / "parser",
         "--paths.train", corpus / "ud" / "train.conllu",
         "--paths.dev", corpus / "ud" / "dev.conllu", "--paths.vectors", vectors,
         "--training.max_steps", "300", *gpu],
        ["assemble", configs / "pipeline.cfg", output / "pipeline",
         "--paths.parser", stages / "parser" / "model-last",
         "--paths.lm", stages / "lm" / "model-last"],
    ]  # fmt: skip


def build(configs: Path, corpus: Path, output: Path, gpu_id: int = -1) -> Path:
    """Run the four spaCy commands that build the pipeline and return its
    folder."""
    for required in (configs / "pipeline.cfg", corpus / "ud" / "train.conllu"):
        if not required.is_file():
            raise ValueError(
                f"{required} not found: --configs and --corpus must be folders laid "
                "out as the shipped ones (leave them out to use those)."
            )
    for args in recipe(configs, corpus, output, gpu_id):
        command = [sys.executable, "-m", "spacy", *map(str, args)]
        print(f"\n$ python -m spacy {shlex.join(map(_shown, args))}", flush=True)
        if subprocess.run(command).returncode != 0:
            raise ValueError(f"The demo stopped: `spacy {args[0]}` failed (above).")
    return output / "pipeline"


def _shown(arg) -> str:
    """A path relative to the working directory where it is inside it, so the
    printed commands read as they would be typed."""
    if isinstance(arg, Path) and arg.is_absolute():
        try:
            return str(arg.relative_to(Path.cwd()))
        except ValueError:
            pass
    return str(arg)


def show(nlp: Language, svg_path: Path) -> None:
    """Print what the pipeline does with the lecture's sentences and render
    the telescope parse to svg_path and the language model's gates on the
    Maria sentence beside it."""
    lm = nlp.get_pipe("lstm_lm")
    for text in SENTENCES:
        doc = nlp(text)
        print(f"\n{text}   (perplexity {doc._.perplexity:.1f})")
        print(f"{'token':11}{'dep':9}{'head':11}{'p(head)':>8}  "
              f"{'surprisal':>9}  alternative heads")  # fmt: skip
        for token in doc:
            alternatives = ", ".join(
                f"{head.text} {p:.2f}" for head, p in token._.head_alternatives
            )
            print(
                f"{token.text:11}{token.dep_:9}{token.head.text:11}"
                f"{token._.head_prob:8.2f}  {token._.surprisal:6.1f} bit  "
                + alternatives
            )
    svg = displacy.render(nlp(SENTENCES[0]), style="dep", jupyter=False)
    svg_path.write_text(svg, encoding="utf8")
    print(f"\nThe parse of {SENTENCES[0]!r} as SVG: {svg_path}")

    suggestions = lm.suggest(nlp(PROMPT), n=5)
    print(f"\nNext word after {PROMPT!r}:")
    print("  " + ", ".join(f"{word} {p:.2f}" for word, p in suggestions))
    filled = lm.fill_blank(nlp(BLANK_SENTENCE), n=5)
    print(f"Fill the blank in {BLANK_SENTENCE!r}:")
    print("  " + ", ".join(f"{word} {p:.2f}" for word, p in filled))
    gates_path = svg_path.parent / "maria_gates.svg"
    gates = lm.gates(nlp.make_doc(SENTENCES[1]))
    gates_path.write_text(gates_svg(gates, title=SENTENCES[1]), encoding="utf8")
    print(f"The LSTM's gates and surprisal on {SENTENCES[1]!r} as SVG: {gates_path}")

    vectors = nlp.vocab.vectors
    print("\nNearest neighbours (word2vec, cosine):")
    for word in NEIGHBOUR_WORDS:
        key = nlp.vocab.strings[word]  # the table's keys are LOWER strings
        if key not in vectors:
            print(f"  {word}: not in the vocabulary")
            continue
        keys, _, scores = vectors.most_similar(vectors[key][None, :], n=5)
        neighbours = [
            f"{nlp.vocab.strings[int(key)]} {score:.2f}"
            for key, score in zip(keys[0], scores[0])
            if nlp.vocab.strings[int(key)] != word
        ]
        print(f"  {word}: " + ", ".join(neighbours[:4]))


@app.command("demo")
@one_line_errors
def demo_cli(
    output: Path = typer.Option(
        Path("training/demo"), help="Where the pipeline (OUTPUT/pipeline) goes"
    ),
    configs: Optional[Path] = typer.Option(
        None, help="Folder of configs laid out as the shipped ones (default: those)"
    ),
    corpus: Optional[Path] = typer.Option(
        None, help="Folder of data laid out as the shipped corpus (default: that)"
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Train word2vec, the language model and the parser on the small corpus
    that ships with the package, assemble them into one pipeline in
    OUTPUT/pipeline, reload it with spacy.load and show what it does. A smoke
    demo: the project's workflows (project.yml) train real models."""
    configs = configs_dir() if configs is None else configs
    corpus = corpus_dir() if corpus is None else corpus
    pipeline = build(configs, corpus, output, gpu_id)
    use_device(gpu_id)
    nlp = spacy.load(pipeline)
    print(f"\nLoaded {pipeline} with spacy.load: {nlp.pipe_names}")
    print("Trained on ~30 sentences and ~600 words: a smoke demo, not a useful model.")
    show(nlp, output / "telescope.svg")
