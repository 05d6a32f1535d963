from .parser import BiaffineDependencyParser, make_parser
from .word2vec import Word2Vec, make_word2vec

__all__ = ["BiaffineDependencyParser", "Word2Vec", "make_parser", "make_word2vec"]
