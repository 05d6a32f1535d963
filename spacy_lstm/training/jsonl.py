"""spacy-lstm.JsonlCorpus.v1: texts with their entities or categories, one
JSON object a line, for spaCy's ner and textcat."""

import json
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.training import Corpus, Example
from spacy.util import ensure_path, registry


@registry.readers("spacy-lstm.JsonlCorpus.v1")
def create_jsonl_reader(
    path: Optional[Path], limit: int = 0
) -> Callable[[Language], Iterable[Example]]:
    """Read annotated texts from a JSONL file, or what spacy.Corpus.v1 reads
    (a .spacy file or a directory of them).

    Each line is an object with "text" and any of: "entities", a list of
    [start, end, label] character offsets (spans must fall on token
    boundaries of the pipeline's tokenizer), and "cats", {label: 0.0 or 1.0}.
    The format the annotation tools export, so a corpus needs no conversion
    step.

    path (Path): A .jsonl file, a .spacy file or a directory of .spacy files.
    limit (int): Read at most this many texts (0 for no limit).
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    if limit < 0:
        raise ValueError(f"limit must be at least 0, got {limit}.")
    return JsonlCorpus(ensure_path(path) if path is not None else None, limit=limit)


class JsonlCorpus:
    """A JSONL corpus, re-read on every call; the path is checked when read,
    as spaCy's readers do."""

    def __init__(self, path: Optional[Path], *, limit: int = 0) -> None:
        self.path = path
        self.limit = limit

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self.path is None:
            raise ValueError(
                "spacy-lstm.JsonlCorpus.v1 has no path. Set it in the config or on "
                "the command line, e.g. --paths.train corpus/ner/train.jsonl."
            )
        if not self.path.exists():
            raise ValueError(f"Corpus path does not exist: {self.path}")
        if self.path.is_dir() or self.path.suffix != ".jsonl":
            yield from Corpus(self.path, limit=self.limit)(nlp)
            return
        count = 0
        for number, record in self._records():
            if self.limit and count >= self.limit:
                return
            yield example_from_record(nlp, record, f"{self.path}, line {number}")
            count += 1

    def _records(self) -> Iterator:
        try:
            text = self.path.read_text(encoding="utf8")  # type: ignore[union-attr]
        except UnicodeDecodeError as err:
            raise ValueError(f"{self.path} is not UTF-8: {err}") from None
        found = False
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"{self.path}, line {number}: not JSON ({err})."
                ) from None
            found = True
            yield number, record
        if not found:
            raise ValueError(f"{self.path} has no annotated texts.")


def example_from_record(nlp: Language, record: Dict, where: str) -> Example:
    """The Example of one JSONL object, with errors that name its line."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError(f'{where}: expected an object with a "text" string.')
    unknown = set(record) - {"text", "entities", "cats", "meta"}
    if unknown:
        raise ValueError(
            f"{where}: unknown keys {sorted(unknown)}; expected text, entities, "
            "cats (and meta, which is ignored)."
        )
    doc = nlp.make_doc(record["text"])
    annotations: Dict = {}
    if "entities" in record:
        entities: List = record["entities"]
        valid = isinstance(entities, list) and all(
            isinstance(e, list)
            and len(e) == 3
            and isinstance(e[0], int)
            and isinstance(e[1], int)
            and isinstance(e[2], str)
            for e in entities
        )
        if not valid:
            raise ValueError(f'{where}: "entities" must be [start, end, label] lists.')
        for start, end, label in entities:
            if doc.char_span(start, end) is None:
                raise ValueError(
                    f"{where}: the entity {record['text'][start:end]!r} ({start}, "
                    f"{end}, {label}) does not start and end on token boundaries."
                )
        annotations["entities"] = [tuple(e) for e in entities]
    if "cats" in record:
        cats = record["cats"]
        if not isinstance(cats, dict) or not all(
            isinstance(v, (int, float)) and 0 <= v <= 1 for v in cats.values()
        ):
            raise ValueError(f'{where}: "cats" must map labels to numbers in [0, 1].')
        annotations["cats"] = {str(k): float(v) for k, v in cats.items()}
    return Example.from_dict(doc, annotations)
