"""Long-distance agreement: minimal pairs ("the keys to the cabinet [are|is]")
read from files (items), built from treebanks (treebank) and scored with a
language model (scoring)."""

from .items import AgreementItem, read_items, read_linzen, write_items
from .scoring import score_items
from .treebank import items_from_conllu

__all__ = [
    "AgreementItem",
    "items_from_conllu",
    "read_items",
    "read_linzen",
    "score_items",
    "write_items",
]
