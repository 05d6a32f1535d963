"""spacy-lstm.RawTextTokenizer.v1: the tokenizer that goes with lstm_tokenizer.

spaCy's tokenizer runs before any component and cannot be trained, so the
pipeline's tokenizer only splits on whitespace and marks the doc as raw text;
lstm_tokenizer, the first component, does the tokenizing.
"""

import re
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

# RawTextTokenizer keeps the text it was given here, marking the doc as raw text
RAW_KEY = "spacy_lstm.untokenized"
SURROGATE = re.compile("[\ud800-\udfff]")


@registry.tokenizers("spacy-lstm.RawTextTokenizer.v1")
def create_raw_text_tokenizer() -> Callable[[Language], "RawTextTokenizer"]:
    """The tokenizer that goes with lstm_tokenizer: it splits on whitespace
    and marks the doc as raw text for lstm_tokenizer to tokenize."""

    def make(nlp: Language) -> RawTextTokenizer:
        return RawTextTokenizer(nlp.vocab)

    return make


class RawTextTokenizer:
    """Whitespace-separated tokens, the text kept exactly, marked as raw text."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        # spaCy cannot store unpaired surrogates (UTF-8 has none): each is
        # replaced in the doc and the text is kept as it came for lstm_tokenizer
        clean = SURROGATE.sub("\ufffd", text)
        spans = [m.span() for m in re.finditer(r"\S+", clean)]
        words, spaces, _, _ = words_and_spaces(clean, spans)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data[RAW_KEY] = text
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """A doc for each text."""
        for text in texts:
            yield self(text)

    def to_bytes(self, **kwargs) -> bytes:
        """Nothing: the tokenizer has no data (spaCy calls it on saving)."""
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "RawTextTokenizer":
        """The tokenizer itself: there is nothing to load."""
        return self

    def to_disk(self, path: Path, **kwargs) -> None:
        """An empty folder where spaCy expects the tokenizer's data."""
        Path(path).mkdir(parents=True, exist_ok=True)

    def from_disk(self, path: Path, **kwargs) -> "RawTextTokenizer":
        """The tokenizer itself: there is nothing to load."""
        return self


def words_and_spaces(
    text: str,
    spans: Sequence[Tuple[int, int]],
    words_of: Optional[Sequence[List[str]]] = None,
) -> Tuple[List[str], List[bool], List[int], List[Tuple[int, int]]]:
    """spaCy words and spaces for tokens at spans of a text: whitespace of
    more than one space becomes a whitespace token, as spaCy's tokenizer makes
    it, so that the doc's text is the text exactly, unless a token is several
    words (words_of), which are then separated by a space.

    RETURNS (Tuple[List[str], List[bool], List[int], List[Tuple[int, int]]]):
        The words, whether a space follows each, the index of each span's
        first word, and the span of the text each word was read from.
    """
    words: List[str] = []
    spaces: List[bool] = []
    index: List[int] = []
    read_from: List[Tuple[int, int]] = []
    at = 0
    for i, (start, end) in enumerate(list(spans) + [(len(text), len(text))]):
        gap_start = at
        if text.startswith(" ", at) and at < start and words:
            spaces[-1] = True
            gap_start += 1
        if gap_start < start:
            words.append(text[gap_start:start])
            spaces.append(False)
            read_from.append((gap_start, start))
        if start < end:
            index.append(len(words))
            token_words = words_of[i] if words_of is not None else [text[start:end]]
            for k, word in enumerate(token_words):
                words.append(word)
                spaces.append(k + 1 < len(token_words))
                read_from.append((start, end))
        at = end
    return words, spaces, index, read_from
