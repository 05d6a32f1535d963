"""lstm_tokenizer: tokens, multiword tokens and sentences from a character
BiLSTM, learned from a treebank's raw text.

spaCy's tokenizer runs before any component and cannot be trained, so the
work is split in two: spacy-lstm.RawTextTokenizer.v1, the pipeline's
tokenizer, only splits on whitespace and marks the doc as raw text; the
lstm_tokenizer component, first in the pipeline, labels each character of the
doc's text (inside a token, token end, sentence end, end of a multiword token,
both) and returns a new doc of words with sentence starts. Docs built from
words (`Doc(vocab, words=...)`, gold words in training) are not marked and
keep their words.

A multiword token ("du" in French, "don't" in English treebanks) becomes the
words the treebank writes for it ("de" "le"), from a dictionary of the
training expansions; one the dictionary lacks is cut before a suffix that
training cut off ("'s"), or stays one word. spaCy has one
layer of tokens, so a doc with expanded words has those words as its text
("de le"), and the original text and each word's span in it are kept:
`doc._.surface_text`, `token._.surface_span` and `token._.surface`. Without
multiword tokens, doc.text and token.idx are the original text's.
"""

import unicodedata
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy
import srsly
import torch
from spacy import util
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Token
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import minibatch
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer

from ..conll2018 import concatenate, docs_to_conllu, evaluate, read_ud, ud_from_tokens
from ..extensions import (
    SURFACE_KEY,
    install_extension,
    surface,
    surface_span,
    surface_text,
)
from ..models.char_tagger import set_char_rows, torch_module
from ..torch_modules.char_tagger import UNKNOWN, category_rows
from ..training.conllu import RAW_TEXT_KEY
from ..util import load_or_explain
from .raw_text import RAW_KEY, SURROGATE, RawTextTokenizer, words_and_spaces

# the label of a token's last character; every other character is INSIDE
INSIDE, TOKEN_END, SENTENCE_END, MWT_END, MWT_SENTENCE_END = range(5)
# rows are padded to a multiple of this (a few shapes for torch to reuse)
PAD_TO = 32
SCORE_KEYS = ("tokens", "mwt", "words", "sents")
LEARNED = ("chars", "suffixes", "lang")  # saved in cfg beside the settings

default_model_config = """
[model]
@architectures = "spacy-lstm.CharTagger.v1"
char_width = 32
width = 32
depth = 1
dropout = 0.1
"""
DEFAULT_TOKENIZER_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "lstm_tokenizer",
    assigns=["token.is_sent_start", "doc.sents"],
    default_config={
        "model": DEFAULT_TOKENIZER_MODEL,
        "window": 400,
        "context": 50,
        "batch_chars": 200000,
        "split_unknown": True,
        "sentences": True,
    },
    default_score_weights={
        "tokenizer_words_f": 0.5,
        "tokenizer_sents_f": 0.5,
        "tokenizer_tokens_f": 0.0,
        "tokenizer_mwt_f": 0.0,
    },
)
def make_tokenizer(
    nlp: Language,
    name: str,
    model: Model,
    window: int,
    context: int,
    batch_chars: int,
    split_unknown: bool,
    sentences: bool,
) -> "CharTokenizer":
    """Create an lstm_tokenizer.

    model (Model): A spacy-lstm.CharTagger.v1.
    window (int): Characters labelled per row of the BiLSTM: a longer text is
        cut into windows, so memory stays bounded on a text of any length.
    context (int): Characters read on each side of a window, not labelled.
    batch_chars (int): Characters per batch of windows.
    split_unknown (bool): Cut a multiword token that the training data never
        expanded before a suffix that it cut off ("'s", "n't"); else it stays
        one word.
    sentences (bool): Set sentence starts; false leaves them to a senter or
        parser later in the pipeline.
    """
    for option, value in (("window", window), ("batch_chars", batch_chars)):
        if value < 1:
            raise ValueError(f"lstm_tokenizer {option} must be positive, got {value}.")
    if context < 0:
        raise ValueError(f"lstm_tokenizer context must be 0 or more, got {context}.")
    if not isinstance(nlp.tokenizer, RawTextTokenizer):
        warnings.warn(
            f"lstm_tokenizer '{name}' tokenizes the docs that "
            "spacy-lstm.RawTextTokenizer.v1 makes; this pipeline's tokenizer is "
            f"{type(nlp.tokenizer).__name__}, so its docs pass through unchanged. "
            'Set [nlp.tokenizer] @tokenizers = "spacy-lstm.RawTextTokenizer.v1".'
        )
    return CharTokenizer(
        nlp.vocab,
        model,
        name,
        window=window,
        context=context,
        batch_chars=batch_chars,
        split_unknown=split_unknown,
        sentences=sentences,
    )


