"""spacy-lstm.PretrainBiLM.v1: a forward and backward language-model objective
for `spacy pretrain`, ELMo-style, on an encoder with separate directions."""

from typing import Callable, List, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import CosineDistance, Linear, Model, Ops
from thinc.types import Floats2d


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
