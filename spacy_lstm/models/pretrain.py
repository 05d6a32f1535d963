"""spacy-lstm.PretrainBiLM.v1: a forward and backward language-model objective
for `spacy pretrain`, ELMo-style, on an encoder with separate directions, and
spacy-lstm.init_from_bilm.v1, which starts a tok2vec from its weights."""

import io
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import srsly
import torch
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import CosineDistance, Linear, Model, Ops
from thinc.types import Floats2d

from ..torch_modules.rnn import mixed_state_from_separate


@registry.architectures("spacy-lstm.PretrainBiLM.v1")
def create_bilm_objective() -> Callable[[Vocab, Model], Model]:
    """The `[pretraining.objective]` of `spacy pretrain` for a tok2vec whose
    encoder is spacy-lstm.BiLSTMEncoder.v1 with `separate_directions = true`:
    from the forward half of each token's vector, predict the static vector of
    the next word; from the backward half, that of the previous word (cosine
    loss, like spacy.PretrainVectors.v1). The halves cannot see the word they
    predict, so unlike spaCy's own objectives, which predict a token from a
    vector that was computed from that token, this is a real language model,
    and it pretrains every layer. Words without a vector are left out.

    spacy-lstm's own `lstm_lm` cannot initialise the parser's encoder: its
    input is a word-embedding table, the encoder's is spaCy's hashed
    features, and a stacked BiLSTM mixes the directions after its first layer.
    """

    def create(vocab: Vocab, tok2vec: Model) -> Model:
        if vocab.vectors.shape[0] == 0:
            raise ValueError(
                "spacy-lstm.PretrainBiLM.v1 predicts static vectors, but the "
                "vocab has none: set [initialize] vectors (e.g. a word2vec "
                "pipeline) in the config."
            )
        if not _has_separate_directions(tok2vec):
            raise ValueError(
                "spacy-lstm.PretrainBiLM.v1 needs a spacy-lstm.BiLSTMEncoder.v1 "
                "with separate_directions = true in the pretrained tok2vec; with "
                "the directions mixed, each half sees the word it should predict."
            )
        n_vectors = vocab.vectors.shape[1]
        return Model(
            "bilm_objective",
            forward,
            init=init,
            layers=[tok2vec, Linear(n_vectors), Linear(n_vectors)],
            refs={"tok2vec": tok2vec},  # what spacy pretrain saves
            attrs={"loss": get_loss},
        )

    return create


def _has_separate_directions(tok2vec: Model) -> bool:
    return any(
        node.name == "bilstm_encoder" and node.attrs.get("separate_directions")
        for node in tok2vec.walk()
    )


def init(model: Model, X=None, Y=None) -> None:
    """Initialise the tok2vec and size the two output layers to the vectors."""
    tok2vec, forward_out, backward_out = model.layers
    tok2vec.initialize(X=X)
    half = tok2vec.get_dim("nO") // 2
    forward_out.initialize(X=model.ops.alloc2f(1, half))
    backward_out.initialize(X=model.ops.alloc2f(1, half))


def forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[Floats2d, Callable]:
    """The predicted vectors: for the next word of every token but each doc's
    last, then for the previous word of every token but each doc's first."""
    tok2vec, forward_out, backward_out = model.layers
    Ys, backprop_tok2vec = tok2vec(docs, is_train)
    half = tok2vec.get_dim("nO") // 2
    ops = model.ops
    Pf, backprop_f = forward_out(ops.flatten([Y[:-1, :half] for Y in Ys]), is_train)
    Pb, backprop_b = backward_out(ops.flatten([Y[1:, half:] for Y in Ys]), is_train)

    def backprop(d_predicted: Floats2d) -> List[Doc]:
        dF = backprop_f(d_predicted[: len(Pf)])
        dB = backprop_b(d_predicted[len(Pf) :])
        dYs = []
        start = 0
        for Y in Ys:
            dY = ops.alloc2f(*Y.shape)
            n = max(len(Y) - 1, 0)
            dY[:-1, :half] = dF[start : start + n]
            dY[1:, half:] = dB[start : start + n]
            start += n
            dYs.append(dY)
        return backprop_tok2vec(dYs)

    return ops.xp.vstack([Pf, Pb]), backprop


