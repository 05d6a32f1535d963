"""spacy-lstm.Word2Vec.v1: the word2vec model and its training settings.

The input vectors live where spaCy looks for vectors, in `nlp.vocab.vectors`
(one row per vocabulary word, most frequent first), so token.vector and
similarity see every update. The model holds the rest of the training state: the
output ("context") vectors, the word counts and the number of words trained on,
which sets the learning rate.
"""

from typing import List, Optional

import numpy
from spacy.attrs import IDS
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

ARCHITECTURES = ("skipgram", "cbow")
KEY_ATTRS = ("ORTH", "LOWER", "NORM")


@registry.architectures("spacy-lstm.Word2Vec.v1")
def build_word2vec(
    architecture: str = "skipgram",
    vector_size: int = 100,
    window: int = 5,
    negative: int = 5,
    sample: float = 1e-3,
    min_count: int = 5,
    max_vocab: Optional[int] = None,
    alpha: float = 0.025,
    min_alpha: float = 0.0025,
    epochs: int = 5,
    attr: str = "LOWER",
    seed: int = 1,
) -> Model[List[Doc], List[Floats2d]]:
    """word2vec with negative sampling (Mikolov et al. 2013).

    architecture (str): "skipgram" predicts each context word from the word;
        "cbow" predicts the word from the mean of its context.
    vector_size (int): Dimensions of the vectors.
    window (int): Largest distance between a word and its context; each word
        draws its own window from 1..window, weighting near words more.
    negative (int): Noise words per prediction, drawn from unigram^0.75.
    sample (float): Frequent-word subsampling threshold (0 turns it off).
    min_count (int): Ignore words seen fewer times in the training corpus.
    max_vocab (Optional[int]): Keep at most this many of the most frequent words.
    alpha (float): Initial learning rate. gensim's default for both
        architectures; word2vec.c uses 0.05 for CBOW.
    min_alpha (float): The learning rate falls linearly to this over the
        planned words (epochs x corpus words). 0.0025 rather than gensim's
        nominal 0.0001: gensim's corpus_file mode with 2 workers and 5 epochs
        actually ends there, and on 16M words of Wikipedia it scores higher
        (docs/benchmarks.md).
    epochs (int): Planned passes over the corpus: they set the learning-rate
        schedule and, with a streamed corpus, the length of spacy train.
    attr (str): Token attribute the vectors are keyed by: ORTH, LOWER or NORM.
        LOWER makes token.vector the same for "Apple" and "apple".
    seed (int): Seed for the initial vectors and the sampling.
    RETURNS (Model[List[Doc], List[Floats2d]]): Maps docs to their vectors.
    """
    settings = dict(
        architecture=architecture, vector_size=vector_size, window=window,
        negative=negative, sample=sample, min_count=min_count, max_vocab=max_vocab,
        alpha=alpha, min_alpha=min_alpha, epochs=epochs, attr=attr, seed=seed,
    )  # fmt: skip
    _validate(settings)
    return Model(
        "word2vec",
        forward,
        dims={"nV": None, "nO": vector_size},
        params={"syn1neg": None},
        attrs={**settings, "counts": None, "words_trained": 0, "planned_words": 0},
    )


def _validate(settings: dict) -> None:
    if settings["architecture"] not in ARCHITECTURES:
        raise ValueError(
            f"word2vec architecture must be one of {ARCHITECTURES}, "
            f"got {settings['architecture']!r}."
        )
    if settings["attr"] not in KEY_ATTRS:
        raise ValueError(
            f"word2vec attr must be one of {KEY_ATTRS}, got {settings['attr']!r}."
        )
    for name in ("vector_size", "window", "min_count", "epochs"):
        if settings[name] < 1:
            raise ValueError(
                f"word2vec {name} must be at least 1, got {settings[name]}."
            )
    if settings["negative"] < 1:
        raise ValueError(
            "word2vec needs negative >= 1 (negative sampling), got "
            f"{settings['negative']}."
        )
    if settings["max_vocab"] is not None and settings["max_vocab"] < 1:
        raise ValueError(
            "word2vec max_vocab must be at least 1 or null, got "
            f"{settings['max_vocab']}."
        )
    if not 0 <= settings["min_alpha"] <= settings["alpha"]:
        raise ValueError(
            "word2vec needs 0 <= min_alpha <= alpha, got "
            f"alpha={settings['alpha']}, min_alpha={settings['min_alpha']}."
        )
    if settings["sample"] < 0:
        raise ValueError(f"word2vec sample must be >= 0, got {settings['sample']}.")


def key_attr_id(model: Model) -> int:
    """The spaCy attribute ID the vector keys come from."""
    return IDS[model.attrs["attr"]]


def forward(model: Model, docs: List[Doc], is_train: bool):
    """Look up each token's vector in the vocab's table (zeros if it has none)."""
    outputs = []
    for doc in docs:
        vectors = doc.vocab.vectors
        rows = vectors.find(keys=doc.to_array(key_attr_id(model)))
        output = numpy.zeros((len(doc), vectors.shape[1]), dtype="f")
        found = rows >= 0
        output[found] = vectors.data[rows[found]]
        outputs.append(output)

    def backprop(d_outputs):
        raise NotImplementedError(
            "word2vec is trained by its own update(), not by backpropagation."
        )

    return outputs, backprop
