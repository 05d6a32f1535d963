"""lstm_lm: a recurrent language model component (word or character level).

It annotates each token with its surprisal, -log2 p(token | the tokens before
it in the doc), in bits, and each doc with its perplexity, 2 ** (mean surprisal
per token). The first token is predicted after <eos>, the sentence boundary.
"""

import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import srsly
import torch
from spacy import util
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Token
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer

from ..extensions import install_extension
from ..models.language_model import set_vocab_size, torch_module
from ..precision import autocast, check_precision, inference_dtype
from ..torch_modules.gates import MAIN_GATES
from ..torch_modules.language_model import detach_state
from ..training.readers import EOS, LMStreamCorpus
from ..util import KeepsVectorsKey, load_or_explain
from .lm_queries import LOG2, LanguageModelQueries

UNK = "<unk>"
SPECIALS = [UNK, EOS]
KEYS = ("ORTH", "LOWER", "NORM")
# initialize warns when more of the training tokens than this are unknown
MAX_UNKNOWN_SHARE = 0.2

default_model_config = """
[model]
@architectures = "spacy-lstm.LSTMLanguageModel.v1"
width = 200
depth = 2
cell = "lstm"
dropout = 0.2
tie = true
adaptive_cutoffs = null
sampled_softmax = 0
"""
DEFAULT_LM_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "lstm_lm",
    assigns=["doc._.lm_surprisal"],
    default_config={
        "model": DEFAULT_LM_MODEL,
        "level": "word",
        "key": "ORTH",
        "max_vocab": 50000,
        "min_freq": 1,
        "grad_clip": 0.25,
        "precision": "auto",
        "store_gates": False,
        "unknown_suffixes": [],
    },
    # lm_ppl is lower-is-better: shown in spacy train's table, not optimised
    default_score_weights={"lm_acc": 1.0, "lm_ppl": 0.0},
)
def make_language_model(
    nlp: Language,
    name: str,
    model: Model,
    level: str,
    key: str,
    max_vocab: int,
    min_freq: int,
    grad_clip: float,
    precision: str,
    store_gates: bool,
    unknown_suffixes: List[str],
    bfloat16_inference: Optional[bool] = None,
) -> "LanguageModel":
    """A language model over words or characters.

    level (str): "word" or "char".
    key (str): For words, the token attribute that names them: ORTH, LOWER
        or NORM.
    max_vocab (int): Keep at most this many of the most frequent words or
        characters (the rest are <unk>).
    min_freq (int): Leave out words seen fewer times in training.
    grad_clip (float): Clip the gradient's global norm to this (0: off).
    precision (str): What the surprisal that nlp() and nlp.pipe set is
        computed in: "auto" (bfloat16, through torch's autocast, where the
        hardware computes it natively: AVX512-BF16 or AMX CPUs, CUDA GPUs that
        support it, about twice as fast there; float32 elsewhere), "float32"
        or "bfloat16". Training, evaluation and the perplexity command stay
        in float32. See spacy_lstm.set_precision.
    store_gates (bool): Also store each token's mean gate activations per
        layer in doc._.lm_gates (read through token._.gates): an LSTM's forget,
        input and output gates, a GRU's update and reset gates. Off by
        default: the gates are recomputed step by step, which makes nlp()
        several times slower; for looking inside, not for bulk processing.
    unknown_suffixes (List[str]): Word models only. A word outside the
        vocabulary becomes <unk-SUFFIX> for the longest of these suffixes it
        ends with, else <unk>: with ["s"], an unseen "pipefitters" still tells
        the model that a plural noun may have come.
    bfloat16_inference (Optional[bool]): The setting precision replaced,
        read from pipelines saved before it: true means "auto".
    """
    if bfloat16_inference:
        precision = "auto"
    return LanguageModel(
        nlp.vocab, model, name, level=level, key=key, max_vocab=max_vocab,
        min_freq=min_freq, grad_clip=grad_clip, precision=precision,
        store_gates=store_gates, unknown_suffixes=unknown_suffixes,
    )  # fmt: skip


def unknown_class(suffix: str) -> str:
    """The token of unknown words that end with the suffix."""
    return f"<unk-{suffix}>"


def _surprisal_of(token: Token) -> Optional[float]:
    """The token's surprisal in bits; None for a whitespace token of a word
    model, which the model does not read."""
    values = token.doc._.lm_surprisal
    if values is None or numpy.isnan(values[token.i]):
        return None
    return float(values[token.i])


