from .parser import BiaffineDependencyParser, make_parser

__all__ = ["BiaffineDependencyParser", "make_parser"]
