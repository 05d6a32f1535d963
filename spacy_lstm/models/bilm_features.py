"""spacy-lstm.BiLMFeatures.v1: a tok2vec that reads a frozen pretrained biLM's
layers, mixed as ELMo mixes them, next to its own embeddings."""

from pathlib import Path
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from .pretrain import load_bilm_weights


@registry.architectures("spacy-lstm.BiLMFeatures.v1")
def build_bilm_features_tok2vec(
    bilm: Model[List[Doc], List[Floats2d]],
    embed: Model[List[Doc], List[Floats2d]],
    encode: Model[List[Floats2d], List[Floats2d]],
) -> Model[List[Doc], List[Floats2d]]:
    """Encode each token from its own embedding concatenated with a learned
    mix of a pretrained forward and backward language model's layers. The
    language model stays frozen: it runs without dropout and gets no gradient,
    so the task cannot overwrite what it learned from raw text. As in ELMo
    (Peters et al. 2018), the mix is softmax(s) over the layers, times a scale
    gamma, both learned by the task.

    bilm (Model[List[Doc], List[Floats2d]]): The tok2vec that `spacy pretrain`
        trained with spacy-lstm.PretrainBiLM.v1, with the same settings, except
        that its spacy-lstm.BiLSTMEncoder.v1 sets all_layers = true. The
        callback spacy-lstm.init_from_bilm.v1 loads its weights (load_bilm).
    embed (Model[List[Doc], List[Floats2d]]): The trainable embedding.
    encode (Model[List[Floats2d], List[Floats2d]]): The trainable encoder;
        its nI must be the embedding's width plus the biLM encoder's width.
    """
    encoder = next((n for n in bilm.walk() if n.name == "bilstm_encoder"), None)
    if encoder is None or not encoder.attrs["all_layers"]:
        raise ValueError(
            "spacy-lstm.BiLMFeatures.v1 needs a bilm whose encoder is a "
            "spacy-lstm.BiLSTMEncoder.v1 with all_layers = true."
        )
    depth = encoder.attrs["depth"]
    model = Model(
        "bilm_features_tok2vec",
        forward,
        init=init,
        layers=[bilm, embed, encode],
        params={"layer_weights": None, "scale": None},
        dims={"nO": encode.get_dim("nO"), "depth": depth},
        attrs={"bilm_loaded": False},
    )
    return model


def load_bilm(model: Model, path: Path) -> None:
    """Load the frozen biLM's weights, saved by `spacy pretrain`."""
    load_bilm_weights(model.layers[0], path)
    model.attrs["bilm_loaded"] = True


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    bilm, embed, encode = model.layers
    bilm.initialize(X=X)
    embed.initialize(X=X)
    encode.initialize()
    model.set_param("layer_weights", model.ops.alloc1f(model.get_dim("depth")))
    model.set_param("scale", model.ops.asarray1f([1.0]))


def forward(
    model: Model, docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    bilm, embed, encode = model.layers
    if is_train and not model.attrs["bilm_loaded"]:
        # A random frozen biLM would train without complaint, and to no use.
        raise ValueError(
            "spacy-lstm.BiLMFeatures.v1: the frozen biLM has no pretrained "
            "weights. Set [paths] init_bilm to the model*.bin of spacy pretrain "
            "(configs/parser_bilm.cfg), which spacy-lstm.init_from_bilm.v1 loads."
        )
    ops = model.ops
    depth = model.get_dim("depth")
    layer_weights = model.get_param("layer_weights")
    scale = float(model.get_param("scale")[0])
    w = ops.softmax(layer_weights)
    # (n_tokens, depth, width) per doc: the biLM's layers, frozen.
    layers = [F.reshape(len(F), depth, F.shape[1] // depth) for F in bilm.predict(docs)]
    mixes = [ops.xp.einsum("l,nlw->nw", w, L) for L in layers]
    own, backprop_embed = embed(docs, is_train)
    width = own[0].shape[1] if own else 0
    Ys, backprop_encode = encode(
        [ops.xp.hstack([E, scale * M]) for E, M in zip(own, mixes)], is_train
    )

    def backprop(dYs: List[Floats2d]) -> List[Doc]:
        dXs = backprop_encode(dYs)
        d_w = ops.alloc1f(depth)
        d_scale = 0.0
        for dX, L, M in zip(dXs, layers, mixes):
            d_mixed = dX[:, width:]
            d_w += scale * ops.xp.einsum("nw,nlw->l", d_mixed, L)
            d_scale += float((d_mixed * M).sum())
        # through the softmax: dL/ds_i = w_i (g_i - sum_j w_j g_j)
        model.inc_grad("layer_weights", w * (d_w - (w * d_w).sum()))
        model.inc_grad("scale", ops.asarray1f([d_scale]))
        return backprop_embed([dX[:, :width] for dX in dXs])

    return Ys, backprop
