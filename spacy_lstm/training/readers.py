"""Corpus readers."""

import gzip
import random
import sys
import weakref
import zlib
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Corpus, Example
from spacy.training.converters import conllu_to_docs
from spacy.util import ensure_path, registry
from spacy.vocab import Vocab

from .conllu import RAW_TEXT_KEY, raw_text_tokens, read_conllu

# What gzip raises on a truncated or corrupt file, named by the readers
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def not_gzip_error(path: Path, err: Exception) -> ValueError:
    """The error for a .gz file that gzip could not read to its end."""
    return ValueError(f"{path}: not a complete gzip file ({err}).")


@registry.readers("spacy-lstm.Corpus.v1")
def create_corpus_reader(
    path: Optional[Path],
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable] = None,
    n_sents: int = 10,
    gold_tokens: bool = False,
) -> Callable[[Language], Iterable[Example]]:
    """Read training data from a CoNLL-U file, or from what spacy.Corpus.v1
    reads (a .spacy file or a directory of them).

    A .conllu file is converted in memory as `spacy convert -c conllu -n
    N_SENTS` would, so a treebank trains without a conversion step.

    path (Path): A .conllu file, a .spacy file or a directory of .spacy files.
    gold_preproc (bool): Train on the gold tokenization, one sentence per doc.
    max_length (int): Split longer docs into sentences (0 for no limit).
    limit (int): Read at most this many docs (0 for no limit).
    augmenter (Optional[Callable]): A data augmenter, as in spacy.Corpus.v1.
    n_sents (int): Sentences per doc when reading CoNLL-U.
    gold_tokens (bool): Give the pipeline the gold words instead of tokenizing
        the text, keeping the docs whole (unlike gold_preproc). Every gold
        token then trains the parser, as it is scored on gold words; with
        spaCy's tokens, the ones that do not align with the treebank's are lost.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    # The path is checked when the corpus is read, as spaCy's readers do:
    # `spacy debug config` resolves the readers from any folder.
    if n_sents < 1:
        raise ValueError(f"n_sents must be at least 1, got {n_sents}.")
    return ConlluCorpus(
        ensure_path(path),
        gold_preproc=gold_preproc,
        max_length=max_length,
        limit=limit,
        augmenter=augmenter,
        n_sents=n_sents,
        gold_tokens=gold_tokens,
    )


class ConlluCorpus(Corpus):
    """spaCy's Corpus, extended to read a CoNLL-U file."""

    def __init__(
        self, path: Path, *, n_sents: int = 10, gold_tokens: bool = False, **kwargs
    ) -> None:
        super().__init__(path, **kwargs)
        self.n_sents = n_sents
        self.gold_tokens = gold_tokens
        self._converted: Optional[DocBin] = None  # converted once, reused each epoch
        self._raw_texts: List[Tuple] = []

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self.path is None:
            raise ValueError(
                "spacy-lstm.Corpus.v1 has no path. Set it in the config or on the "
                "command line, e.g. --paths.train corpus/ud/train.conllu."
            )
        if not self.path.exists():
            raise ValueError(f"Corpus path does not exist: {self.path}")
        if self.path.is_dir() or self.path.suffix != ".conllu":
            yield from super().__call__(nlp)
            return
        ref_docs: Iterable[Doc] = self.read_conllu(nlp.vocab)
        if self.shuffle:
            ref_docs = list(ref_docs)
            random.shuffle(ref_docs)
        if self.gold_preproc:
            examples = self.make_examples_gold_preproc(nlp, ref_docs)
        else:
            examples = self.make_examples(nlp, ref_docs)
        for example in examples:
            yield from self.augmenter(nlp, example)  # type: ignore[misc]

    def _make_example(
        self, nlp: Language, reference: Doc, gold_preproc: bool
    ) -> Example:
        # spaCy's gold_preproc path builds the doc from the gold words
        return super()._make_example(nlp, reference, gold_preproc or self.gold_tokens)

    def read_conllu(self, vocab: Vocab) -> Iterator[Doc]:
        """The file's reference docs, converted once and reused each epoch."""
        if self._converted is None:
            # the strict reader checks every line; spaCy's converter then gets
            # the sentences with exactly one empty line between them
            sentences = read_conllu(self.path)
            text = "\n\n".join("\n".join(s.lines) for s in sentences) + "\n"
            try:
                docs = list(conllu_to_docs(text, n_sents=self.n_sents, no_print=True))
            except (ValueError, IndexError, KeyError) as err:
                # spaCy's converter fails on the first malformed line without
                # saying which file it was reading.
                raise ValueError(
                    f"Could not read CoNLL-U file {self.path}: {err}. Each token "
                    "line needs 10 tab-separated columns."
                ) from err
            self._converted = DocBin(docs=docs)
            # each doc's raw text, for a tokenizer to learn from
            n = self.n_sents
            self._raw_texts = [
                raw_text_tokens(sentences[i : i + n])
                for i in range(0, len(sentences), n)
            ]
        docs = self._converted.get_docs(vocab)
        for i, doc in enumerate(docs):
            if self.limit >= 1 and i >= self.limit:
                break
            if len(self._raw_texts) == len(self._converted):
                doc.user_data[RAW_TEXT_KEY] = self._raw_texts[i]
            yield doc


