"""spacy-lstm.CharTagger.v1: the tokenizer's character BiLSTM as a Thinc model.

The component drives the torch module directly (it reads characters, not
tokens); Thinc owns the weights, so spaCy's optimizer and serialization apply.
"""

from typing import cast

from spacy.util import registry
from thinc.api import Model, PyTorchShim

from ..torch_modules.char_tagger import CharTagger
from ..torch_modules.serialize import deserializer_for, serialize_with_config
from .torch_wrapper import TorchWrapper

N_LABELS = 5  # see pipeline/tokenizer.py: inside, token end, sentence end, MWT ends


@registry.architectures("spacy-lstm.CharTagger.v1")
def build_char_tagger(
    char_width: int = 32, width: int = 32, depth: int = 1, dropout: float = 0.1
) -> Model:
    """Character and Unicode-category embeddings, a BiLSTM of depth layers of
    width units a direction, and a label score per character.

    char_width (int): Character embedding width.
    width (int): Hidden units per direction.
    depth (int): BiLSTM layers.
    dropout (float): Dropout on the embeddings and on the BiLSTM's output.
    """
    for name, value in (("char_width", char_width), ("width", width), ("depth", depth)):
        if value < 1:
            raise ValueError(f"CharTagger {name} must be positive, got {value}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"CharTagger dropout must be in [0, 1), got {dropout}.")
    settings = dict(char_width=char_width, width=width, depth=depth, dropout=dropout)
    wrapped = TorchWrapper(
        CharTagger(2, N_LABELS, **settings),  # resized to the characters in initialize
        serialize_model=serialize_with_config,
        deserialize_model=deserializer_for(CharTagger),
    )
    return Model("char_tagger", _forward, layers=[wrapped], attrs=settings)


def _forward(model: Model, X, is_train: bool):
    raise NotImplementedError("lstm_tokenizer runs its torch module directly.")


def torch_module(model: Model) -> CharTagger:
    """The CharTagger inside the Thinc model."""
    return cast(PyTorchShim, model.layers[0].shims[0])._model


def set_char_rows(model: Model, n_chars: int) -> None:
    """Rebuild the module for n_chars character rows (before training)."""
    # PyTorchShim has no public way to swap its module.
    shim = cast(PyTorchShim, model.layers[0].shims[0])
    device = next(shim._model.parameters()).device
    shim._model = CharTagger(n_chars, N_LABELS, **model.attrs).to(device)
