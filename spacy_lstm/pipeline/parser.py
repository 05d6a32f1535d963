"""lstm_parser: a graph-based (biaffine) dependency parser component."""

from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy
from spacy import util
from spacy.attrs import DEP, HEAD, IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Token
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate

from ..extensions import install_extension
from ..models.biaffine import ParserInput, ParserOutput, set_n_labels
from ..util import KeepsVectorsKey, load_or_explain

ROOT_LABEL = "ROOT"
# Marks an unused slot in the head alternatives of a very short sentence.
NO_HEAD = -(2**30)

default_model_config = """
[model]
@architectures = "spacy-lstm.BiaffineParser.v1"
arc_width = 256
label_width = 128
dropout = 0.33

[model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = ${model.tok2vec.encode.width}
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 2500]
include_static_vectors = false

[model.tok2vec.encode]
@architectures = "spacy-lstm.BiLSTMEncoder.v1"
width = 128
depth = 2
dropout = 0.2
cell = "lstm"
"""
DEFAULT_PARSER_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "lstm_parser",
    assigns=["token.head", "token.dep", "token.is_sent_start", "doc.sents"],
    default_config={
        "model": DEFAULT_PARSER_MODEL,
        "max_length": 256,
        "top_k": 3,
        "scorer": {"@scorers": "spacy.parser_scorer.v1"},
    },
    default_score_weights={
        "dep_uas": 0.5,
        "dep_las": 0.5,
        "dep_las_per_type": None,
        "sents_p": None,
        "sents_r": None,
        "sents_f": 0.0,
    },
)
def make_parser(
    nlp: Language,
    name: str,
    model: Model[ParserInput, ParserOutput],
    max_length: int,
    top_k: int,
    scorer: Optional[Callable],
) -> "BiaffineDependencyParser":
    """Create an lstm_parser component.

    model (Model[ParserInput, ParserOutput]): The scoring model, e.g.
        spacy-lstm.BiaffineParser.v1.
    max_length (int): Longest span parsed as one tree. Longer sentences, or
        docs with no sentence boundaries, are cut into pieces of this length,
        each with its own root: arc scores grow with the square of the length.
    top_k (int): How many candidate heads `token._.head_alternatives` keeps.
    scorer (Optional[Callable]): The scoring method.
    """
    return BiaffineDependencyParser(
        nlp.vocab, model, name, max_length=max_length, top_k=top_k, scorer=scorer
    )


class Gold(NamedTuple):
    """Training targets aligned to the predicted tokens of a batch."""

    sent_lengths: List[int]
    heads: numpy.ndarray  # sentence position of the head (0: ROOT), -1 unknown
    labels: numpy.ndarray  # label index, -1 unknown
    parsed: Optional[numpy.ndarray]  # as ParserInput.parsed