@registry.readers("spacy-lstm.WithSilver.v1")
def create_silver_reader(
    gold: Callable[[Language], Iterable[Example]],
    silver: Optional[Path],
    silver_words: int = 0,
    gold_copies: int = 1,
) -> Callable[[Language], Iterable[Example]]:
    """Gold training data mixed with silver data: docs of raw text that a
    more accurate pipeline annotated (`python -m spacy_lstm annotate`). A
    fast model trained on both learns from the accurate one's parses of far
    more text than the treebank holds ("uptraining", Petrov et al. 2010).

    gold (Callable[[Language], Iterable[Example]]): The gold corpus, any
        reader (spacy-lstm.Corpus.v1 for a treebank).
    silver (Optional[Path]): A .spacy file or a directory of them (annotate's
        shards); every doc must have a parse. None: the gold corpus alone, so
        that one config trains with or without silver data.
    silver_words (int): Read silver docs until they hold this many words (0:
        all of them).
    gold_copies (int): How many times each gold example is listed beside the
        silver ones, to keep the treebank's weight beside much more text.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus: the gold
        examples, then the silver ones; spacy train shuffles them together.
    """
    if silver_words < 0:
        raise ValueError(f"silver_words must be at least 0, got {silver_words}.")
    if gold_copies < 1:
        raise ValueError(f"gold_copies must be at least 1, got {gold_copies}.")
    return SilverCorpus(
        gold,
        ensure_path(silver) if silver is not None else None,
        silver_words=silver_words,
        gold_copies=gold_copies,
    )


class SilverCorpus:
    """The corpus that spacy-lstm.WithSilver.v1 returns."""

    def __init__(
        self,
        gold: Callable[[Language], Iterable[Example]],
        silver: Optional[Path],
        *,
        silver_words: int,
        gold_copies: int,
    ) -> None:
        self.gold = gold
        self.silver = silver
        self.silver_words = silver_words
        self.gold_copies = gold_copies

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self.silver is None:
            yield from self.gold(nlp)
            return
        gold = list(self.gold(nlp))
        for _ in range(self.gold_copies):
            yield from gold
        yield from self.silver_examples(nlp)

    def silver_examples(self, nlp: Language) -> Iterator[Example]:
        """The silver docs as references, each with an unannotated copy of
        its words as the predicted doc, as gold tokens are given."""
        if not self.silver.exists():
            raise ValueError(f"Silver corpus path does not exist: {self.silver}")
        paths = (
            sorted(self.silver.rglob("*.spacy"))
            if self.silver.is_dir()
            else [self.silver]
        )
        n_words = 0
        for path in paths:
            try:
                docs = DocBin().from_disk(path).get_docs(nlp.vocab)
            except ValueError as err:
                raise ValueError(f"{path}: not a spaCy DocBin ({err}).") from None
            for doc in docs:
                if not len(doc):
                    continue
                if not doc.has_annotation("DEP"):
                    raise ValueError(
                        f'{path}: a silver doc has no parse ("{doc[:8].text}..."). '
                        "Annotate the text with a pipeline that has a parser."
                    )
                doc.user_data.clear()  # the annotator's extensions: not trained on
                words = [token.text for token in doc]
                spaces = [bool(token.whitespace_) for token in doc]
                yield Example(Doc(nlp.vocab, words=words, spaces=spaces), doc)
                n_words += len(doc)
                if self.silver_words and n_words >= self.silver_words:
                    return
        if n_words == 0:
            raise ValueError(
                f"The silver corpus {self.silver} has no docs: no .spacy file, or "
                "only empty ones."
            )


