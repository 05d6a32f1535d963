"""Thinc's PyTorch wrapper, with a weight update that does not leak memory,
parameter averages that are actually used, and inference in bfloat16 (where
the hardware has it) or int8."""

import contextlib
import copy
import io
import os
import warnings
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import torch
from thinc.api import ArgsKwargs, Model, PyTorchShim, PyTorchWrapper_v3
from thinc.optimizers import Optimizer
from thinc.util import torch2xp, xp2torch

from ..precision import inference_dtype
from ..util import bucket


class InPlaceUpdateShim(PyTorchShim):
    """thinc's PyTorchShim, except that finish_update writes the optimizer's
    result into each parameter in place, use_params finds the optimizer's
    averages, and predict runs in the `precision` set for inference (by
    spacy-lstm.precision.v1; "auto" by default) or in an int8 copy of the
    module (`int8_inference`, set by spacy-lstm.int8_inference.v1).

    thinc 8.3's finish_update sets `param.data` to a new tensor made from the
    optimizer's array, a numpy view of the old tensor, so every new tensor
    keeps the previous one alive: a copy of every parameter per step (22 MB
    per step for the 2x200 Penn Treebank LM, out of memory within 20 minutes;
    tests/models/test_torch_wrapper.py). In place, the weights come out the
    same and memory stays flat."""

    precision = "auto"
    int8_inference = False
    # per kind of copy: (the float module, the state of its weights, the copy)
    _copies: Optional[Dict[str, Tuple[torch.nn.Module, Tuple[int, ...], Any]]] = None
    _updates = 0

    def predict(self, inputs: ArgsKwargs) -> Any:
        """The module's output without gradients: with int8_inference on a
        CPU, that of its int8 copy; where the precision set resolves to
        bfloat16, that of its bfloat16 copy (as float32 tensors); else the
        module's own."""
        if self.int8_inference and self.device.type == "cpu":
            module = self._copy("int8")
        elif self.runs_in_bfloat16():
            module = self._copy("bfloat16")
            with torch.no_grad():
                return _float32(module(*inputs.args, **inputs.kwargs))
        else:
            return super().predict(inputs)
        with torch.no_grad():
            return module(*inputs.args, **inputs.kwargs)

    def runs_in_bfloat16(self) -> bool:
        """Whether predict runs the bfloat16 copy."""
        if self.int8_inference and self.device.type == "cpu":
            return False
        return inference_dtype(self.precision, self.device) == torch.bfloat16

    def _copy(self, kind: str) -> torch.nn.Module:
        """The module's int8 or bfloat16 copy for inference, made again
        whenever a weight has changed since: an in-place change bumps the
        parameter's version counter, except finish_update's write to .data,
        which is counted apart. (finish_update must not bump the versions:
        with a shared tok2vec, spaCy updates its weights before the
        listeners' backward pass reaches it, which torch would reject.)"""
        versions = (self._updates, *(p._version for p in self._model.parameters()))
        if self._copies is None:
            self._copies = {}
        cached = self._copies.get(kind)
        if cached is None or cached[0] is not self._model or cached[1] != versions:
            module = copy.deepcopy(self._model).eval()
            made = int8_copy(module) if kind == "int8" else bfloat16_copy(module)
            self._copies[kind] = (self._model, versions, made)
        return self._copies[kind][2]

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


def int8_copy(module: torch.nn.Module) -> torch.nn.Module:
    """The module with its LSTM, GRU and Linear layers quantized to int8
    (torch's dynamic quantization: int8 weights, activations quantized on the
    fly)."""
    layers = {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}
    # torch 2.13 still runs torch.ao's dynamic quantization, but warns at
    # every call that it will move to the torchao package.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", ".*quantize_per_tensor", UserWarning)
        return torch.ao.quantization.quantize_dynamic(module, layers, torch.qint8)


