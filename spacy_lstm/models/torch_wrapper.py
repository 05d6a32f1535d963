"""Thinc's PyTorch wrapper, with a weight update that does not leak memory,
parameter averages that are actually used, and optional int8 inference."""

import contextlib
import copy
import io
import warnings
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import torch
from thinc.api import ArgsKwargs, Model, PyTorchShim, PyTorchWrapper_v3
from thinc.optimizers import Optimizer
from thinc.util import torch2xp, xp2torch


class InPlaceUpdateShim(PyTorchShim):
    """thinc's PyTorchShim, except that finish_update writes the optimizer's
    result into each parameter in place, use_params finds the optimizer's
    averages, and predict can run an int8 copy of the module
    (`int8_inference`, set by spacy-lstm.int8_inference.v1).

    thinc 8.3's finish_update sets `param.data` to a new tensor made from the
    optimizer's array, a numpy view of the old tensor, so every new tensor
    keeps the previous one alive: a copy of every parameter per step (22 MB
    per step for the 2x200 Penn Treebank LM, out of memory within 20 minutes;
    tests/models/test_torch_wrapper.py). In place, the weights come out the
    same and memory stays flat."""

    int8_inference = False
    # (the float module, the state of its weights, its int8 copy)
    _int8: Optional[Tuple[torch.nn.Module, Tuple[int, ...], torch.nn.Module]] = None
    _updates = 0

    def predict(self, inputs: ArgsKwargs) -> Any:
        """The module's output without gradients; with int8_inference on a
        CPU, the output of its int8 copy."""
        if not self.int8_inference or self.device.type != "cpu":
            return super().predict(inputs)
        with torch.no_grad():
            return self._int8_module()(*inputs.args, **inputs.kwargs)

    def _int8_module(self) -> torch.nn.Module:
        """The module with its LSTM, GRU and Linear layers quantized to int8
        (torch's dynamic quantization: int8 weights, activations quantized on
        the fly). Made again whenever a weight has changed since: an in-place
        change bumps the parameter's version counter, except finish_update's
        write to .data, which is counted apart. (finish_update must not bump
        the versions: with a shared tok2vec, spaCy updates its weights before
        the listeners' backward pass reaches it, which torch would reject.)"""
        versions = (self._updates, *(p._version for p in self._model.parameters()))
        cached = self._int8
        if cached is None or cached[0] is not self._model or cached[1] != versions:
            module = copy.deepcopy(self._model).eval()
            layers = {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}
            # torch 2.13 still runs torch.ao's dynamic quantization, but warns
            # at every call that it will move to the torchao package.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.filterwarnings("ignore", ".*quantize_per_tensor", UserWarning)
                quantized = torch.ao.quantization.quantize_dynamic(
                    module, layers, torch.qint8
                )
            self._int8 = (self._model, versions, quantized)
        return self._int8[2]

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
        self._updates += 1
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
