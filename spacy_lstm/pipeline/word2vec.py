"""word2vec: train word vectors (skip-gram or CBOW) with spacy train.

The vectors are written into nlp.vocab.vectors, so token.vector, similarity,
Vectors.most_similar and other components' static vectors use them, and they are
saved and loaded with the pipeline like any vectors.
"""

import os
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy
from spacy import util
from spacy.attrs import IS_SPACE, ORTH, SENT_START
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vectors import Vectors
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer
from wasabi import msg

from ..models.word2vec import key_attr_id
from ..util import load_or_explain
from ..vectors.evaluation import evaluate_similarity, read_similarity_pairs
from ..vectors.sgns import train_sentences
from ..vectors.vocab import keep_probabilities, noise_table
from ..vectors.word2vec_format import table_from_vectors

SCORE_KEY = "word2vec_spearman"
# Keys are counted in numpy in chunks of this many tokens, then merged.
COUNT_CHUNK = 1 << 20

default_model_config = """
[model]
@architectures = "spacy-lstm.Word2Vec.v1"
architecture = "skipgram"
vector_size = 100
window = 5
negative = 5
sample = 0.001
min_count = 5
max_vocab = null
alpha = 0.025
min_alpha = 0.0025
epochs = 5
attr = "LOWER"
seed = 1
"""
DEFAULT_WORD2VEC_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "word2vec",
    assigns=[],
    default_config={
        "model": DEFAULT_WORD2VEC_MODEL,
        "threads": 0,
        "async_updates": True,
        "scorer": {"@scorers": "spacy-lstm.word2vec_scorer.v1", "similarity": None},
    },
    default_score_weights={SCORE_KEY: 1.0},
)
def make_word2vec(
    nlp: Language,
    name: str,
    model: Model,
    threads: int,
    async_updates: bool,
    scorer: Optional[Callable],
) -> "Word2Vec":
    """Train word vectors into nlp.vocab.vectors.

    model (Model): spacy-lstm.Word2Vec.v1 with the word2vec settings.
    threads (int): Threads that train at once, sharing the vectors without
        locks, as gensim's workers do. 0: one per CPU core for skip-gram, one
        for CBOW, whose training outruns spaCy's reading on a single core
        (train-vectors, which does not read through spaCy, uses every core).
    async_updates (bool): Let update() return while its batch is still being
        trained, so that spaCy reads the next batch meanwhile. Calling the
        component, scoring, saving or the next update waits for it.
    scorer (Optional[Callable]): Scores the vectors during spacy train.
    """
    return Word2Vec(
        nlp.vocab,
        model,
        name,
        threads=threads,
        async_updates=async_updates,
        scorer=scorer,
    )


@util.registry.scorers("spacy-lstm.word2vec_scorer.v1")
def make_word2vec_scorer(similarity: Optional[Path] = None) -> Callable:
    """Score vectors by the Spearman correlation of their cosine similarities
    with human judgements (`word1 word2 score` lines, e.g. WordSim-353), reported
    as word2vec_spearman. The file is read when scoring, not when the pipeline
    loads, so a saved pipeline never needs it: without the file the score is
    None (with a warning if the file is named but missing)."""
    read: Dict[Path, List] = {}

    def score(examples: Iterable[Example], *, vectors: Optional[Vectors] = None, **kw):
        if similarity is None or vectors is None or vectors.shape[0] == 0:
            return {SCORE_KEY: None}
        path = Path(similarity)
        if path not in read:
            if not path.is_file():
                warnings.warn(
                    f"word2vec: the similarity file {path} is not there, so "
                    f"{SCORE_KEY} is not scored. Set [paths] similarity to a file."
                )
                return {SCORE_KEY: None}
            read[path] = read_similarity_pairs(path)
        table = table_from_vectors(vectors, vectors.strings)
        return {SCORE_KEY: evaluate_similarity(table, read[path])["spearman"]}

    return score