def bfloat16_copy(module: torch.nn.Module) -> torch.nn.Module:
    """The module with the weights of its recurrent and Linear layers in
    bfloat16, each casting its floating inputs to bfloat16; parameters
    outside those layers stay float32, for the module to use where bfloat16
    would hurt (the parser's arc scores).

    A copy rather than torch's autocast, which casts the weights again at
    every call: on CPU a Linear whose input shape changes (every batch of the
    parser) took 2.3 ms under autocast against 0.13 ms with bfloat16 weights,
    an LSTM 2.6 against 1.6 ms (torch 2.13, AMX CPU, 2 threads)."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            layer.to(torch.bfloat16)
            layer.register_forward_pre_hook(_bucketed_bfloat16_rows)
            layer.register_forward_hook(_unpadded_rows)
        elif isinstance(layer, torch.nn.RNNBase):
            layer.to(torch.bfloat16)
            layer.register_forward_pre_hook(_bfloat16_inputs)
    return module


def _bfloat16_inputs(layer: torch.nn.Module, args: Tuple) -> Tuple:
    return tuple(
        a.to(torch.bfloat16)
        if isinstance(a, torch.Tensor) and a.is_floating_point()
        else a
        for a in args
    )


def _bucketed_bfloat16_rows(layer: torch.nn.Module, args: Tuple) -> Tuple:
    """A Linear's input in bfloat16, its rows padded to util.bucket's sizes:
    oneDNN builds a kernel for each new shape, 1.6 ms against 0.1 ms for the
    product itself in the parser's MLPs."""
    (X,) = args
    layer._rows = len(X) if X.dim() == 2 else None
    X = X.to(torch.bfloat16)
    if layer._rows:
        X = torch.nn.functional.pad(X, (0, 0, 0, bucket(len(X)) - len(X)))
    return (X,)


def _unpadded_rows(layer: torch.nn.Module, args: Tuple, Y: torch.Tensor) -> Any:
    return Y if layer._rows is None else Y[: layer._rows]


def _float32(outputs: Any) -> Any:
    """The outputs with every reduced-precision tensor, in lists and tuples
    too, made float32: thinc's arrays and numpy have no bfloat16."""
    if isinstance(outputs, torch.Tensor):
        return outputs.float() if outputs.is_floating_point() else outputs
    if isinstance(outputs, (list, tuple)):
        converted = [_float32(output) for output in outputs]
        return (
            type(outputs)(*converted)
            if hasattr(outputs, "_fields")
            else type(outputs)(converted)
        )
    return outputs


def load_state_dict_safely(
    module: torch.nn.Module, data: bytes, device: torch.device
) -> torch.nn.Module:
    """thinc's default deserializer, except that torch.load only reads
    tensors (weights_only): before torch 2.6 thinc's call unpickles any
    object, so a crafted pipeline file would run code when loaded."""
    state = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    module.load_state_dict(state)
    return module.to(device)


_FORK_HOOK = False


def one_thread_in_forked_children() -> None:
    """From now on, a child process forked from this one runs torch on one
    thread. nlp.pipe(n_process=2) forks the process, and a child that uses the
    OpenMP thread pool its parent set up hangs on its first parallel op (torch's
    DataLoader workers take one thread for the same reason). Registered once,
    by the first of our torch layers a process builds: a program that imports
    spacy-lstm without building one keeps its children's threads."""
    global _FORK_HOOK
    if not _FORK_HOOK:
        os.register_at_fork(after_in_child=lambda: torch.set_num_threads(1))
        _FORK_HOOK = True


def TorchWrapper(
    module,
    *,
    convert_inputs: Optional[Callable] = None,
    convert_outputs: Optional[Callable] = None,
    serialize_model: Optional[Callable] = None,
    deserialize_model: Optional[Callable] = None,
) -> Model:
    """PyTorchWrapper_v3 with InPlaceUpdateShim, loading weights safely."""
    one_thread_in_forked_children()
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
