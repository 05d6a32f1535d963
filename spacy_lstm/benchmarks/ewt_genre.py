"""A text classification task on public data: the genre of each sentence of
UD English EWT (answers, email, newsgroup, reviews, weblog), which the
treebank names at the start of every sentence id.

    python -m spacy_lstm.benchmarks.ewt_genre TRAIN.conllu DEV.conllu OUTPUT_DIR

Writes OUTPUT_DIR/train.spacy and OUTPUT_DIR/dev.spacy (one doc per sentence,
its text as the tokenizer sees it, one exclusive category per doc), which
`spacy train` reads with spaCy's own corpus reader or ours, and prints the
label counts as one JSON line.
"""

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Iterator, List, Tuple

import spacy
from spacy.tokens import DocBin


def sentences(path: Path) -> Iterator[Tuple[str, str]]:
    """(genre, text) for each sentence of a CoNLL-U file: the genre is its
    sent_id up to the first hyphen."""
    sent_id = text = None
    with path.open(encoding="utf8") as file:
        for number, line in enumerate(file, 1):
            if line.startswith("# sent_id = "):
                sent_id = line.split("=", 1)[1].strip()
            elif line.startswith("# text = "):
                text = line.split("=", 1)[1].strip()
            elif not line.strip() and text is not None:
                if not sent_id or "-" not in sent_id:
                    raise ValueError(
                        f"{path}, line {number}: the sentence has no sent_id of "
                        "the form GENRE-..., which the genre is read from"
                    )
                yield sent_id.split("-", 1)[0], text
                sent_id = text = None


def write(path: Path, items: List[Tuple[str, str]], labels: List[str], nlp) -> None:
    """One doc per sentence, with its category and the others at 0."""
    docs = DocBin(store_user_data=False)
    texts = (text for _, text in items)
    for doc, (genre, _) in zip(nlp.tokenizer.pipe(texts), items):
        doc.cats = {label: float(label == genre) for label in labels}
        docs.add(doc)
    docs.to_disk(path)


def main() -> None:
    """Write the two DocBins and print the label counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    try:
        train, dev = list(sentences(args.train)), list(sentences(args.dev))
    except (OSError, ValueError) as err:
        raise SystemExit(str(err))
    if not train or not dev:
        raise SystemExit(f"{args.train if not train else args.dev} has no sentences")
    # a genre only in dev stays a label: the classifier cannot learn it, and
    # the scores say so
    labels = sorted({genre for genre, _ in train + dev})
    nlp = spacy.blank(args.lang)
    args.output.mkdir(parents=True, exist_ok=True)
    write(args.output / "train.spacy", train, labels, nlp)
    write(args.output / "dev.spacy", dev, labels, nlp)
    print(
        json.dumps(
            {
                "train": dict(Counter(g for g, _ in train)),
                "dev": dict(Counter(g for g, _ in dev)),
                "only_in_dev": sorted({g for g, _ in dev} - {g for g, _ in train}),
                "output": str(args.output),
            }
        )
    )


if __name__ == "__main__":
    main()
