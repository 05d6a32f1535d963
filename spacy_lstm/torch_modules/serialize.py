"""Saving torch modules whose shape is only known after initialize."""

import io
from typing import Callable, Type

import torch
from torch import nn


def serialize_with_config(module: nn.Module) -> bytes:
    """The module's weights and its constructor arguments (`module.config`), so
    that loading rebuilds a module of the saved shape."""
    buffer = io.BytesIO()
    torch.save({"config": module.config, "state": module.state_dict()}, buffer)
    return buffer.getvalue()


def deserializer_for(cls: Type[nn.Module]) -> Callable:
    """A PyTorchWrapper deserialize_model for modules saved by
    serialize_with_config."""

    def deserialize(module: nn.Module, data: bytes, device: torch.device) -> nn.Module:
        saved = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
        restored = cls(**saved["config"])
        restored.load_state_dict(saved["state"])
        return restored.to(device)

    return deserialize