class CharTokenizer(TrainablePipe):
    """Tokens, multiword tokens and sentences from a character BiLSTM."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "lstm_tokenizer",
        *,
        window: int = 400,
        context: int = 50,
        batch_chars: int = 200000,
        split_unknown: bool = True,
        sentences: bool = True,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: Dict = {
            "window": window,
            "context": context,
            "batch_chars": batch_chars,
            "split_unknown": split_unknown,
            "sentences": sentences,
            "chars": [],
            "suffixes": [],
            "lang": vocab.lang,
        }
        self.expansions: Dict[str, List[str]] = {}
        self._codes: Optional[Dict[int, Tuple[int, int, bool]]] = None
        install_extension(Doc, "surface_text", name, getter=surface_text)
        install_extension(Token, "surface_span", name, getter=surface_span)
        install_extension(Token, "surface", name, getter=surface)

    # --- applying ------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(stream, size=batch_size):
            raw = [i for i, doc in enumerate(batch) if RAW_KEY in doc.user_data]
            if not raw:
                yield from batch
                continue
            self._check_language(batch[raw[0]].vocab)
            # the text as given, not doc.text, which joins the tokens in Python
            texts = [batch[i].user_data[RAW_KEY] for i in raw]
            encoded = [self._encode(SURROGATE.sub("\ufffd", text)) for text in texts]
            labels = self._labels(encoded)
            for i, text, doc_labels, codes in zip(raw, texts, labels, encoded):
                batch[i] = self.make_doc(
                    text, doc_labels, vocab=batch[i].vocab, space=codes[:, 2] == 1
                )
            yield from batch

    def predict(self, texts: Sequence[str]) -> List[numpy.ndarray]:
        """A label for each character of each text."""
        return self._labels([self._encode(text) for text in texts])

    def _labels(self, encoded: List[numpy.ndarray]) -> List[numpy.ndarray]:
        if not self.cfg["chars"]:
            raise ValueError(
                "lstm_tokenizer is not initialized: run nlp.initialize() first."
            )
        module = torch_module(self.model)
        module.eval()
        labels = [numpy.zeros(len(codes), dtype="int64") for codes in encoded]
        rows = [
            (t, w) for t, codes in enumerate(encoded) for w in self._windows(len(codes))
        ]
        with torch.no_grad():
            for batch in self._row_batches(rows):
                pieces = [encoded[t][lo:hi] for t, (lo, hi, _, _) in batch]
                best = module(*self._tensors(pieces)).argmax(dim=-1).cpu().numpy()
                for row, (t, (lo, _, keep_lo, keep_hi)) in enumerate(batch):
                    labels[t][keep_lo:keep_hi] = best[row, keep_lo - lo : keep_hi - lo]
        return labels

    def make_doc(
        self,
        text: str,
        labels: numpy.ndarray,
        vocab: Optional[Vocab] = None,
        space: Optional[numpy.ndarray] = None,
    ) -> Doc:
        """The doc of words and sentences that the labels give: whitespace
        always ends a token; a multiword token becomes its words.

        space (Optional[numpy.ndarray]): Which characters are whitespace, if
            known.
        """
        original, text = text, SURROGATE.sub("\ufffd", text)
        tokens = segment(text, labels, space)
        spans: List[Tuple[int, int]] = []
        words_of: List[List[str]] = []
        for start, end, label in tokens:
            words = None
            if label in (MWT_END, MWT_SENTENCE_END):
                words = self.expand(text[start:end])
            words_of.append(words or [text[start:end]])
            spans.append((start, end))
        words, spaces, index, read_from = words_and_spaces(text, spans, words_of)
        doc = Doc(vocab or self.vocab, words=words, spaces=spaces)
        if self.cfg["sentences"] and words:
            # from_array: Doc(sent_starts=...) walks the tokens in Python
            starts = numpy.full((len(words), 1), -1, dtype="int64")
            new_sentence = True
            for (_, _, label), i in zip(tokens, index):
                starts[i] = 1 if new_sentence else -1
                new_sentence = label in (SENTENCE_END, MWT_SENTENCE_END)
            starts[0] = 1
            doc.from_array([SENT_START], starts.astype("uint64"))
        if original != text or any(len(words) > 1 for words in words_of):
            doc.user_data[SURFACE_KEY] = (original, read_from)
        return doc

    def expand(self, form: str) -> Optional[List[str]]:
        """The words of a multiword token: its expansion in the training data,
        the first letter's case carried over ("Du" as "De" "le"); else, with
        split_unknown, the form cut before the longest suffix that training
        cut off two or more times ("Obama's" as "Obama" "'s"); else None."""
        words = self.expansions.get(form)
        if words is None:
            words = self.expansions.get(form.lower())
            if words is not None and form[:1].isupper():
                words = [words[0][:1].upper() + words[0][1:]] + words[1:]
        if words is None and self.cfg["split_unknown"]:
            lower = form.lower()
            for suffix in self.cfg["suffixes"]:
                if lower.endswith(suffix) and len(form) > len(suffix):
                    return [form[: -len(suffix)], form[-len(suffix) :]]
        return words

    # --- training --------------------------------------------------------------
    def initialize(
        self, get_examples: Callable[[], Iterable[Example]], *, nlp=None
    ) -> None:
        """The characters and the multiword expansions of the training data,
        and a network sized for them."""
        validate_get_examples(get_examples, "CharTokenizer.initialize")
        if nlp is not None and not isinstance(nlp.tokenizer, RawTextTokenizer):
            raise ValueError(
                "lstm_tokenizer needs the raw-text tokenizer before it: set "
                '[nlp.tokenizer] @tokenizers = "spacy-lstm.RawTextTokenizer.v1" '
                f"(this pipeline has {type(nlp.tokenizer).__name__})."
            )
        chars: Counter = Counter()
        seen: Dict[str, Counter] = defaultdict(Counter)
        n_texts = 0
        for eg in get_examples():
            raw = eg.reference.user_data.get(RAW_TEXT_KEY)
            if raw is None:
                continue
            n_texts += 1
            text, tokens = raw
            chars.update(text)
            for form, words in _multiword_tokens(eg.reference, tokens, text):
                seen[form][tuple(words)] += 1
        if not n_texts:
            raise ValueError(
                "lstm_tokenizer found no raw text in the training examples: read "
                "the treebank with spacy-lstm.Corpus.v1 from a .conllu file "
                "(its docs carry the text the tokenizer learns from)."
            )
        self.cfg["chars"] = sorted(chars)
        self.cfg["lang"] = self.vocab.lang
        self._codes = None
        self.expansions = {}
        suffixes: Counter = Counter()
        for form, counts in seen.items():
            words = list(counts.most_common(1)[0][0])
            self.expansions[form] = words
            if form[:1].isupper():  # "Du" as "De" "le" also gives "du" as "de" "le"
                words = [words[0][:1].lower() + words[0][1:]] + words[1:]
            self.expansions.setdefault(form.lower(), words)
            # "Bush's" as "Bush" "'s": the last word cut off the form's end
            if len(words) == 2 and "".join(words).lower() == form.lower():
                suffixes[words[1].lower()] += sum(counts.values())
        # longest first, so that "n't" is tried before "t"
        self.cfg["suffixes"] = sorted(
            (suffix for suffix, n in suffixes.items() if n >= 2),
            key=lambda suffix: (-len(suffix), suffix),
        )
        set_char_rows(self.model, len(self.cfg["chars"]) + 2)

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn the labels of the characters of each example's raw text
        (examples without one, such as silver docs, are skipped). Dropout is
        the model's own."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "CharTokenizer.update")
        texts, targets = [], []
        for eg in examples:
            raw = eg.reference.user_data.get(RAW_TEXT_KEY)
            if raw is not None and raw[0]:
                texts.append(raw[0])
                targets.append(character_labels(*raw))
        if not texts:
            return losses
        encoded = [self._encode(text) for text in texts]
        rows = [
            (t, w) for t, text in enumerate(texts) for w in self._windows(len(text))
        ]
        module = torch_module(self.model)
        module.train()
        loss = torch.zeros(())
        n_labelled = 0
        for batch in self._row_batches(rows):
            chars, categories, lengths = self._tensors(
                [encoded[t][lo:hi] for t, (lo, hi, _, _) in batch]
            )
            gold = numpy.full(tuple(chars.shape), -100, dtype="int64")
            for row, (t, (lo, hi, keep_lo, keep_hi)) in enumerate(batch):
                target = targets[t][keep_lo:keep_hi].copy()
                target[encoded[t][keep_lo:keep_hi, 2] == 1] = -100
                gold[row, keep_lo - lo : keep_hi - lo] = target
            scores = module(chars, categories, lengths)
            loss = loss + torch.nn.functional.cross_entropy(
                scores.reshape(-1, scores.shape[-1]),
                torch.from_numpy(gold).reshape(-1).to(scores.device),
                ignore_index=-100,
                reduction="sum",
            )
            n_labelled += int((gold != -100).sum())
        if not n_labelled:
            return losses
        loss = loss / n_labelled
        loss.backward()
        losses[self.name] += float(loss.detach())
        if sgd not in (None, False):
            self.finish_update(sgd)
        return losses

    def get_loss(self, examples, scores):
        raise NotImplementedError("lstm_tokenizer computes its loss inside update().")

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, float]:
        """F1 of tokens, multiword tokens, words and sentences on the examples'
        raw texts, by the CoNLL 2018 rules."""
        golds, texts = [], []
        for eg in examples:
            raw = eg.reference.user_data.get(RAW_TEXT_KEY)
            if raw is not None and raw[0]:
                golds.append(ud_from_tokens(eg.reference, *raw))
                texts.append(raw[0])
        if not texts:
            return {f"tokenizer_{key}_f": None for key in SCORE_KEYS}
        docs = [
            self.make_doc(t, labels) for t, labels in zip(texts, self.predict(texts))
        ]
        gold = concatenate(golds)
        system = read_ud(docs_to_conllu(docs), "lstm_tokenizer's output")
        scores = evaluate(gold, system)
        return {
            "tokenizer_tokens_f": scores["tokens"]["f1"],
            "tokenizer_mwt_f": scores["multiword_tokens"]["f1"],
            "tokenizer_words_f": scores["words"]["f1"],
            "tokenizer_sents_f": scores["sentences"]["f1"],
        }

    # --- rows of characters ------------------------------------------------------
    def _windows(self, n: int) -> List[Tuple[int, int, int, int]]:
        """(read from, read to, label from, label to) for each window of a text
        of n characters."""
        size, context = self.cfg["window"], self.cfg["context"]
        return [
            (max(0, k - context), min(n, k + size + context), k, min(n, k + size))
            for k in range(0, n, size)
        ]

    def _row_batches(self, rows: List) -> Iterator[List]:
        """Batches of rows of similar lengths (the longest at most 1.25x the
        shortest, padded), of at most batch_chars characters with padding:
        the BiLSTM's cost is its characters, padding included. A row's scores
        do not depend on its padding."""
        rows = sorted(rows, key=lambda row: row[1][1] - row[1][0])
        batch: List = []
        shortest = 0
        for row in rows:
            length = _padded(row[1][1] - row[1][0])
            full = (len(batch) + 1) * length > self.cfg["batch_chars"]
            if batch and (full or length > 1.25 * shortest):
                yield batch
                batch = []
            if not batch:
                shortest = length
            batch.append(row)
        if batch:
            yield batch

    def _encode(self, text: str) -> numpy.ndarray:
        """(character row, category row, is whitespace) for each character."""
        if self._codes is None:
            rows = {c: row for row, c in enumerate(self.cfg["chars"], start=2)}
            self._row_of = rows.get
            self._codes = {}
        # code points in C, then one lookup per distinct character
        points = numpy.frombuffer(
            text.encode("utf-32-le", "surrogatepass"), dtype=numpy.uint32
        )
        distinct, index = numpy.unique(points, return_inverse=True)
        table = numpy.zeros((len(distinct), 3), dtype="int64")
        for i, point in enumerate(distinct.tolist()):
            code = self._codes.get(point)
            if code is None:
                c = chr(point)
                code = (self._row_of(c, UNKNOWN), category_rows(c)[0], _is_space(c))
                self._codes[point] = code
            table[i] = code
        return table[index.reshape(-1)]

    def _tensors(self, pieces: List[numpy.ndarray]) -> Tuple[torch.Tensor, ...]:
        """Character and category rows of encoded pieces, padded to a multiple
        of PAD_TO, and their lengths."""
        device = next(torch_module(self.model).parameters()).device
        length = _padded(max(len(piece) for piece in pieces))
        # 0 pads both: PAD, and no category
        codes = numpy.zeros((len(pieces), length, 2), dtype="int64")
        for row, piece in enumerate(pieces):
            codes[row, : len(piece)] = piece[:, :2]
        codes_t = torch.from_numpy(codes).to(device)
        return (
            codes_t[:, :, 0],
            codes_t[:, :, 1],
            torch.tensor([len(piece) for piece in pieces], device=device),
        )

    # --- serialization -------------------------------------------------------------
    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        serializers = {
            "cfg": lambda: srsly.json_dumps(self.cfg),
            "expansions": lambda: srsly.json_dumps(self.expansions),
            "model": lambda: self.model.to_bytes(),
        }
        return util.to_bytes(serializers, exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        deserializers = {
            "cfg": lambda b: self._load_cfg(srsly.json_loads(b)),
            "expansions": lambda b: setattr(self, "expansions", srsly.json_loads(b)),
            "model": lambda b: self.model.from_bytes(b),
        }
        util.from_bytes(bytes_data, deserializers, exclude)
        return self

    def to_disk(self, path: Path, *, exclude: Iterable[str] = tuple()) -> None:
        serializers = {
            "cfg": lambda p: srsly.write_json(p, self.cfg),
            "expansions": lambda p: srsly.write_json(p, self.expansions),
            "model": lambda p: self.model.to_disk(p),
        }
        util.to_disk(path, serializers, exclude)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = tuple()):
        path = util.ensure_path(path)

        def load() -> None:
            deserializers = {
                "cfg": lambda p: self._load_cfg(srsly.read_json(p)),
                "expansions": lambda p: setattr(self, "expansions", srsly.read_json(p)),
                "model": lambda p: self.model.from_disk(p),
            }
            util.from_disk(path, deserializers, exclude)

        load_or_explain(self.name, path, ["cfg", "expansions", "model"], exclude, load)
        return self

    def _load_cfg(self, cfg: Dict) -> None:
        # what training learned; the settings stay those of the config
        self.cfg.update({key: cfg[key] for key in LEARNED if key in cfg})
        self._check_language(self.vocab)
        self._codes = None

    def _check_language(self, vocab: Vocab) -> None:
        lang = self.cfg.get("lang")
        if lang and vocab.lang and lang != vocab.lang:
            raise ValueError(
                f"This lstm_tokenizer was trained on '{lang}' text and the pipeline "
                f"is '{vocab.lang}': train one on a treebank of this language."
            )


def _padded(length: int) -> int:
    return -(-length // PAD_TO) * PAD_TO


def character_labels(text: str, tokens: Sequence[Tuple]) -> numpy.ndarray:
    """The label of each character of a text with known tokens."""
    labels = numpy.full(len(text), INSIDE, dtype="int64")
    for start, end, n_words, sentence_end in tokens:
        if end > start:
            base = MWT_END if n_words > 1 else TOKEN_END
            labels[end - 1] = base + int(bool(sentence_end))
    return labels


def segment(
    text: str, labels: numpy.ndarray, space: Optional[numpy.ndarray] = None
) -> List[Tuple[int, int, int]]:
    """(start, end, label of the last character) for each token: a token ends
    at a labelled character or before whitespace.

    space (Optional[numpy.ndarray]): Which characters are whitespace, if known.
    """
    if space is None:
        space = numpy.array([_is_space(c) for c in text], dtype=bool)
    if not len(text):
        return []
    labels = numpy.asarray(labels)
    word = ~space
    labelled = word & (labels != INSIDE)
    end = word & (labelled | numpy.append(space[1:], True))
    start = word & numpy.insert(space[:-1] | end[:-1], 0, True)
    ends = numpy.flatnonzero(end)
    kinds = numpy.where(labelled[ends], labels[ends], TOKEN_END)
    return list(
        zip(numpy.flatnonzero(start).tolist(), (ends + 1).tolist(), kinds.tolist())
    )


def _is_space(c: str) -> bool:
    return c.isspace() or unicodedata.category(c) == "Zs"


def _multiword_tokens(doc: Doc, tokens: Sequence[Tuple], text: str):
    """(surface form, words) of each multiword token of a reference doc."""
    if sum(t[2] for t in tokens) != len(doc):
        return
    w = 0
    for start, end, n_words, _ in tokens:
        if n_words > 1:
            yield text[start:end], [doc[i].text for i in range(w, w + n_words)]
        w += n_words
