"""Reading corpora: CoNLL-U treebanks (gold words, or raw text by paragraph),
plain text, language-model streams and JSONL annotations."""

from . import jsonl, readers  # noqa: F401  (registers the readers)
