"""spacy-lstm.CharEmbed.v1: a word embedding plus a vector read from each
word's characters, for the `embed` slot of spacy.Tok2Vec.v2."""

from typing import Callable, Dict, List, Tuple, cast

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchShim
from thinc.types import Floats2d, Ints1d, Ints2d

from ..torch_modules.chars import BOW, EOW, PAD, RESERVED, CharCNN
from .encoder import convert_outputs  # the same: one float tensor out
from .torch_wrapper import TorchWrapper

InT = List[Doc]
OutT = List[Floats2d]


@registry.architectures("spacy-lstm.CharEmbed.v1")
def build_char_embed(
    words: Model[InT, OutT],
    width: int = 64,
    char_width: int = 32,
    window: int = 3,
    rows: int = 1000,
    max_chars: int = 24,
) -> Model[InT, OutT]:
    """Embed each token as the vector of `words` (e.g. spacy.MultiHashEmbed.v2)
    followed by `width` values that a character CNN reads from the token's
    text, in its original case: what a word looks like, for rare and unseen
    words above all, which hashed NORM, PREFIX, SUFFIX and SHAPE features see
    only in part. The CNN runs once per distinct word of the batch, all of
    them in one padded call, and the result is gathered for every token.

    words (Model[List[Doc], List[Floats2d]]): The word embedding.
    width (int): The character vector's width (the CNN's filters). The output
        is the words' width plus this: set the encoder's nI to the sum.
    char_width (int): The character embedding width.
    window (int): How many characters each filter reads; odd.
    rows (int): Character embedding rows. Characters hash into rows - 3 of
        them by code point, so any character, seen in training or not, has a
        row; raise it for scripts with many characters (Chinese: 8000).
    max_chars (int): Longer words are read as their first and last
        max_chars / 2 characters, where their affixes are.
    RETURNS (Model[List[Doc], List[Floats2d]]): The embedding.
    """
    checks = {"width": width, "char_width": char_width, "max_chars": max_chars}
    for name, value in checks.items():
        if value < 1:
            raise ValueError(f"CharEmbed {name} must be positive, got {value}.")
    if window < 1 or window % 2 == 0:
        raise ValueError(
            f"CharEmbed window must be a positive odd number, got {window}."
        )
    if rows <= RESERVED:
        raise ValueError(f"CharEmbed rows must be more than {RESERVED}, got {rows}.")
    cnn = TorchWrapper(
        CharCNN(rows, char_width, width, window),
        convert_inputs=convert_inputs,
        convert_outputs=convert_outputs,
    )
    words_width = words.get_dim("nO") if words.has_dim("nO") else None
    return Model(
        "char_embed",
        forward,
        init=init,
        layers=[words, cnn],
        dims={"nO": None if words_width is None else words_width + width},
        attrs={"width": width, "rows": rows, "max_chars": max_chars},
    )


def init(model: Model, X=None, Y=None) -> None:
    """Initialise the word embedding and take the output width."""
    words = model.layers[0]
    words.initialize(X=X)
    model.set_dim("nO", words.get_dim("nO") + model.attrs["width"])


def forward(
    model: Model[InT, OutT], docs: InT, is_train: bool
) -> Tuple[OutT, Callable]:
    """Each doc's word vectors followed by its character vectors."""
    words, cnn = model.layers
    Xw, backprop_words = words(docs, is_train)
    lengths = [len(doc) for doc in docs]
    n_chars = model.attrs["width"]
    if sum(lengths) == 0:
        Ys = [model.ops.alloc2f(0, model.get_dim("nO")) for _ in docs]
        return Ys, lambda dYs: backprop_words([dY[:, :-n_chars] for dY in dYs])
    chars, index = char_rows(docs, model.attrs["rows"], model.attrs["max_chars"])
    Xc, backprop_cnn = cnn((chars, index), is_train)
    Xcs = model.ops.unflatten(Xc, lengths)
    Ys = [model.ops.xp.hstack((xw, xc)) for xw, xc in zip(Xw, Xcs)]

    def backprop(dYs: OutT) -> InT:
        backprop_cnn(model.ops.flatten([dY[:, -n_chars:] for dY in dYs]))
        return backprop_words([dY[:, :-n_chars] for dY in dYs])

    return cast(OutT, Ys), backprop


def char_rows(docs: InT, rows: int, max_chars: int) -> Tuple[Ints2d, Ints1d]:
    """Each distinct token text of the docs as a row of character rows
    (BOW, the characters, EOW, then PAD), and each token's row."""
    types: Dict[str, int] = {}
    index = numpy.asarray(
        [types.setdefault(token.text, len(types)) for doc in docs for token in doc],
        dtype="int64",
    )
    head, tail = max_chars - max_chars // 2, max_chars // 2
    codes = []
    for text in types:
        if len(text) > max_chars:
            text = text[:head] + text[-tail:] if tail else text[:head]
        codes.append(numpy.frombuffer(text.encode("utf-32-le"), dtype="uint32"))
    chars = numpy.full((len(codes), max(map(len, codes)) + 2), PAD, dtype="int64")
    for i, code in enumerate(codes):
        chars[i, 0] = BOW
        chars[i, 1 : len(code) + 1] = RESERVED + code % (rows - RESERVED)
        chars[i, len(code) + 1] = EOW
    return chars, index


def convert_inputs(
    model: Model, inputs: Tuple[Ints2d, Ints1d], is_train: bool
) -> Tuple[ArgsKwargs, Callable[[ArgsKwargs], None]]:
    """The character rows and token index as torch tensors; no gradient back."""
    chars, index = inputs
    device = cast(PyTorchShim, model.shims[0]).device
    args = (torch.from_numpy(chars).to(device), torch.from_numpy(index).to(device))
    return ArgsKwargs(args=args, kwargs={}), lambda d_inputs: None
