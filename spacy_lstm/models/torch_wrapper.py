"""Thinc's PyTorch wrapper, with a weight update that does not leak memory and
parameter averages that are actually used."""

import contextlib
import io
from typing import Callable, Dict, Iterator, Optional

import torch
from thinc.api import Model, PyTorchShim, PyTorchWrapper_v3
from thinc.optimizers import Optimizer
from thinc.util import torch2xp, xp2torch


class InPlaceUpdateShim(PyTorchShim):
    """thinc's PyTorchShim, except that finish_update writes the optimizer's
    result into each parameter in place, and use_params finds the optimizer's
    averages.

    thinc 8.3's finish_update sets `param.data` to a new tensor made from the
    optimizer's array, a numpy view of the old tensor, so every new tensor
    keeps the previous one alive: a copy of every parameter per step (22 MB
    per step for the 2x200 Penn Treebank LM, out of memory within 20 minutes;
    tests/models/test_torch_wrapper.py). In place, the weights come out the
    same and memory stays flat."""

    def finish_update(self, optimizer: Optimizer) -> None:
        """Apply the optimizer to each torch parameter in place, with the
        gradient torch accumulated, then zero the gradient."""
        for name, param in self._model.named_parameters():
            if param.grad is None:
                continue
            if not self._grad_scaler.found_inf:  # skip a step that overflowed
                weights, _ = optimizer(
                    (self.id, name), torch2xp(param.data), torch2xp(param.grad)
                )
                param.data.copy_(xp2torch(weights, device=param.device))
            param.grad.zero_()
        self._grad_scaler.update()

    @contextlib.contextmanager
    def use_params(self, params: Dict) -> Iterator[None]:
        """Swap in the parameters keyed (shim id, parameter name), as
        finish_update keys them, e.g. the optimizer's averages (use_averages),
        which spaCy evaluates and saves. thinc 8.3's PyTorchShim.use_params
        looks for "pytorch_{id}_{name}" keys instead, so it never finds the
        averages and torch-wrapped models silently train without them."""
        swapped = []
        with torch.no_grad():
            for name, param in self._model.named_parameters():
                value = params.get((self.id, name))
                if value is not None:
                    swapped.append((param, param.detach().clone()))
                    param.copy_(xp2torch(value, device=param.device))
        try:
            yield
        finally:
            with torch.no_grad():
                for param, backup in swapped:
                    param.copy_(backup)


def load_state_dict_safely(
    module: torch.nn.Module, data: bytes, device: torch.device
) -> torch.nn.Module:
    """thinc's default deserializer, except that torch.load only reads
    tensors (weights_only): before torch 2.6 thinc's call unpickles any
    object, so a crafted pipeline file would run code when loaded."""
    state = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    module.load_state_dict(state)
    return module.to(device)


def TorchWrapper(
    module,
    *,
    convert_inputs: Optional[Callable] = None,
    convert_outputs: Optional[Callable] = None,
    serialize_model: Optional[Callable] = None,
    deserialize_model: Optional[Callable] = None,
) -> Model:
    """PyTorchWrapper_v3 with InPlaceUpdateShim, loading weights safely."""
    deserialize_model = deserialize_model or load_state_dict_safely
    model = PyTorchWrapper_v3(
        module,
        convert_inputs=convert_inputs,
        convert_outputs=convert_outputs,
        serialize_model=serialize_model,
        deserialize_model=deserialize_model,
    )
    model.shims[0] = InPlaceUpdateShim(
        module, serialize_model=serialize_model, deserialize_model=deserialize_model
    )
    return model
