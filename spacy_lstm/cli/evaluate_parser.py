"""evaluate-parser: parse a CoNLL-U file with gold words and score it."""

import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spacy
import typer
from spacy.cli.evaluate import render_parses
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example

from ..conll2018 import docs_to_conllu, evaluate, read_ud
from ..inference import int8_inference, precision_of, set_precision
from ..training.conllu import Sentence, read_conllu, read_paragraphs
from . import app
from ._util import (
    json_output_option,
    load_with,
    one_line_errors,
    output_file,
    progress,
    report,
    use_device,
)

PUNCT_LABELS = ("p", "punct")


def conll2018_scores(sentences: List[Sentence], docs: List[Doc]) -> Dict[str, float]:
    """UAS and LAS over every word, punctuation included, with labels compared
    without their subtypes (nsubj:pass counts as nsubj), as the CoNLL 2018
    shared task scored them."""
    total = heads_right = both_right = 0
    for sent, doc in zip(sentences, docs):
        for token, gold_head, gold_dep in zip(doc, sent.heads, sent.deps):
            total += 1
            if token.head.i == gold_head:
                heads_right += 1
                if token.dep_.lower().split(":")[0] == gold_dep.lower().split(":")[0]:
                    both_right += 1
    return {"uas": heads_right / total, "las": both_right / total}


def spacy_scores(sentences: List[Sentence], docs: List[Doc]) -> Dict[str, float]:
    """UAS and LAS as spaCy's parser scorer computes them: punctuation left
    out, full labels."""
    examples = []
    for sent, doc in zip(sentences, docs):
        gold = Doc(
            doc.vocab,
            words=sent.words,
            spaces=sent.spaces,
            heads=sent.heads,
            deps=sent.deps,
        )
        examples.append(Example(doc, gold))

    def getter(token, attr):
        return token.vocab.strings.as_string(getattr(token, attr)).lower()

    scores = Scorer.score_deps(
        examples, "dep", getter=getter, ignore_labels=PUNCT_LABELS
    )
    return {"uas": scores["dep_uas"], "las": scores["dep_las"]}


def write_conllu(path: Path, sentences: List[Sentence], docs: List[Doc]) -> None:
    """The input file with the HEAD and DEPREL columns of every word replaced."""
    blocks = []
    for sent, doc in zip(sentences, docs):
        lines = list(sent.lines)
        for token, i in zip(doc, sent.word_lines):
            cols = lines[i].split("\t")
            is_root = token.head.i == token.i
            cols[6] = "0" if is_root else str(token.head.i + 1)
            cols[7] = "root" if is_root else token.dep_
            lines[i] = "\t".join(cols)
        blocks.append("\n".join(lines) + "\n")
    path.write_text("\n".join(blocks) + "\n", encoding="utf8")


PARSER_FACTORIES = ("lstm_parser", "parser", "beam_parser")


