"""The pipeline components: lstm_tokenizer, lstm_parser, lstm_lm and word2vec."""

from .language_model import LanguageModel, make_language_model
from .parser import BiaffineDependencyParser, make_parser
from .raw_text import RawTextTokenizer
from .tokenizer import CharTokenizer, make_tokenizer
from .word2vec import Word2Vec, make_word2vec

__all__ = [
    "BiaffineDependencyParser",
    "CharTokenizer",
    "LanguageModel",
    "RawTextTokenizer",
    "Word2Vec",
    "make_language_model",
    "make_parser",
    "make_tokenizer",
    "make_word2vec",
]