class BiaffineDependencyParser(KeepsVectorsKey, TrainablePipe):
    """Predicts a head and a label for every token, as a well-formed tree per
    sentence (non-projective trees allowed), and keeps the probability of the
    chosen head and of the best alternatives in `token._.head_prob` and
    `token._.head_alternatives`.

    Sentences come from the doc when it has boundaries (from a senter, a
    sentencizer, gold data or `Doc(..., sent_starts=...)`); a doc without them
    is parsed in pieces of at most `max_length` tokens.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model[ParserInput, ParserOutput],
        name: str = "lstm_parser",
        *,
        max_length: int = 256,
        top_k: int = 3,
        scorer: Optional[Callable] = None,
    ) -> None:
        if max_length < 1:
            raise ValueError(
                f"lstm_parser max_length must be positive, got {max_length}."
            )
        if top_k < 1:
            raise ValueError(f"lstm_parser top_k must be positive, got {top_k}.")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: Dict = {"labels": [], "max_length": max_length, "top_k": top_k}
        self.scorer = scorer
        install_extensions()

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> Tuple[str, ...]:
        return self.labels

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"lstm_parser labels must be strings, got {label!r}.")
        if label in self.cfg["labels"]:
            return 0
        old = self.labels
        self.cfg["labels"] = sorted([*old, label])
        self.vocab.strings.add(label)
        if self.model.has_dim("nO"):
            positions = [old.index(lab) if lab in old else -1 for lab in self.labels]
            set_n_labels(self.model, len(self.labels), positions)
        return 1

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Iterable[str]] = None,
    ) -> None:
        """Collect the labels from the training data (or take `labels`, as
        `spacy init labels` writes them) and size the model.
        """
        validate_get_examples(get_examples, "BiaffineDependencyParser.initialize")
        if labels is None:
            labels = {
                token.dep_
                for example in get_examples()
                for token in example.reference
                if token.dep_
            }
        labels = sorted(set(labels) | {ROOT_LABEL})
        if labels == [ROOT_LABEL]:
            raise ValueError(
                "lstm_parser found no dependency labels in the training data. "
                "Check that the training corpus has heads and labels."
            )
        self.cfg["labels"] = labels
        for label in labels:
            self.vocab.strings.add(label)
        set_n_labels(self.model, len(labels))
        docs = [example.predicted for example in islice(get_examples(), 10)]
        lengths = [len(piece) for doc in docs for piece in self.pieces(doc)]
        self.model.initialize(X=ParserInput(docs, lengths))

    def pieces(
        self, doc: Doc, starts: Optional[List[int]] = None
    ) -> List[numpy.ndarray]:
        """The token indices of each span parsed as a tree, in order: each
        sentence's tokens, whitespace left out, cut into pieces of at most
        max_length tokens.

        starts (Optional[List[int]]): Where the sentences start; by default the
            doc's sentences, or the whole doc if it has no boundaries.
        """
        if starts is None:
            if doc.has_annotation("SENT_START"):
                starts = [sent.start for sent in doc.sents]
            else:
                starts = [0] if len(doc) else []
        is_space = doc.to_array(IS_SPACE).astype(bool)
        size = self.cfg["max_length"]
        pieces = []
        for a, b in zip(starts, starts[1:] + [len(doc)]):
            tokens = numpy.flatnonzero(~is_space[a:b]) + a
            pieces.extend(tokens[i : i + size] for i in range(0, len(tokens), size))
        return pieces

    def _parsed(self, docs: List[Doc], pieces: List[List[numpy.ndarray]]):
        """The parsed tokens as indices into the batch's tokens (ParserInput's
        parsed), or None when every token is parsed."""
        chunks, offset = [], 0
        for doc, doc_pieces in zip(docs, pieces):
            chunks.extend(piece + offset for piece in doc_pieces)
            offset += len(doc)
        parsed = _concat(chunks, (0,), "int64")
        return None if len(parsed) == offset else self.model.ops.asarray1i(parsed)

    def predict(self, docs: Iterable[Doc]) -> Tuple[ParserOutput, List]:
        docs = list(docs)
        pieces = [self.pieces(doc) for doc in docs]
        lengths = [len(piece) for doc_pieces in pieces for piece in doc_pieces]
        parsed = self._parsed(docs, pieces)
        return self.model.predict(ParserInput(docs, lengths, None, parsed)), pieces

    def set_annotations(
        self, docs: Iterable[Doc], scores: Tuple[ParserOutput, List]
    ) -> None:
        """Set each parsed token's head and label, and attach each whitespace
        token to the parsed token before it (after it at the start of a doc)
        with the label "dep", as spaCy's own parser does."""
        docs = list(docs)
        output, pieces = scores
        sizes = [len(piece) for doc_pieces in pieces for piece in doc_pieces]
        heads = self.model.ops.to_numpy(output.heads)
        labels = self._labels(output, heads)
        top, top_probs, chosen = self._head_probabilities(output, sizes, heads)
        # The whole batch at once, its docs laid end to end ("batch indices")
        doc_lengths = numpy.array([len(doc) for doc in docs], dtype="int64")
        doc_starts = numpy.cumsum(doc_lengths) - doc_lengths
        n_batch = int(doc_lengths.sum())
        parsed = _concat(
            [
                piece + start
                for doc_pieces, start in zip(pieces, doc_starts)
                for piece in doc_pieces
            ],
            (0,),
            "int64",
        )
        # sentence positions (0: ROOT, the token itself) to batch indices
        own = numpy.arange(len(parsed))
        piece_starts = numpy.repeat(numpy.cumsum(sizes) - sizes, sizes).astype("int64")
        batch_heads = numpy.arange(n_batch)
        batch_heads[parsed] = parsed[
            numpy.where(heads == 0, own, heads - 1 + piece_starts)
        ]
        batch_deps = numpy.full(n_batch, self.vocab.strings.add(ROOT_LABEL), "uint64")
        batch_deps[parsed] = labels
        # each token's doc, as the batch indices where it starts and ends
        doc_start = numpy.repeat(doc_starts, doc_lengths)
        doc_end = doc_start + numpy.repeat(doc_lengths, doc_lengths)
        self._attach_whitespace(batch_heads, batch_deps, parsed, doc_start, doc_end)
        # the alternatives likewise, as indices in their doc; negative: none
        found = top >= 0
        at = numpy.where(top == 0, own[:, None], top - 1 + piece_starts[:, None])
        batch_top = numpy.full((n_batch, top.shape[1]), NO_HEAD, dtype="int64")
        batch_top[parsed] = numpy.where(
            found, parsed[numpy.where(found, at, 0)] - doc_start[parsed, None], NO_HEAD
        )
        batch_top_probs = numpy.zeros(batch_top.shape, dtype="float32")
        batch_top_probs[parsed] = top_probs
        batch_chosen = numpy.full(n_batch, numpy.nan, dtype="float32")
        batch_chosen[parsed] = chosen
        rows = numpy.empty((n_batch, 2), dtype="uint64")
        rows[:, 0] = (batch_heads - numpy.arange(n_batch)).view("uint64")
        rows[:, 1] = batch_deps
        for doc, a, n in zip(docs, doc_starts.tolist(), doc_lengths.tolist()):
            if n:
                doc.from_array([HEAD, DEP], rows[a : a + n])
            doc._.head_probs = batch_chosen[a : a + n].copy()
            doc._.head_alternatives = (
                batch_top[a : a + n].astype("int32"),
                batch_top_probs[a : a + n].copy(),
            )

    def _attach_whitespace(
        self,
        heads: numpy.ndarray,
        deps: numpy.ndarray,
        parsed: numpy.ndarray,
        doc_start: numpy.ndarray,
        doc_end: numpy.ndarray,
    ) -> None:
        """Attach every token left unparsed (whitespace) to the nearest parsed
        token before it in its doc, else after it, labelled "dep"; in a doc
        with no parsed token, it stays its own head."""
        n_batch = len(heads)
        if len(parsed) == n_batch:
            return
        index = numpy.arange(n_batch)
        is_parsed = numpy.zeros(n_batch, dtype=bool)
        is_parsed[parsed] = True
        before = numpy.maximum.accumulate(numpy.where(is_parsed, index, -1))
        after = numpy.minimum.accumulate(numpy.where(is_parsed, index, n_batch)[::-1])
        after = after[::-1]
        target = numpy.where(before >= doc_start, before, after)
        space = ~is_parsed & (target < doc_end)
        heads[space] = target[space]
        deps[space] = self.vocab.strings.add("dep")

    def _labels(self, output: ParserOutput, heads: numpy.ndarray) -> numpy.ndarray:
        """Label hashes: ROOT for tokens attached to ROOT, else the best other."""
        scores = self.model.ops.to_numpy(output.labels).copy()
        strings = self.vocab.strings
        ids = numpy.asarray([strings[label] for label in self.labels], dtype="uint64")
        root = self.labels.index(ROOT_LABEL)
        scores[:, root] = -numpy.inf
        labels = ids[scores.argmax(axis=1)]
        labels[heads == 0] = ids[root]
        return labels

    def _head_probabilities(
        self, output: ParserOutput, sent_lengths: List[int], heads: numpy.ndarray
    ) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """For each parsed token: its top-k heads (sentence positions, 0 for
        ROOT; NO_HEAD where a sentence has fewer than k candidates), their
        probabilities, and the probability of the head chosen for the tree.
        Computed a padded group of sentences at a time."""
        k = self.cfg["top_k"]
        n_tokens = len(heads)
        top = numpy.full((n_tokens, k), NO_HEAD, dtype="int64")
        top_probs = numpy.zeros((n_tokens, k), dtype="float32")
        chosen = numpy.zeros(n_tokens, dtype="float32")
        lengths = numpy.asarray(sent_lengths, dtype="int64")
        starts = numpy.cumsum(lengths) - lengths
        for arcs, sents in zip(output.arcs, output.groups):
            probs = _softmax(self.model.ops.to_numpy(arcs))  # masked heads: 0
            steps = probs.shape[1]
            n = lengths[sents][:, None]
            position = numpy.arange(steps)[None, :]
            real = (position >= 1) & (position <= n)
            tokens = (starts[sents][:, None] + position - 1)[real]
            order = numpy.argsort(-probs, axis=2, kind="stable")[:, :, :k]
            order_probs = numpy.take_along_axis(probs, order, axis=2)
            # a token is never its own head, nor is padding: the masked
            # heads only fill the list of a sentence with fewer than k
            missing = (order == position[:, :, None]) | (order > n[:, :, None])
            top[tokens, : order.shape[2]] = numpy.where(missing, NO_HEAD, order)[real]
            top_probs[tokens, : order.shape[2]] = numpy.where(missing, 0, order_probs)[
                real
            ]
            chosen[tokens] = probs[real, heads[tokens]]
        return top, top_probs, chosen

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "BiaffineDependencyParser.update")
        docs = [example.predicted for example in examples]
        if not any(len(doc) for doc in docs):
            return losses
        gold = self._gold(examples)
        if not gold.sent_lengths:  # nothing but whitespace
            return losses
        set_dropout_rate(self.model, drop)
        label_heads = self.model.ops.asarray1i(numpy.maximum(gold.heads, 0))
        output, backprop = self.model.begin_update(
            ParserInput(docs, gold.sent_lengths, label_heads, gold.parsed)
        )
        loss, d_scores = self._loss(output, gold)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(
        self, examples: Iterable[Example], scores: ParserOutput
    ) -> Tuple[float, Tuple[List, numpy.ndarray]]:
        """Cross-entropy over the heads of each token and over the labels of
        its gold (dependent, head) pair. `scores` must come from the model
        run on the gold sentence lengths and heads, as in `update`."""
        return self._loss(scores, self._gold(list(examples)))

    def _gold(self, examples: List[Example]) -> Gold:
        label_index = {label: i for i, label in enumerate(self.labels)}
        heads: List[int] = []
        labels: List[int] = []
        pieces = []
        for example in examples:
            doc_heads, doc_deps = example.get_aligned_parse(projectivize=False)
            sent_starts = example.get_aligned_sent_starts()
            starts = [i for i, s in enumerate(sent_starts) if s or i == 0]
            doc_pieces = self.pieces(example.predicted, starts)
            for piece in doc_pieces:
                position = {i: p for p, i in enumerate(piece.tolist(), start=1)}
                for i in piece.tolist():
                    head = doc_heads[i]
                    heads.append(0 if head == i else position.get(head, -1))
                    labels.append(label_index.get(doc_deps[i] or "", -1))
            pieces.append(doc_pieces)
        docs = [example.predicted for example in examples]
        return Gold(
            [len(piece) for doc_pieces in pieces for piece in doc_pieces],
            numpy.asarray(heads, dtype="int64"),
            numpy.asarray(labels, dtype="int64"),
            self._parsed(docs, pieces),
        )

    def _loss(
        self, output: ParserOutput, gold: Gold
    ) -> Tuple[float, Tuple[List, numpy.ndarray]]:
        ops = self.model.ops
        # Summed over tokens, not averaged, like spaCy's own components: a
        # shared tok2vec adds up the gradients of its listeners, and an
        # averaged loss would be drowned out by, say, a senter's summed one.
        starts = numpy.cumsum(gold.sent_lengths) - gold.sent_lengths
        loss = 0.0
        d_arcs = []
        for arcs, sents in zip(output.arcs, output.groups):
            arcs = ops.to_numpy(arcs)
            targets = numpy.full(arcs.shape[:2], -1)
            for row, sent in enumerate(sents):
                n = gold.sent_lengths[sent]
                targets[row, 1 : n + 1] = gold.heads[starts[sent] : starts[sent] + n]
            probs = _softmax(arcs)
            rows, deps = numpy.nonzero(targets >= 0)
            gold_heads = targets[rows, deps]
            loss -= numpy.log(probs[rows, deps, gold_heads] + 1e-12).sum()
            d = numpy.zeros_like(probs)
            d[rows, deps] = probs[rows, deps]
            d[rows, deps, gold_heads] -= 1.0
            d_arcs.append(ops.asarray3f(d))
        probs = _softmax(ops.to_numpy(output.labels))
        known = numpy.flatnonzero((gold.labels >= 0) & (gold.heads >= 0))
        loss -= numpy.log(probs[known, gold.labels[known]] + 1e-12).sum()
        d_labels = numpy.zeros_like(probs)
        d_labels[known] = probs[known]
        d_labels[known, gold.labels[known]] -= 1.0
        return float(loss), (d_arcs, ops.asarray2f(d_labels))

    def from_disk(
        self, path: Path, *, exclude: Iterable[str] = tuple()
    ) -> "BiaffineDependencyParser":
        path = util.ensure_path(path)
        load = super().from_disk
        load_or_explain(
            "lstm_parser",
            path,
            ["cfg", "model"],
            exclude,
            lambda: load(path, exclude=exclude),
        )
        return self