@app.command("evaluate-parser")
@one_line_errors
def evaluate_parser_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    gold: Path = typer.Argument(..., help="CoNLL-U file with gold trees", exists=True),
    output: Optional[Path] = json_output_option(),
    predictions: Optional[Path] = typer.Option(
        None, "--predictions", help="Write the predicted trees as CoNLL-U"
    ),
    displacy_path: Optional[Path] = typer.Option(
        None, "--displacy-path", "-dp", help="Directory for rendered parses as HTML"
    ),
    displacy_limit: int = typer.Option(
        25, "--displacy-limit", "-dl", min=1, help="Parses to render as HTML"
    ),
    batch_size: int = typer.Option(64, min=1, help="Docs per batch for nlp.pipe"),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="auto (bfloat16 where the hardware has it), float32 or bfloat16",
    ),
    int8: bool = typer.Option(
        False, "--int8", help="Parse with int8 encoders and scorers (CPU)"
    ),
    raw_text: bool = typer.Option(
        False,
        "--raw-text",
        help="Give the pipeline each paragraph's raw text and score its tokens, "
        "words, sentences, tags and trees as the CoNLL 2018 shared task did",
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
) -> None:
    """Parse each sentence of a CoNLL-U file, with its gold words, as one doc
    (sentence segmenters are disabled), and print one JSON line with UAS and
    LAS in both conventions and the parse speed. Works with lstm_parser and
    spaCy's own parser.

    With --raw-text the whole pipeline reads the text instead, one paragraph
    per doc (from `# newpar` / `# newdoc`; a file without them is one
    paragraph), and the output is scored by character alignment: precision,
    recall and F1 of tokens, multiword tokens, words, sentences, UPOS, XPOS,
    UFeats, lemmas, UAS and LAS (labels without subtypes).
    """
    use_device(gpu_id)
    if raw_text:
        nlp = set_precision(spacy.load(pipeline), precision)
    else:
        nlp = set_precision(load_for_gold_sentences(pipeline), precision)
    if int8:
        int8_inference(nlp)
    if raw_text:
        scores, system, docs = evaluate_raw_text(nlp, gold, batch_size)
    else:
        sentences = read_conllu(gold)
        scores, docs = evaluate_parser(nlp, sentences, batch_size)
    scores["precision"] = "int8" if int8 else precision_of(nlp)
    if predictions is not None:
        if raw_text:
            output_file(predictions).write_text(system, encoding="utf8")
        else:
            write_conllu(output_file(predictions), sentences, docs)
    if displacy_path is not None:
        output_file(displacy_path / "parses.html")
        render_parses(
            docs, displacy_path, pipeline, displacy_limit, ents=False, spans=False
        )
    report(scores, output)


def load_for_gold_sentences(pipeline: str) -> Language:
    """Load a pipeline with its sentence segmenters disabled: the sentences
    are given."""
    nlp = load_with(pipeline, PARSER_FACTORIES, "evaluate-parser")
    segmenters = [
        name
        for name in nlp.pipe_names
        if nlp.get_pipe_meta(name).factory in ("senter", "sentencizer")
    ]
    nlp.select_pipes(disable=segmenters)
    return nlp


def gold_sentence_docs(nlp: Language, sentences: List[Sentence]) -> List[Doc]:
    """One doc per sentence, with its gold words, marked as one sentence."""
    return [
        Doc(
            nlp.vocab,
            words=s.words,
            spaces=s.spaces,
            sent_starts=[True] + [False] * (len(s.words) - 1),
        )
        for s in sentences
    ]


def evaluate_parser(
    nlp: Language, sentences: List[Sentence], batch_size: int = 64
) -> Tuple[Dict, List[Doc]]:
    """Parse the sentences' gold words, one doc each, and score the parses.

    RETURNS (Tuple[Dict, List[Doc]]): The scores and the parsed docs.
    """
    docs = gold_sentence_docs(nlp, sentences)
    start = time.perf_counter()
    docs = list(
        progress(nlp.pipe(docs, batch_size=batch_size), len(docs), "sent", "parsing")
    )
    seconds = time.perf_counter() - start
    n_words = sum(len(s.words) for s in sentences)
    scores = {
        "sentences": len(sentences),
        "words": n_words,
        "conll2018": conll2018_scores(sentences, docs),
        "spacy": spacy_scores(sentences, docs),
        "words_per_second": round(n_words / seconds),
    }
    return scores, docs


def evaluate_raw_text(
    nlp: Language, gold: Path, batch_size: int = 64
) -> Tuple[Dict, str, List[Doc]]:
    """Run the whole pipeline on each paragraph of a CoNLL-U file's raw text
    and score the result against the file by character alignment.

    RETURNS (Tuple[Dict, str, List[Doc]]): The scores, the system's CoNLL-U
        and its docs.
    """
    gold_ud = read_ud(Path(gold).read_text(encoding="utf8"), str(gold))
    paragraphs = read_paragraphs(gold)
    start = time.perf_counter()
    docs = list(
        progress(nlp.pipe(paragraphs, batch_size=batch_size), len(paragraphs), "par")
    )
    seconds = time.perf_counter() - start
    system = docs_to_conllu(docs)
    scores = {
        "paragraphs": len(paragraphs),
        "words": len(gold_ud.words),
        "conll2018_raw_text": evaluate(gold_ud, read_ud(system, "the system output")),
        "words_per_second": round(len(gold_ud.words) / seconds),
    }
    return scores, system, docs