def _gates_of(token: Token) -> Optional[Dict[str, List[float]]]:
    """The token's mean gate activations, one per layer, by gate; None when
    the component does not store them or does not read the token."""
    gates = token.doc._.lm_gates
    if not gates or numpy.isnan(next(iter(gates.values()))[token.i, 0]):
        return None
    return {name: values[token.i].tolist() for name, values in gates.items()}


def _perplexity_of(doc: Doc) -> Optional[float]:
    values = doc._.lm_surprisal
    if values is None or not numpy.any(~numpy.isnan(values)):
        return None
    return float(2.0 ** numpy.nanmean(values))


def install_extensions() -> None:
    """Install the Doc and Token extensions lstm_lm sets."""
    install_extension(Doc, "lm_surprisal", "lstm_lm", default=None)
    install_extension(Token, "surprisal", "lstm_lm", getter=_surprisal_of)
    install_extension(Doc, "perplexity", "lstm_lm", getter=_perplexity_of)
    install_extension(Doc, "lm_gates", "lstm_lm", default=None)
    install_extension(Token, "gates", "lstm_lm", getter=_gates_of)


class LanguageModel(LanguageModelQueries, KeepsVectorsKey, TrainablePipe):
    """Predicts each token from the tokens before it, over words or
    characters, and stores the surprisal of every token (bits) in
    `doc._.lm_surprisal`, read through `token._.surprisal` and
    `doc._.perplexity`. Beyond annotation it suggests next words, fills
    blanks and generates text. It keeps its vocabulary (built from the
    training data) and its settings in the saved pipeline."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "lstm_lm",
        *,
        level: str = "word",
        key: str = "ORTH",
        max_vocab: int = 50000,
        min_freq: int = 1,
        grad_clip: float = 0.25,
        precision: str = "auto",
        store_gates: bool = False,
        unknown_suffixes: Sequence[str] = (),
    ) -> None:
        if level not in ("word", "char"):
            raise ValueError(f"lstm_lm level must be 'word' or 'char', got {level!r}.")
        if key not in KEYS:
            raise ValueError(f"lstm_lm key must be one of {KEYS}, got {key!r}.")
        if max_vocab < 3 or min_freq < 1:
            raise ValueError(
                "lstm_lm max_vocab must be at least 3 (<unk>, <eos> and a word) and "
                f"min_freq at least 1, got {max_vocab} and {min_freq}."
            )
        if not (math.isfinite(grad_clip) and grad_clip >= 0):
            raise ValueError(
                f"lstm_lm grad_clip must be >= 0 (0: no clipping), got {grad_clip}."
            )
        unknown_suffixes = list(unknown_suffixes)
        if unknown_suffixes and level != "word":
            raise ValueError("lstm_lm unknown_suffixes are for word models only.")
        valid = [isinstance(s, str) and s.strip() == s != "" for s in unknown_suffixes]
        if not all(valid) or len(set(unknown_suffixes)) != len(unknown_suffixes):
            raise ValueError(
                "lstm_lm unknown_suffixes must be distinct non-empty strings, "
                f"got {unknown_suffixes!r}."
            )
        if max_vocab < 3 + len(unknown_suffixes):
            raise ValueError(
                f"lstm_lm max_vocab ({max_vocab}) leaves no room for a word beside "
                f"<unk>, <eos> and the {len(unknown_suffixes)} unknown-word classes."
            )
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg = {
            "level": level, "key": key, "max_vocab": max_vocab,
            "min_freq": min_freq, "grad_clip": grad_clip, "tokens": [],
            "precision": check_precision(precision, "lstm_lm precision"),
            "store_gates": store_gates,
            "unknown_suffixes": unknown_suffixes,
        }  # fmt: skip
        self._index: Dict[str, int] = {}
        self._state: Optional[Tuple[List[int], object]] = None
        install_extensions()

    @property
    def tokens(self) -> List[str]:
        """The vocabulary, special tokens first, then by frequency."""
        return self.cfg["tokens"]

    # --- ids ---------------------------------------------------------------
    def _token_index(self) -> Dict[str, int]:
        if len(self._index) != len(self.tokens):
            self._index = {token: i for i, token in enumerate(self.tokens)}
        return self._index

    def _units(self, doc: Doc) -> List[str]:
        """What the model predicts: the doc's characters, or its words (see
        _reads)."""
        if self.cfg["level"] == "char":
            return list(doc.text)
        # Arrays, not Token objects: making one per token was a third of the
        # component's time in a pipeline.
        strings = doc.vocab.strings
        keys = doc.to_array(self.cfg["key"]).tolist()
        spaces = doc.to_array(IS_SPACE).tolist()
        return [
            EOS if space else strings[key]
            for key, space, read in zip(keys, spaces, self._reads(doc))
            if read
        ]

    def _reads(self, doc: Doc) -> List[bool]:
        """Which tokens a word model reads: every word, and a whitespace token
        only if it breaks the line, as <eos> (the training streams end each
        line with <eos>). Other whitespace (a double space) is not a word."""
        spaces = doc.to_array(IS_SPACE).tolist()
        return [not space or "\n" in doc[i].text for i, space in enumerate(spaces)]

    def _unknown_tokens(self) -> List[str]:
        """<unk> and the <unk-SUFFIX> classes of unknown words."""
        suffixes = self.cfg.get("unknown_suffixes", [])
        return [UNK] + [unknown_class(suffix) for suffix in suffixes]

    def _ids(self, units: List[str]) -> List[int]:
        index = self._token_index()
        suffixes = sorted(self.cfg.get("unknown_suffixes", []), key=len, reverse=True)
        if not suffixes:
            unk = index[UNK]
            return [index.get(unit, unk) for unit in units]
        ids = []
        for unit in units:
            found = index.get(unit)
            if found is None:
                suffix = next((s for s in suffixes if unit.endswith(s)), None)
                found = index[UNK if suffix is None else unknown_class(suffix)]
            ids.append(found)
        return ids

    # --- training ----------------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        corpus: Optional[str] = None,
    ) -> None:
        """Build the vocabulary from the training data and size the model.

        corpus (Optional[str]): A corpus in the config, e.g. "corpora.train",
            to build the vocabulary from: spacy train passes only 100 examples
            to initialize when the corpus is streamed."""
        validate_get_examples(get_examples, "LanguageModel.initialize")
        reader = None
        if corpus is not None:
            if nlp is None:
                raise ValueError(
                    "lstm_lm: initialize(corpus=...) needs the nlp object."
                )
            reader = util.resolve_dot_names(nlp.config.interpolate(), [corpus])[0]
            get_examples = lambda: reader(nlp)  # noqa: E731
        elif nlp is not None and nlp.config["training"].get("max_epochs") == -1:
            # spacy train then hands initialize only the first 100 examples
            raise ValueError(
                "lstm_lm would build its vocabulary from the first 100 examples "
                "only: with a streamed corpus ([training] max_epochs = -1) spacy "
                "train passes no more to initialize. Name the whole corpus in the "
                'config: [initialize.components.lstm_lm] corpus = "corpora.train".'
            )
        if isinstance(reader, LMStreamCorpus):
            next(iter(reader(nlp)))  # a text too short for its streams: an error
            counts = self._stream_counts(reader.tokens(nlp))
        else:
            counts = Counter()
            for eg in get_examples():
                counts.update(self._units(eg.reference))
        unknown_tokens = self._unknown_tokens()
        for special in SPECIALS + unknown_tokens:
            counts.pop(special, None)
        if not counts:
            raise ValueError("lstm_lm: the training corpus has no tokens.")
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [unit for unit, count in ranked if count >= self.cfg["min_freq"]]
        specials = SPECIALS + unknown_tokens[1:]
        kept = kept[: self.cfg["max_vocab"] - len(specials)]
        if not kept:
            raise ValueError(
                f"lstm_lm: no word occurs at least min_freq={self.cfg['min_freq']} "
                f"times in the {sum(counts.values()):,} tokens of the training "
                "corpus. Lower min_freq or train on more text."
            )
        unknown = 1 - sum(counts[unit] for unit in kept) / sum(counts.values())
        if unknown > MAX_UNKNOWN_SHARE:
            warnings.warn(
                f"lstm_lm: {unknown:.0%} of the training tokens are outside the "
                f"{len(kept):,}-word vocabulary (unknown words); its accuracy "
                "and perplexity then say little. Raise max_vocab or lower min_freq."
            )
        self.cfg["tokens"] = specials + kept
        set_vocab_size(self.model, len(self.tokens))
        self._state = None

    def _stream_counts(self, stream: List[str]) -> Counter:
        """The units of a text stream counted once each, keyed as _units keys
        a doc's tokens: minutes faster on a large corpus than a doc per window."""
        counts = Counter(stream)
        if self.cfg["level"] == "char" or self.cfg["key"] == "ORTH":
            return counts
        attr = self.cfg["key"].lower() + "_"
        keyed: Counter = Counter()
        for word, count in counts.items():
            keyed[getattr(self.vocab[word], attr)] += count
        return keyed

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """One window of truncated backpropagation through time per example.
        Examples from spacy-lstm.LMStream.v1 continue the recurrent state of
        the previous update's window of the same stream; others start fresh.
        Dropout is the model's own (`dropout`), not spaCy's."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "LanguageModel.update")
        if not self.tokens:
            raise ValueError("lstm_lm is not initialized: run nlp.initialize() first.")
        rows = [self._ids(self._units(eg.reference)) for eg in examples]
        length = min(len(row) for row in rows) if rows else 0
        if length < 2:
            return losses
        module = torch_module(self.model)
        device = next(module.parameters()).device
        ids = torch.tensor([row[:length] for row in rows], device=device)
        places = [eg.reference.user_data.get("lm_window") for eg in examples]
        state = self._carried_state(places)
        module.train()
        hidden, new_state = module(ids[:, :-1], state)
        loss = module.loss(hidden, ids[:, 1:]) / ids[:, 1:].numel()
        loss.backward()
        if self.cfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(module.parameters(), self.cfg["grad_clip"])
        self._state = (places, detach_state(new_state))
        losses[self.name] += float(loss.detach())
        if sgd not in (None, False):
            self.finish_update(sgd)
        return losses

    def _carried_state(self, places: List):
        """The previous update's final state, if this batch continues it."""
        if self._state is None or None in places:
            return None
        previous, state = self._state
        if len(previous) != len(places) or None in previous:
            return None
        if all(s == ps and k == pk + 1 for (s, k), (ps, pk) in zip(places, previous)):
            return state
        return None

    def get_loss(self, examples, scores):
        raise NotImplementedError("lstm_lm computes its loss inside update().")

    # --- applying ----------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Per-token surprisal in bits for each doc."""
        docs = list(docs)
        if not self.tokens:
            raise ValueError("lstm_lm is not initialized: run nlp.initialize() first.")
        units = [self._units(doc) for doc in docs]
        ids = [self._ids(doc_units) for doc_units in units]
        # Saved before the precision setting: bfloat16_inference (true: auto)
        precision = self.cfg.get("precision")
        if precision is None:
            precision = "auto" if self.cfg.get("bfloat16_inference") else "float32"
        device = next(torch_module(self.model).parameters()).device
        bits = self._batch_surprisal(ids, dtype=inference_dtype(precision, device))
        return [self._token_bits(doc, b) for doc, b in zip(docs, bits)]

    def set_annotations(self, docs: Iterable[Doc], surprisals) -> None:
        for doc, values in zip(docs, surprisals):
            doc._.lm_surprisal = values
            if self.cfg.get("store_gates"):
                doc._.lm_gates = self._token_gates(doc)

    def _token_gates(self, doc: Doc) -> Dict[str, numpy.ndarray]:
        """Per token and layer, the mean activation of each main gate (a
        character model: the mean over the token's characters); NaN rows for
        the tokens a word model does not read."""
        gates = self.gates(doc)
        shown = MAIN_GATES.get(gates["cell"], ())
        out = {}
        for name in shown:
            per_unit = numpy.stack(
                [layer[name].mean(axis=1) for layer in gates["layers"]], axis=1
            ).reshape(len(gates["units"]), len(gates["layers"]))
            out[name] = self._token_means(doc, per_unit)
        return out

    def _token_means(self, doc: Doc, per_unit: numpy.ndarray) -> numpy.ndarray:
        """(n_units, k) values to (n_tokens, k): a word model's read tokens
        get their rows (NaN for the others), a character model's tokens the
        mean over their characters (whitespace after a token goes to it)."""
        out = numpy.full((len(doc), per_unit.shape[1]), numpy.nan, dtype="float32")
        if self.cfg["level"] == "word":
            out[numpy.asarray(self._reads(doc), dtype=bool)] = per_unit
            return out
        ends = numpy.array([t.idx + len(t.text_with_ws) for t in doc])
        char_token = numpy.searchsorted(ends, numpy.arange(len(per_unit)), side="right")
        for i in range(len(doc)):
            rows = per_unit[char_token == i]
            if len(rows):
                out[i] = rows.mean(axis=0)
        return out

    def _batch_surprisal(
        self,
        sequences: List[List[int]],
        batch_size: int = 32,
        dtype: torch.dtype = torch.float32,
        wrap_steps: Callable[[Iterable, int], Iterable] = lambda steps, n: steps,
    ) -> List[numpy.ndarray]:
        """Bits for each id of each sequence, given <eos> before its first and
        the state carried across it; the sequences run side by side in batches
        of similar length. The padding goes at the end, where a left-to-right
        model cannot see it from the real tokens. With dtype bfloat16, the
        matrix products run in bfloat16 (the softmax itself in float32).
        wrap_steps wraps each batch's chunks of steps (a progress bar)."""
        module = torch_module(self.model)
        device = next(module.parameters()).device
        module.eval()
        eos = self._token_index()[EOS]
        out: List[numpy.ndarray] = [numpy.zeros(0, dtype="float32")] * len(sequences)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        order = [i for i in order if sequences[i]]
        for group_start in range(0, len(order), batch_size):
            group = order[group_start : group_start + batch_size]
            width = len(sequences[group[-1]])
            context = torch.full((len(group), width), eos, dtype=torch.long)
            targets = torch.full((len(group), width), eos, dtype=torch.long)
            for row, i in enumerate(group):
                ids = torch.tensor(sequences[i], dtype=torch.long)
                targets[row, : len(ids)] = ids
                context[row, 1 : len(ids)] = ids[:-1]
            context, targets = context.to(device), targets.to(device)
            lengths = torch.tensor([len(sequences[i]) for i in group], device=device)
            real = torch.arange(width, device=device)[None, :] < lengths[:, None]
            log_probs = torch.zeros(len(group), width, device=device)
            # bounded memory for long docs: chunks of steps, the state carried
            step = max(1, 4096 // len(group))
            state = None
            starts = range(0, width, step)
            with torch.no_grad(), autocast(dtype, device):
                for start in wrap_steps(starts, len(starts)):
                    span = slice(start, start + step)
                    hidden, state = module(context[:, span], state)
                    # the softmax is most of the work: skip it on the padding
                    keep = real[:, span]
                    # the adaptive softmax answers in its input's dtype
                    # (bfloat16 under autocast); the surprisals stay float32
                    log_probs[:, span][keep] = module.target_log_probs(
                        hidden[keep], targets[:, span][keep]
                    ).to(log_probs.dtype)
            bits = (-log_probs / LOG2).cpu().numpy()
            for row, i in enumerate(group):
                out[i] = bits[row, : len(sequences[i])]
        return out

    def _token_bits(self, doc: Doc, bits: numpy.ndarray) -> numpy.ndarray:
        """Per-token bits from per-unit bits; NaN for the tokens a word model
        does not read."""
        if self.cfg["level"] == "word":
            per_token = numpy.full(len(doc), numpy.nan, dtype="float32")
            per_token[numpy.asarray(self._reads(doc), dtype=bool)] = bits
            return per_token
        # a token's surprisal is the sum over its characters (whitespace after
        # it goes to the token)
        per_token = numpy.zeros(len(doc), dtype="float32")
        if len(doc) == 0:
            return per_token
        ends = numpy.array([t.idx + len(t.text_with_ws) for t in doc])
        char_token = numpy.searchsorted(ends, numpy.arange(len(bits)), side="right")
        numpy.add.at(per_token, numpy.minimum(char_token, len(doc) - 1), bits)
        return per_token

    # --- using the model -------------------------------------------------------
    # --- scores ------------------------------------------------------------
    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, float]:
        """lm_ppl: perplexity over the examples' tokens (natural log, as
        published); lm_acc: how often the most likely next token is right.
        Windows of the same stream (spacy-lstm.LMStream.v1) carry the state."""
        module = torch_module(self.model)
        device = next(module.parameters()).device
        module.eval()
        nll, correct, count = 0.0, 0, 0
        states: Dict = {}
        with torch.no_grad():
            for eg in examples:
                ids = self._ids(self._units(eg.reference))
                place = eg.reference.user_data.get("lm_window")
                if place is None:  # a doc on its own: predicted after <eos>
                    ids = [self._token_index()[EOS]] + ids
                    state = None
                else:
                    state = states.get(place[0])
                if len(ids) < 2:
                    continue
                x = torch.tensor([ids], device=device)
                hidden, new_state = module(x[:, :-1], state)
                if place is not None:
                    states[place[0]] = new_state
                log_probs = module.log_probs(hidden)[0]
                targets = x[0, 1:]
                nll -= float(log_probs.gather(1, targets[:, None]).sum())
                correct += int((log_probs.argmax(dim=1) == targets).sum())
                count += len(targets)
        if not count:
            return {"lm_ppl": None, "lm_acc": None}
        return {"lm_ppl": math.exp(nll / count), "lm_acc": correct / count}

    # --- serialization -----------------------------------------------------
    def from_disk(self, path: Path, *, exclude: Iterable[str] = tuple()):
        path = util.ensure_path(path)

        load_weights = super().from_disk

        def load() -> None:
            self.cfg.update(srsly.read_json(path / "cfg"))
            load_weights(path, exclude=exclude)

        load_or_explain("lstm_lm", path, ["cfg", "model"], exclude, load)
        self._index = {}
        self._state = None
        return self
