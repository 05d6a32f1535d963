"""`export-vectors` and `evaluate-vectors`: word vectors out of a pipeline, and
their quality."""

import json
from pathlib import Path
from typing import List, Optional

import spacy
import typer

from ..vectors.evaluation import (
    evaluate_analogies,
    evaluate_similarity,
    read_analogies,
    read_similarity_pairs,
)
from ..vectors.word2vec_format import (
    VectorTable,
    read_word2vec,
    table_from_vectors,
    write_word2vec,
)
from . import app
from ._util import json_output_option, one_line_errors, output_file, progress, report


def load_vector_table(source: str) -> VectorTable:
    """Vectors from a word2vec file (.bin binary, else text) or a pipeline."""
    path = Path(source)
    if path.is_file():
        return read_word2vec(path)
    nlp = spacy.load(source)
    if nlp.vocab.vectors.shape[0] == 0 or nlp.vocab.vectors.mode != "default":
        raise ValueError(f"{source} has no vectors table with one row per word.")
    return table_from_vectors(nlp.vocab.vectors, nlp.vocab.strings)


@app.command("export-vectors")
@one_line_errors
def export_vectors_cli(
    pipeline: str = typer.Argument(..., help="Pipeline name or directory"),
    output: Path = typer.Argument(..., help="Output file: .bin for binary, else text"),
) -> None:
    """Write a pipeline's vectors in the word2vec format, in table order (most
    frequent first for word2vec vectors). gensim's
    KeyedVectors.load_word2vec_format reads both formats, and
    `spacy init vectors` reads the text format."""
    table = load_vector_table(pipeline)
    write_word2vec(
        output_file(output),
        table,
        wrap_rows=lambda rows, n: progress(rows, n, "word", "writing"),
    )
    print(json.dumps({"output": str(output), "words": len(table.words),
                      "dimensions": int(table.vectors.shape[1])}))  # fmt: skip


@app.command("evaluate-vectors")
@one_line_errors
def evaluate_vectors_cli(
    vectors: str = typer.Argument(..., help="Pipeline, or a word2vec .txt/.bin file"),
    similarity: Optional[List[Path]] = typer.Option(
        None, "--similarity", help="Word pairs with scores (WordSim-353 layout)"
    ),
    analogies: Optional[List[Path]] = typer.Option(
        None, "--analogies", help="Analogy questions (questions-words.txt layout)"
    ),
    restrict: int = typer.Option(
        30000, min=1, help="Analogies: search the N most frequent words"
    ),
    output: Optional[Path] = json_output_option(),
) -> None:
    """Print one JSON line: Spearman per similarity file, and 3CosAdd accuracy
    (overall, semantic, syntactic) per analogy file, as gensim computes them
    (case-insensitive; questions with unknown words skipped and counted)."""
    if not similarity and not analogies:
        raise typer.BadParameter("give at least one --similarity or --analogies file")
    table = load_vector_table(vectors)
    result = {"vectors": vectors, "words": len(table.words)}
    for path in similarity or []:
        scores = evaluate_similarity(table, read_similarity_pairs(path))
        if scores["oov_pairs"] == scores["pairs"]:
            raise ValueError(f"No pair of {path} has both words in the vectors.")
        result[f"similarity:{path.name}"] = scores
    for path in analogies or []:
        scores = evaluate_analogies(table, read_analogies(path), restrict=restrict)
        if scores["oov_questions"] == scores["questions"]:
            raise ValueError(
                f"No question of {path} has all four words among the {restrict:,} "
                "most frequent words of the vectors."
            )
        scores.pop("sections")
        result[f"analogies:{path.name}"] = scores
    report(result, output)