class Word2Vec(TrainablePipe):
    """Trains word2vec vectors into the vocab's vectors table. It annotates
    nothing, so running it on docs costs nothing."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "word2vec",
        *,
        threads: int = 0,
        async_updates: bool = True,
        scorer: Optional[Callable] = None,
    ) -> None:
        if threads < 0:
            raise ValueError(f"word2vec threads must be >= 0, got {threads}.")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg = {"threads": threads, "async_updates": async_updates}
        self.scorer = scorer
        self._state: Optional[_TrainingState] = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._jobs: List[Future] = []
        self._unreported_loss: List[float] = []

    # Applying the component: nothing to do, the vectors are in the vocab.
    def __call__(self, doc: Doc) -> Doc:
        self.wait()
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        self.wait()
        yield from stream

    def predict(self, docs: Iterable[Doc]) -> None:
        return None

    def set_annotations(self, docs: Iterable[Doc], predictions: None) -> None:
        pass

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        self.wait()
        if self.scorer is None:
            return {}
        return self.scorer(examples, vectors=self.vocab.vectors, **kwargs)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        corpus: Optional[str] = None,
    ) -> None:
        """Count the vocabulary and create random vectors for it.

        corpus (Optional[str]): A corpus in the config, e.g. "corpora.train", to
            count the vocabulary on. spacy train passes only 100 examples to
            initialize when the corpus is streamed (max_epochs = -1), so the
            config names the whole corpus here. With a streamed corpus and
            [training] max_steps = 0, the training length is set to the planned
            epochs: max_steps = epochs x batches per epoch.
        """
        validate_get_examples(get_examples, "Word2Vec.initialize")
        self.wait()
        reader: Callable = lambda nlp: get_examples()  # noqa: E731
        batcher = None
        if corpus is not None:
            if nlp is None:
                raise ValueError(
                    "word2vec: initialize(corpus=...) needs the nlp object."
                )
            config = nlp.config.interpolate()
            reader = util.resolve_dot_names(config, [corpus])[0]
            training = config.get("training", {})
            if training.get("max_epochs") == -1 and not training.get("max_steps"):
                batcher = util.registry.resolve({"b": training["batcher"]})["b"]
        counter = KeyCounter(key_attr_id(self.model))
        # spacy-lstm.PlainText.v1 counts pretokenized text without building docs
        word_counts = getattr(reader, "count_words", lambda: None)()
        if word_counts is not None:
            counter.add_words(word_counts[0], self.vocab)
            # batchers size docs by len(): sized stand-ins give the same batches
            docs: Iterable = (range(length) for length in word_counts[1])
        else:
            if hasattr(reader, "docs"):
                docs = reader.docs(nlp)
            else:
                docs = (eg.predicted for eg in reader(nlp))
            docs = (counter.add(doc) or doc for doc in docs)
        if batcher is None:
            for _ in docs:
                pass
            steps_per_epoch = 0
        else:
            steps_per_epoch = sum(1 for _ in batcher(docs))
        keys, counts = counter.vocabulary(
            self.model.attrs["min_count"], self.model.attrs["max_vocab"]
        )
        self.create_vectors(keys, counts, counter.n_words)
        msg.info(
            f"word2vec: {counter.n_words:,} words, {len(keys):,} in the vocabulary "
            f"(min_count {self.model.attrs['min_count']})"
        )
        if steps_per_epoch:
            # the loop runs steps 0..max_steps: one more than max_steps
            max_steps = max(self.model.attrs["epochs"] * steps_per_epoch - 1, 1)
            nlp.config["training"]["max_steps"] = max_steps  # type: ignore[union-attr]
            msg.info(
                f"word2vec: {self.model.attrs['epochs']} epochs x {steps_per_epoch:,} "
                f"batches: [training] max_steps = {max_steps:,}"
            )

    def create_vectors(self, keys: numpy.ndarray, counts: numpy.ndarray, n_words: int):
        """Start training afresh: random vectors for the keys (most frequent
        first, with their counts) and a schedule over epochs x n_words words."""
        attrs = self.model.attrs
        n_rows, width = len(keys), attrs["vector_size"]
        # gensim 4's initialisation: uniform in +-1/width (word2vec.c's +-0.5/width
        # gave CBOW 0.3-0.5 points fewer analogies); output vectors zero
        rng = numpy.random.default_rng(attrs["seed"])
        data = ((rng.random((n_rows, width), dtype="f") * 2 - 1) / width).astype("f")
        self.vocab.vectors = Vectors(
            strings=self.vocab.strings, data=data, keys=keys, attr=attrs["attr"]
        )
        self.model.set_dim("nV", n_rows, force=True)
        self.model.set_param("syn1neg", numpy.zeros((n_rows, width), dtype="f"))
        attrs["counts"] = counts
        attrs["words_trained"] = 0
        attrs["planned_words"] = attrs["epochs"] * n_words
        self._state = None

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Train on the examples' predicted docs. word2vec does its own
        stochastic gradient descent with a linearly decaying learning rate, so
        the optimizer and dropout are not used. With async_updates, the loss of
        a batch is reported by the next update."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        validate_examples(examples, "Word2Vec.update")
        state = self.training_state()
        keys, starts = state.encode([eg.predicted for eg in examples])
        previous, self._jobs = self._jobs, []
        if len(keys):
            # queued behind the previous batch, so that the threads never wait
            # for spaCy to hand over the next one (CBOW on the Wikipedia extract:
            # 110 s -> 99 s)
            self._submit(state, keys, starts)
        self._collect(previous)
        if not self.cfg["async_updates"]:
            self.wait()
        losses[self.name] += sum(self._unreported_loss)
        self._unreported_loss = []
        return losses

    def wait(self) -> None:
        """Wait until the batches given to update() are trained."""
        jobs, self._jobs = self._jobs, []
        self._collect(jobs)

    def _collect(self, jobs: List[Future]) -> None:
        """Wait for the jobs and keep their loss for the next report."""
        results = [job.result() for job in jobs]
        n_predictions = sum(n for _, n in results)
        if n_predictions:
            self._unreported_loss.append(
                sum(loss for loss, _ in results) / n_predictions
            )

    def _submit(
        self, state: "_TrainingState", keys: numpy.ndarray, starts: numpy.ndarray
    ):
        """Train on the sentences in background threads, one run of sentences
        each."""
        attrs = self.model.attrs
        done, planned = attrs["words_trained"], max(attrs["planned_words"], 1)
        alphas = (
            learning_rate(attrs, done / planned),
            learning_rate(attrs, (done + len(keys)) / planned),
        )
        pool = self._thread_pool()
        for arguments in kernel_arguments(
            self,
            (state.sorted_keys, state.sorted_rows),
            keys,
            starts,
            alphas,
            seed=attrs["seed"] * 1_000_003 + done * 31,
            n_parts=self._n_threads(),
        ):
            self._jobs.append(pool.submit(train_sentences, *arguments))
        attrs["words_trained"] = done + len(keys)

    def get_loss(self, examples, scores):
        raise NotImplementedError("word2vec computes its loss inside update().")

    def _n_threads(self) -> int:
        if self.cfg["threads"]:
            return self.cfg["threads"]
        # One thread trains CBOW several times faster than spaCy reads the
        # text; a second would only take CPU from the reader (8% slower here).
        if self.model.attrs["architecture"] == "cbow":
            return 1
        return len(os.sched_getaffinity(0))

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._n_threads())
        return self._pool

    def training_state(self) -> "_TrainingState":
        """The arrays the kernel needs (key lookup, subsampling, noise), made
        once per vocabulary."""
        vectors = self.vocab.vectors
        if self.model.attrs["counts"] is None or vectors.shape[0] == 0:
            raise ValueError(
                "word2vec is not initialized: run nlp.initialize() (spacy train "
                "does) before updating it."
            )
        if not isinstance(vectors.data, numpy.ndarray):
            raise ValueError(
                "word2vec trains on the CPU: the vocab's vectors are on another "
                "device. Train without --gpu-id; the vectors then work anywhere."
            )
        if self._state is None or self._state.vectors is not vectors:
            self._state = _TrainingState(vectors, self.model)
        return self._state

    def from_disk(self, path: Path, *, exclude: Iterable[str] = tuple()) -> "Word2Vec":
        path = util.ensure_path(path)
        self.wait()
        self._state = None
        load = super().from_disk
        load_or_explain(
            "word2vec", path, ["model"], exclude, lambda: load(path, exclude=exclude)
        )
        self._restore_key_attr()
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        self.wait()
        self._state = None
        super().from_bytes(bytes_data, exclude=exclude)
        self._restore_key_attr()
        return self

    def _restore_key_attr(self) -> None:
        """spaCy 3.8 saves a vectors table's key attribute only for floret
        tables, so a loaded table is keyed by ORTH again. The pipeline loads
        the vocab before its components: set the attribute back here."""
        vectors = self.vocab.vectors
        wanted = key_attr_id(self.model)
        if vectors.shape[0] and vectors.mode == "default" and vectors.attr != wanted:
            vectors._set_cfg({"mode": "default", "attr": wanted})

    def to_disk(self, path: Path, *, exclude: Iterable[str] = tuple()) -> None:
        self.wait()  # nlp.to_disk writes the vocab (the vectors) after components
        super().to_disk(path, exclude=exclude)

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        self.wait()
        return super().to_bytes(exclude=exclude)


class _TrainingState:
    """Arrays derived from the vocabulary: key lookup, subsampling, noise."""

    def __init__(self, vectors: Vectors, model: Model) -> None:
        self.vectors = vectors
        self.attr = key_attr_id(model)
        keys = numpy.zeros(len(vectors.key2row), dtype="uint64")
        rows = numpy.zeros(len(vectors.key2row), dtype="int64")
        for i, (key, row) in enumerate(vectors.key2row.items()):
            keys[i], rows[i] = key, row
        order = numpy.argsort(keys)
        self.sorted_keys, self.sorted_rows = keys[order], rows[order]
        counts = numpy.asarray(model.attrs["counts"], dtype="int64")
        self.keep = keep_probabilities(counts, model.attrs["sample"])
        self.noise = noise_table(counts)
        self._is_newline: Dict[int, bool] = {}

    def encode(self, docs: List[Doc]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """The keys of all words (whitespace tokens left out, as in counting),
        and where each sentence starts. Context windows stay inside docs and
        sentences: a sentence ends at a line break (a whitespace token with a
        newline) and at a sentence start the doc marks."""
        all_keys, starts, offset = [], [numpy.zeros(1, dtype="int64")], 0
        for doc in docs:
            array = doc.to_array([self.attr, ORTH, IS_SPACE, SENT_START])
            space = array[:, 2] == 1
            keys = array[~space, 0]
            if not len(keys):
                continue
            breaks = space & self._newlines(array[:, 1], space)
            first = numpy.zeros(len(doc), dtype=bool)
            first[1:] = breaks[:-1]
            if doc.has_annotation("SENT_START"):
                first |= array[:, 3] == 1
            # a sentence starts at the first word at or after each marked token
            words_before = numpy.cumsum(~space) - ~space
            sentence_starts = numpy.unique(words_before[first])
            inside = (sentence_starts > 0) & (sentence_starts < len(keys))
            starts.append(offset + sentence_starts[inside])
            all_keys.append(keys)
            offset += len(keys)
            starts.append(numpy.array([offset], dtype="int64"))
        if not all_keys:
            return numpy.zeros(0, "uint64"), numpy.zeros(1, "int64")
        return numpy.concatenate(all_keys), numpy.concatenate(starts).astype("int64")

    def _newlines(self, orths: numpy.ndarray, space: numpy.ndarray) -> numpy.ndarray:
        """Which tokens are whitespace with a line break (checked once per
        distinct whitespace string)."""
        for key in numpy.unique(orths[space]).tolist():
            if key not in self._is_newline:
                self._is_newline[key] = "\n" in self.vectors.strings[key]
        newline = [key for key, value in self._is_newline.items() if value]
        return numpy.isin(orths, numpy.asarray(newline, dtype="uint64"))


class KeyCounter:
    """Counts the keys of the docs' tokens (whitespace tokens left out)."""

    def __init__(self, attr: int) -> None:
        self.attr = attr
        self.n_words = 0
        self.counts: Dict[int, int] = {}
        self._pending: List[numpy.ndarray] = []
        self._n_pending = 0

    def add(self, doc: Doc) -> None:
        """Count the doc's words, whitespace left out."""
        if not len(doc):
            return
        array = doc.to_array([self.attr, IS_SPACE])
        keys = array[array[:, 1] == 0, 0]
        self.n_words += len(keys)
        self._pending.append(keys)
        self._n_pending += len(keys)
        if self._n_pending >= COUNT_CHUNK:
            self._flush()

    def add_words(self, word_counts: Dict[str, int], vocab: Vocab) -> None:
        """Add counts of words (strings), keyed as tokens of those words are."""
        words = list(word_counts)
        if not words:
            return
        array = Doc(vocab, words=words).to_array([self.attr, IS_SPACE])
        for (key, is_space), word in zip(array.tolist(), words):
            if not is_space:
                self.counts[key] = self.counts.get(key, 0) + word_counts[word]
                self.n_words += word_counts[word]

    def _flush(self) -> None:
        if not self._pending:
            return
        keys, counts = numpy.unique(
            numpy.concatenate(self._pending), return_counts=True
        )
        for key, count in zip(keys.tolist(), counts.tolist()):
            self.counts[key] = self.counts.get(key, 0) + count
        self._pending, self._n_pending = [], 0

    def vocabulary(
        self, min_count: int, max_vocab: Optional[int]
    ) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Keys seen at least min_count times, most frequent first (ties by
        key, so the order is reproducible), and their counts."""
        self._flush()
        if not self.n_words:
            raise ValueError(
                "word2vec: the training corpus has no words. Check --paths.train."
            )
        kept = [
            (count, key) for key, count in self.counts.items() if count >= min_count
        ]
        if not kept:
            raise ValueError(
                f"word2vec: no word occurs at least min_count={min_count} times in "
                f"the {self.n_words:,} words of the training corpus. Lower "
                "min_count or train on more text."
            )
        kept.sort(key=lambda item: (-item[0], item[1]))
        if max_vocab is not None:
            kept = kept[:max_vocab]
        counts = numpy.array([count for count, _ in kept], dtype="int64")
        keys = numpy.array([key for _, key in kept], dtype="uint64")
        return keys, counts


def learning_rate(attrs: Dict, progress: float) -> float:
    """The rate after `progress` (0 to 1) of the planned words: linear from
    alpha to min_alpha."""
    progress = min(progress, 1.0)
    return attrs["alpha"] - (attrs["alpha"] - attrs["min_alpha"]) * progress


def kernel_arguments(
    component: Word2Vec,
    lookup: Tuple[numpy.ndarray, numpy.ndarray],
    keys: numpy.ndarray,
    starts: numpy.ndarray,
    alphas: Tuple[float, float],
    seed: int,
    n_parts: int,
) -> List[Tuple]:
    """train_sentences' arguments for each of up to n_parts runs of the
    sentences keys[starts[i]:starts[i + 1]] (starts[0] == 0), to train at
    once: the rate falls from alphas[0] to alphas[1] over all of them, and
    lookup gives the sorted keys and their rows."""
    attrs = component.model.attrs
    state = component.training_state()
    total = max(len(keys), 1)
    arguments = []
    for part, (first, last) in enumerate(split_sentences(starts, n_parts)):
        lo, hi = int(starts[first]), int(starts[last])
        arguments.append(
            (
                keys[lo:hi],
                starts[first : last + 1] - lo,
                *lookup,
                component.vocab.vectors.data,
                component.model.get_param("syn1neg"),
                state.noise,
                state.keep,
                attrs["architecture"] == "skipgram",
                attrs["window"],
                attrs["negative"],
                alphas[0] + (alphas[1] - alphas[0]) * lo / total,
                alphas[0] + (alphas[1] - alphas[0]) * hi / total,
                (seed + part) % (1 << 63),
            )
        )
    return arguments


def split_sentences(starts: numpy.ndarray, n_parts: int) -> List[Tuple[int, int]]:
    """Cut the sentences into up to n_parts contiguous runs of similar size."""
    n_sents = len(starts) - 1
    bounds = numpy.searchsorted(starts, numpy.linspace(0, starts[-1], n_parts + 1))
    bounds = sorted(set(numpy.clip(bounds, 0, n_sents).tolist()) | {0, n_sents})
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