@registry.readers("spacy-lstm.PlainText.v1")
def create_plain_text_reader(
    path: Optional[Path],
    pretokenized: bool = False,
    doc_words: int = 1000,
    max_words: int = 10000,
    limit: int = 0,
    empty_reference: bool = False,
) -> Callable[[Language], Iterable[Example]]:
    """Stream a plain-text file (optionally .gz). Consecutive non-empty lines
    are packed into docs of about doc_words words, a newline token between them.

    Nothing is held in memory between docs, so with `[training] max_epochs = -1`
    spacy train streams a corpus of any size, reading the file again each epoch.

    path (Path): A UTF-8 text file; .gz files are decompressed on the fly.
    pretokenized (bool): Split lines on whitespace instead of running the
        tokenizer: fast, and the same words gensim would see.
    doc_words (int): Pack lines into docs of at least this many words. spaCy
        spends as much time per doc (Example, copy) as on a few hundred words,
        so one doc per short line would triple the cost of reading.
    max_words (int): Lines with more whitespace-separated words are cut into
        pieces of this many, as gensim cuts its sentences at 10,000 words.
    limit (int): Read at most this many lines (0 for no limit).
    empty_reference (bool): Give each Example an empty reference doc instead
        of the text's own doc. Only for components that read the predicted docs
        alone, as word2vec does: spaCy lists the words of both docs whenever it
        builds an Example (0.2 us per word each time, and spacy train builds
        two per doc): CBOW on the Wikipedia extract took 110 s instead of 133.
        Components that learn from the reference (spacy pretrain, a tagger)
        need False.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    # The path is checked when the corpus is read: spacy train resolves every
    # [corpora] entry, including a [corpora.pretrain] it does not use, and
    # `spacy debug config` resolves them from any folder.
    for name, value in (("doc_words", doc_words), ("max_words", max_words)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    return PlainTextCorpus(
        ensure_path(path) if path is not None else None,
        pretokenized=pretokenized,
        doc_words=doc_words,
        max_words=max_words,
        limit=limit,
        empty_reference=empty_reference,
    )


class PlainTextCorpus:
    """A plain-text corpus, re-read on every call."""

    def __init__(
        self,
        path: Optional[Path],
        *,
        pretokenized: bool,
        doc_words: int,
        max_words: int,
        limit: int,
        empty_reference: bool = False,
    ) -> None:
        self.path = path
        self.pretokenized = pretokenized
        self.doc_words = doc_words
        self.max_words = max_words
        self.limit = limit
        self.empty_reference = empty_reference

    def __call__(self, nlp: Language) -> Iterator[Example]:
        empty = Doc(nlp.vocab)
        for doc in self.docs(nlp):
            # Plain text has no annotation: the doc is its own reference.
            yield Example(doc, empty if self.empty_reference else doc)

    def docs(self, nlp: Language) -> Iterator[Doc]:
        """The docs alone, for callers that need no Examples (counting a
        vocabulary): building an Example costs as much as building its doc."""
        for lines in self._line_groups():
            yield self._make_doc(nlp, lines)

    def count_words(self) -> Optional[Tuple[Counter, List[int]]]:
        """With pretokenized text, the count of each word and the length of
        each doc, without building docs (10x faster); else None."""
        if not self.pretokenized:
            return None
        counts: Counter = Counter()
        lengths = []
        for lines in self._line_groups():
            length = len(lines) - 1  # the newline tokens between lines
            for line in lines:
                words = line.split()
                counts.update(words)
                length += len(words)
            lengths.append(length)
        return counts, lengths

    def _line_groups(self) -> Iterator[List[str]]:
        """Consecutive lines of about doc_words words together."""
        lines: List[str] = []
        n_words = 0
        for line in self.lines():
            lines.append(line)
            n_words += line.count(" ") + 1
            if n_words >= self.doc_words:
                yield lines
                lines, n_words = [], 0
        if lines:
            yield lines

    def _make_doc(self, nlp: Language, lines: List[str]) -> Doc:
        """One doc for the lines, with a newline token between them (as the
        tokenizer makes from the text): components see where lines end."""
        if not self.pretokenized:
            return nlp.make_doc("\n".join(lines))
        words = lines[0].split()
        for line in lines[1:]:
            words.append("\n")
            words.extend(line.split())
        # passing spaces saves spaCy from inferring them: 2x faster
        return Doc(nlp.vocab, words=words, spaces=[True] * len(words))

    def lines(self) -> Iterator[str]:
        """The non-empty lines, stripped, long ones cut into pieces of max_words
        words."""
        if self.path is None:
            raise ValueError(
                "spacy-lstm.PlainText.v1 has no path. Set it in the config or on "
                "the command line, e.g. --paths.train corpus/text/sample.txt."
            )
        if not self.path.is_file():
            raise ValueError(f"Text corpus is not a file: {self.path}")
        opener = gzip.open if self.path.suffix == ".gz" else open
        try:
            yield from self._read_lines(opener)
        except GZIP_ERRORS as err:
            raise not_gzip_error(self.path, err) from None

    def _read_lines(self, opener: Callable) -> Iterator[str]:
        n_lines = 0
        with opener(self.path, "rb") as file_:
            for line_number, raw in enumerate(file_, start=1):
                try:
                    line = raw.decode("utf8").strip()
                except UnicodeDecodeError as err:
                    raise ValueError(
                        f"{self.path}, line {line_number}: not valid UTF-8 "
                        f"(byte {err.start}). Convert the file to UTF-8, e.g. with "
                        "iconv, or drop the line."
                    ) from None
                if not line:
                    continue
                n_lines += 1
                if self.limit and n_lines > self.limit:
                    return
                if len(line) <= self.max_words:  # fewer characters than max_words
                    yield line
                    continue
                words = line.split()
                for start in range(0, len(words), self.max_words):
                    yield " ".join(words[start : start + self.max_words])


EOS = "<eos>"
# The last stream read: spacy train resolves one reader of the corpus for
# lstm_lm's initialize and another for its loop, and tokenizing a large text
# twice costs minutes. Holds one stream (its words interned) until the next.
_last_stream: Optional[Tuple[tuple, Optional[weakref.ref], List[str]]] = None


@registry.readers("spacy-lstm.LMStream.v1")
def create_lm_stream_reader(
    path: Optional[Path],
    level: str = "word",
    streams: int = 20,
    window: int = 35,
    limit: int = 0,
    pretokenized: bool = True,
) -> Callable[[Language], Iterable[Example]]:
    """Read a text as one stream of tokens for language modelling, cut into
    `streams` parallel streams and those into windows of `window` tokens.

    Truncated backpropagation through time carries the recurrent state from a
    window to the next one of the same stream. spaCy's loop keeps the reader's
    order when the corpus is streamed (max_epochs = -1), so the reader yields
    window 0 of every stream, then window 1 of every stream, and so on; a
    batcher of `streams` docs (spacy.batch_by_sequence.v1) then gives every
    update the next window of each stream. Each doc holds window + 1 tokens
    (the last is the first of the next window: the final target) and knows its
    place in `doc.user_data["lm_window"]` as (stream, window).

    path (Path): A UTF-8 text file; .gz files are decompressed.
    level (str): "word": whitespace-separated tokens with <eos> after each line
        (the Penn Treebank LM format, where <unk> stays one token); "char": the
        file's characters, newlines included.
    streams (int): Parallel streams (the batch size of the recipe).
    window (int): Tokens per window (the BPTT length).
    limit (int): Read at most this many lines (0 for no limit).
    pretokenized (bool): For level "word": split lines on whitespace (True, the
        PTB format) or with the pipeline's tokenizer (False), which a model used
        on raw text in a pipeline needs, so that it sees the words it will meet.
    """
    # The path is checked when the corpus is read, as spaCy's readers do.
    if level not in ("word", "char"):
        raise ValueError(f"level must be 'word' or 'char', got {level!r}.")
    for name, value in (("streams", streams), ("window", window)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    return LMStreamCorpus(
        ensure_path(path) if path is not None else None,
        level=level,
        streams=streams,
        window=window,
        limit=limit,
        pretokenized=pretokenized,
    )


class LMStreamCorpus:
    """The corpus that spacy-lstm.LMStream.v1 returns: a text's tokens as
    windows of parallel streams."""

    def __init__(
        self,
        path: Optional[Path],
        *,
        level: str,
        streams: int,
        window: int,
        limit: int,
        pretokenized: bool = True,
    ) -> None:
        self.path = path
        self.level = level
        self.streams = streams
        self.window = window
        self.limit = limit
        self.pretokenized = pretokenized
        self._tokens: Optional[List[str]] = None  # read once, reused each epoch

    def tokens(self, nlp: Optional[Language] = None) -> List[str]:
        """The whole stream. nlp tokenizes the lines when not pretokenized."""
        global _last_stream
        tokenizes = not self.pretokenized and self.level == "word"
        if tokenizes and nlp is None:
            raise ValueError("LMStream with pretokenized = false needs the nlp object.")
        if self.path is None:
            raise ValueError("spacy-lstm.LMStream.v1 has no path. Set --paths.train.")
        if not self.path.is_file():
            raise ValueError(f"Text corpus is not a file: {self.path}")
        if self._tokens is None:
            stat = self.path.stat()
            key = (
                str(self.path.resolve()), stat.st_mtime_ns, stat.st_size,
                self.level, self.limit, self.pretokenized,
                id(nlp.tokenizer) if tokenizes else None,  # type: ignore[union-attr]
            )  # fmt: skip
            if _last_stream is not None:
                last_key, last_nlp, tokens = _last_stream
                if last_key == key and (last_nlp is None or last_nlp() is nlp):
                    self._tokens = tokens
                    return tokens
            self._tokens = self._read(nlp)
            nlp_ref = weakref.ref(nlp) if tokenizes else None  # type: ignore[arg-type]
            _last_stream = (key, nlp_ref, self._tokens)
        return self._tokens

    def _read(self, nlp: Optional[Language]) -> List[str]:
        """The file's characters, or each line's words then <eos>."""
        tokens: List[str] = []
        opener = gzip.open if self.path.suffix == ".gz" else open
        try:
            with opener(self.path, "rb") as file_:
                raw = file_.read()
        except GZIP_ERRORS as err:
            raise not_gzip_error(self.path, err) from None
        try:
            text = raw.decode("utf8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise ValueError(
                f"{self.path}, line {line}: not valid UTF-8 (byte {err.start})."
            ) from None
        text_lines = text.splitlines(keepends=True)
        if self.limit:
            text_lines = text_lines[: self.limit]
        if self.level == "char":
            tokens = list("".join(text_lines))
        else:
            for line in text_lines:
                if self.pretokenized:
                    words = line.split()
                else:
                    doc = nlp.make_doc(line.strip())  # type: ignore[union-attr]
                    words = [t.text for t in doc if not t.is_space]
                if words:
                    # one string per distinct word: a tenth of the memory
                    tokens.extend(map(sys.intern, words))
                    tokens.append(EOS)
        return tokens

    def __call__(self, nlp: Language) -> Iterator[Example]:
        tokens = self.tokens(nlp)
        length = (len(tokens) - 1) // self.streams  # targets per stream
        n_windows = length // self.window
        if n_windows == 0:
            raise ValueError(
                f"{self.path} has {len(tokens):,} tokens, fewer than streams x window "
                f"+ 1 = {self.streams * self.window + 1:,}: lower streams or window."
            )
        for k in range(n_windows):
            for s in range(self.streams):
                start = s * length + k * self.window
                words = tokens[start : start + self.window + 1]
                doc = Doc(nlp.vocab, words=words, spaces=self._spaces(words))
                doc.user_data["lm_window"] = (s, k)
                yield Example(doc, doc)

    def _spaces(self, words: List[str]) -> List[bool]:
        # chars are the text itself; words are separated by spaces
        return [self.level == "word"] * len(words)
