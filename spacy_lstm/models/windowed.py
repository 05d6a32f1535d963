"""spacy-lstm.WindowedTok2Vec.v1: spacy.Tok2Vec.v2 whose memory does not grow
with the length of a doc at inference."""

from typing import Callable, List, Tuple

from spacy.ml.models.tok2vec import build_Tok2Vec_model
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from .torch_gemm import bfloat16_gemm, use_torch_gemm
from .torch_wrapper import InPlaceUpdateShim


@registry.architectures("spacy-lstm.WindowedTok2Vec.v1")
def build_windowed_tok2vec(
    embed: Model[List[Doc], List[Floats2d]],
    encode: Model[List[Floats2d], List[Floats2d]],
    window: int = 2048,
    context: int = 128,
) -> Model[List[Doc], List[Floats2d]]:
    """spacy.Tok2Vec.v2 (embed, then encode), except that at inference a doc
    longer than `window` tokens is encoded in windows of `window` tokens, each
    read with `context` tokens on either side, so peak memory stays that of a
    window-long doc. One thinc call keeps every intermediate array of the
    embedding and the encoder, about 8 KB per token here, so a 100,000-token
    doc would otherwise need about 0.8 GB at once. Training and docs up to
    `window` tokens are unchanged; beyond it, a token's vector sees `context`
    tokens or more of each side instead of the whole doc. On CPU, the
    embedding's matrix products run in torch, on the encoder's threads, not in
    thinc's single-threaded BLIS, and in bfloat16 at inference where the
    encoder runs in bfloat16.

    embed (Model[List[Doc], List[Floats2d]]): As in spacy.Tok2Vec.v2.
    encode (Model[List[Floats2d], List[Floats2d]]): As in spacy.Tok2Vec.v2.
    window (int): The longest doc encoded in one piece at inference.
    context (int): Tokens read on either side of a window.
    RETURNS (Model[List[Doc], List[Floats2d]]): The tok2vec.
    """
    if window < 1 or context < 0:
        raise ValueError(
            f"WindowedTok2Vec needs window >= 1 and context >= 0, got {window} "
            f"and {context}."
        )
    # The embedding's maxout multiplies on torch's threads (see torch_gemm).
    tok2vec = use_torch_gemm(build_Tok2Vec_model(embed, encode))
    model: Model[List[Doc], List[Floats2d]] = Model(
        "windowed_tok2vec",
        forward,
        init=init,
        layers=[tok2vec],
        refs={"embed": embed, "encode": encode},
        dims={"nO": tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None},
        attrs={"window": window, "context": context},
    )
    return model


def init(model: Model, X=None, Y=None) -> None:
    """Initialise the wrapped tok2vec and take its output width."""
    model.layers[0].initialize(X=X, Y=Y)
    if not model.has_dim("nO"):
        model.set_dim("nO", model.layers[0].get_dim("nO"))


def forward(
    model: Model[List[Doc], List[Floats2d]], docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    """Run the tok2vec as is in training and on short docs; at inference,
    encode a long doc window by window with context on either side."""
    if is_train:
        return model.layers[0](docs, is_train)
    with bfloat16_gemm(encoder_runs_in_bfloat16(model)):
        return encode_for_inference(model, docs)


def encode_for_inference(
    model: Model[List[Doc], List[Floats2d]], docs: List[Doc]
) -> Tuple[List[Floats2d], Callable]:
    """The vectors of the docs at inference, long docs window by window."""
    tok2vec = model.layers[0]
    window = model.attrs["window"]
    if all(len(doc) <= window for doc in docs):
        return tok2vec(docs, False)
    short = [doc for doc in docs if len(doc) <= window]
    vectors = iter(tok2vec.predict(short) if short else [])
    outputs = [
        next(vectors) if len(doc) <= window else encode_in_windows(model, doc)
        for doc in docs
    ]

    def backprop(d_outputs: List[Floats2d]) -> List[Doc]:
        raise ValueError("WindowedTok2Vec cuts long docs only at inference.")

    return outputs, backprop


def encoder_runs_in_bfloat16(model: Model) -> bool:
    """Whether the encoder's torch layers predict in bfloat16 (the precision
    set, on this device): the embedding's products then follow it."""
    return any(
        isinstance(shim, InPlaceUpdateShim) and shim.runs_in_bfloat16()
        for node in model.get_ref("encode").walk()
        for shim in node.shims
    )


def encode_in_windows(model: Model, doc: Doc) -> Floats2d:
    """The vectors of a long doc, window by window."""
    tok2vec = model.layers[0]
    window, context = model.attrs["window"], model.attrs["context"]
    output = model.ops.alloc2f(len(doc), model.get_dim("nO"))
    for start in range(0, len(doc), window):
        end = min(start + window, len(doc))
        first, last = max(0, start - context), min(len(doc), end + context)
        (vectors,) = tok2vec.predict([doc[first:last].as_doc()])
        output[start:end] = vectors[start - first : end - first]
    return output