def get_loss(ops: Ops, docs: List[Doc], predicted: Floats2d) -> Tuple[float, Floats2d]:
    """Cosine loss of each half of the vectors against the static vector of
    the next (forward) or previous (backward) word; words without a vector
    are left out."""
    vectors = docs[0].vocab.vectors
    rows = [vectors.find(keys=doc.to_array(vectors.attr)) for doc in docs]
    next_rows = [r[1:] for r in rows]
    previous_rows = [r[:-1] for r in rows]
    target_rows = ops.xp.asarray(ops.flatten(next_rows + previous_rows))
    target = vectors.data[target_rows]
    target[target_rows < 0] = 0  # no vector: ignored by the distance
    d_predicted, loss = CosineDistance(normalize=True, ignore_zeros=True)(
        predicted, target
    )
    return float(loss), d_predicted


@registry.callbacks("spacy-lstm.init_from_bilm.v1")
def create_init_from_bilm(
    path: Optional[Path] = None, component: str = "tok2vec"
) -> Callable[[Language], Language]:
    """An `[initialize.after_init]` callback that starts a component's tok2vec
    from the weights `spacy pretrain` saved with PretrainBiLM.v1 (a
    model*.bin), like `[initialize] init_tok2vec`, except that the tok2vec's
    BiLSTMEncoder may mix the directions although the pretrained one kept them
    apart: each upper layer then starts reading its own direction only, with
    zero weights for the other (see mixed_state_from_separate), so the
    pretrained function is kept and the parser is free to learn to mix.

    path (Optional[Path]): The pretrained weights; None does nothing.
    component (str): The pipe whose model is the tok2vec.
    """

    def init_from_bilm(nlp: Language) -> Language:
        if path is not None:
            load_bilm_weights(nlp.get_pipe(component).model, Path(path))
        return nlp

    return init_from_bilm


def load_bilm_weights(tok2vec: Model, path: Path) -> None:
    """Load pretrained tok2vec weights, widening separate-direction encoder
    layers where tok2vec's encoder mixes the directions."""
    if not path.is_file():
        raise ValueError(f"Pretrained tok2vec weights not found: {path}")
    try:
        msg = srsly.msgpack_loads(path.read_bytes())
        nodes = list(tok2vec.walk())
        if len(msg["nodes"]) != len(nodes):
            raise ValueError("the saved model has a different architecture")
        for i, node in enumerate(nodes):
            if node.name != "bilstm_encoder" or node.attrs["separate_directions"]:
                continue
            saved_attrs = msg["attrs"][i]
            if srsly.msgpack_loads(saved_attrs["separate_directions"]):
                saved_attrs["separate_directions"] = srsly.msgpack_dumps(False)
                rnn = nodes.index(node.layers[0])
                msg["shims"][rnn] = [_mix_directions(b) for b in msg["shims"][rnn]]
        tok2vec.from_dict(msg)
    except Exception as err:
        raise ValueError(
            f"Could not load the pretrained tok2vec weights from {path} "
            f"({type(err).__name__}: {err}). Pretrain with the same tok2vec "
            "settings (widths, depth, rows, attrs) as the pipeline."
        ) from err


def _mix_directions(shim_bytes: bytes) -> bytes:
    """A saved BiRNN with separate directions, as one with mixed directions."""
    shim = srsly.msgpack_loads(shim_bytes)
    # on CPU: the shim moves the weights to the current device when it loads them
    state = torch.load(io.BytesIO(shim["state"]), map_location="cpu", weights_only=True)
    buffer = io.BytesIO()
    torch.save(mixed_state_from_separate(state), buffer)
    shim["state"] = buffer.getvalue()
    return srsly.msgpack_dumps(shim)
