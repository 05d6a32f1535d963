"""Thinc models and the architectures spacy-lstm registers."""

from .biaffine import build_biaffine_parser
from .char_tagger import build_char_tagger
from .chars import build_char_embed
from .encoder import build_bilstm_encoder
from .language_model import build_lstm_language_model
from .pretrain import create_bilm_objective
from .windowed import build_windowed_tok2vec
from .word2vec import build_word2vec

__all__ = [
    "build_biaffine_parser",
    "build_bilstm_encoder",
    "build_char_embed",
    "build_char_tagger",
    "build_lstm_language_model",
    "build_windowed_tok2vec",
    "build_word2vec",
    "create_bilm_objective",
]