def _softmax(scores: numpy.ndarray) -> numpy.ndarray:
    """Softmax over the last axis."""
    probs = numpy.exp(scores - scores.max(axis=-1, keepdims=True))
    return probs / probs.sum(axis=-1, keepdims=True)


def _concat(arrays: List[numpy.ndarray], empty_shape: Tuple, dtype: str):
    return numpy.concatenate(arrays) if arrays else numpy.zeros(empty_shape, dtype)


def _token_head_alternatives(token: Token) -> List[Tuple[Token, float]]:
    """The most probable heads of the token with their probabilities, best
    first; a token is its own head when it attaches to ROOT."""
    alternatives = token.doc._.head_alternatives
    if alternatives is None:
        return []
    heads, probs = alternatives
    return [
        (token.doc[int(h)], float(p))
        for h, p in zip(heads[token.i], probs[token.i])
        if h >= 0
    ]


def _token_head_prob(token: Token) -> Optional[float]:
    """The probability of the head the parser chose for the token."""
    probs = token.doc._.head_probs
    if probs is None or numpy.isnan(probs[token.i]):
        return None  # not parsed: whitespace
    return float(probs[token.i])


def install_extensions() -> None:
    """Install the Doc and Token extensions lstm_parser sets."""
    for name in ("head_probs", "head_alternatives"):
        install_extension(Doc, name, "lstm_parser", default=None)
    install_extension(
        Token, "head_alternatives", "lstm_parser", getter=_token_head_alternatives
    )
    install_extension(Token, "head_prob", "lstm_parser", getter=_token_head_prob)
