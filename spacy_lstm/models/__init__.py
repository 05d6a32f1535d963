from .encoder import build_bilstm_encoder

__all__ = ["build_bilstm_encoder"]
