"""Thinc's PyTorch wrapper, with a weight update that does not leak memory."""

from typing import Callable, Optional

from thinc.api import Model, PyTorchShim, PyTorchWrapper_v3
from thinc.optimizers import Optimizer
from thinc.util import torch2xp, xp2torch


class InPlaceUpdateShim(PyTorchShim):
    """thinc's PyTorchShim, except that finish_update writes the optimizer's
    result into each parameter in place.

    thinc 8.3's finish_update sets `param.data` to a new tensor made from the
    optimizer's array, a numpy view of the old tensor, so every new tensor
    keeps the previous one alive: a copy of every parameter per step (22 MB
    per step for the 2x200 Penn Treebank LM, out of memory within 20 minutes;
    tests/models/test_torch_wrapper.py). In place, the weights come out the
    same and memory stays flat."""

    def finish_update(self, optimizer: Optimizer) -> None:
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


def TorchWrapper(
    module,
    *,
    convert_inputs: Optional[Callable] = None,
    convert_outputs: Optional[Callable] = None,
    serialize_model: Optional[Callable] = None,
    deserialize_model: Optional[Callable] = None,
) -> Model:
    """PyTorchWrapper_v3 with InPlaceUpdateShim."""
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
