"""spacy-lstm.JsonlCorpus.v1: texts with entities or categories, one JSON
object a line."""

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.util import registry

CORPUS = Path(__file__).parent.parent / "corpus"


def read(path, **kwargs):
    reader = registry.get("readers", "spacy-lstm.JsonlCorpus.v1")(path=path, **kwargs)
    return list(reader(spacy.blank("en")))


def write(path, *records):
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
        encoding="utf8",
    )
    return path


def test_entities_and_cats_become_the_reference():
    examples = read(CORPUS / "ner" / "train.jsonl")
    assert len(examples) == 20
    first = examples[0].reference
    assert [(e.text, e.label_) for e in first.ents] == [
        ("Maria", "PERSON"),
        ("London", "GPE"),
    ]
    assert examples[0].predicted.text == first.text and not examples[0].predicted.ents
    texts = read(CORPUS / "textcat" / "train.jsonl", limit=3)
    assert len(texts) == 3 and texts[0].reference.cats == {"FOOD": 1.0, "SCIENCE": 0.0}


def test_spacy_files_are_read_as_spacy_corpus_reads_them(tmp_path):
    docs = [eg.reference for eg in read(CORPUS / "ner" / "dev.jsonl")]
    DocBin(docs=docs).to_disk(tmp_path / "dev.spacy")
    again = read(tmp_path / "dev.spacy")
    assert [[e.text for e in eg.reference.ents] for eg in again] == [
        [e.text for e in doc.ents] for doc in docs
    ]


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", "line 2: not JSON"),
        ('["a list"]', 'line 2: expected an object with a "text" string'),
        ({"text": "Hi", "label": "X"}, r"line 2: unknown keys \['label'\]"),
        ({"text": "Maria cooks", "entities": [[0, 3, "PERSON"]]}, "token boundaries"),
        ({"text": "Maria cooks", "entities": [[0, 5]]}, r"\[start, end, label\]"),
        ({"text": "Maria cooks", "cats": {"FOOD": 2}}, r"numbers in \[0, 1\]"),
    ],
)
def test_bad_lines_name_their_line(tmp_path, line, message):
    path = write(tmp_path / "bad.jsonl", {"text": "Fine."}, line)
    with pytest.raises(ValueError, match=message):
        read(path)


def test_missing_empty_and_pathless_corpora(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="no annotated texts"):
        read(write(tmp_path / "empty.jsonl", ""))
    with pytest.raises(ValueError, match="no path"):
        read(None)
    with pytest.raises(ValueError, match="limit"):
        read(tmp_path / "nope.jsonl", limit=-1)
