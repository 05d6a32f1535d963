"""spacy-lstm.LSTMLanguageModel.v1: the recurrent language model as a Thinc model.

The component drives the torch module directly (it carries the recurrent state
from one training window to the next, which a stateless Thinc forward cannot);
Thinc owns the weights, so spaCy's optimizer and serialization apply as usual.
"""

from typing import List, Optional, cast

from spacy.util import registry
from thinc.api import Model, PyTorchShim

from ..torch_modules.language_model import (
    RNNLanguageModel,
    deserialize_language_model,
    serialize_language_model,
)
from ..torch_modules.rnn import CELLS
from .torch_wrapper import TorchWrapper


@registry.architectures("spacy-lstm.LSTMLanguageModel.v1")
def build_lstm_language_model(
    width: int = 200,
    depth: int = 2,
    cell: str = "lstm",
    dropout: float = 0.2,
    tie: bool = True,
    adaptive_cutoffs: Optional[List[int]] = None,
    sampled_softmax: int = 0,
) -> Model:
    """Embeddings, `depth` unidirectional recurrent layers and a softmax.

    width (int): Embedding and hidden width.
    depth (int): Recurrent layers.
    cell (str): "lstm", "gru" or "rnn".
    dropout (float): Dropout on embeddings, between layers and on the output.
    tie (bool): Tie the input embeddings to the output softmax.
    adaptive_cutoffs (Optional[List[int]]): Frequency-rank cutoffs for an
        adaptive softmax (e.g. [2000, 10000] for a 30k+ vocabulary); ranks
        beyond the vocabulary are dropped. Not tied.
    sampled_softmax (int): Train on a softmax over the targets and this many
        sampled words per batch (e.g. 1024) instead of the whole vocabulary;
        evaluation and inference use the full, tied softmax. 0: full softmax.
    """
    if cell not in CELLS:
        raise ValueError(
            f"Unknown recurrent cell {cell!r}: expected one of {sorted(CELLS)}."
        )
    for name, value in (("width", width), ("depth", depth)):
        if value < 1:
            raise ValueError(f"LSTMLanguageModel {name} must be positive, got {value}.")
    if sampled_softmax < 0:
        raise ValueError(
            "LSTMLanguageModel sampled_softmax must be 0 or more, got "
            f"{sampled_softmax}."
        )
    if sampled_softmax and adaptive_cutoffs:
        raise ValueError(
            "LSTMLanguageModel takes adaptive_cutoffs or sampled_softmax, not both."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"LSTMLanguageModel dropout must be in [0, 1), got {dropout}.")
    settings = dict(width=width, depth=depth, cell=cell, dropout=dropout, tie=tie)
    wrapped = TorchWrapper(
        RNNLanguageModel(2, **settings),  # resized to the vocabulary in initialize
        serialize_model=serialize_language_model,
        deserialize_model=deserialize_language_model,
    )
    return Model(
        "lstm_language_model",
        _forward,
        layers=[wrapped],
        attrs={
            **settings,
            "adaptive_cutoffs": adaptive_cutoffs,
            "sampled_softmax": sampled_softmax,
        },
    )


def _forward(model: Model, X, is_train: bool):
    raise NotImplementedError("lstm_lm runs its torch module directly.")


def torch_module(model: Model) -> RNNLanguageModel:
    """The RNNLanguageModel inside the Thinc model."""
    return cast(PyTorchShim, model.layers[0].shims[0])._model


def set_vocab_size(model: Model, n_vocab: int) -> None:
    """Rebuild the module for a vocabulary of n_vocab (before training)."""
    # PyTorchShim has no public way to swap its module.
    shim = cast(PyTorchShim, model.layers[0].shims[0])
    old = shim._model
    device = next(old.parameters()).device
    attrs = model.attrs
    cutoffs = [c for c in attrs["adaptive_cutoffs"] or [] if 0 < c < n_vocab]
    shim._model = RNNLanguageModel(
        n_vocab, attrs["width"], attrs["depth"], attrs["cell"], attrs["dropout"],
        attrs["tie"], cutoffs or None, attrs.get("sampled_softmax", 0),
    ).to(device)  # fmt: skip
