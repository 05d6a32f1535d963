from .biaffine import build_biaffine_parser
from .encoder import build_bilstm_encoder

__all__ = ["build_biaffine_parser", "build_bilstm_encoder"]
