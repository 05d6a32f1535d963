"""Thinc's CPU matrix products through torch, for the spaCy layers that run
beside our torch encoder (MultiHashEmbed's maxout, mostly).

Thinc's NumpyOps multiplies with BLIS on one thread: 19 GFLOPS on the AVX2
test machine for MultiHashEmbed's (800 x 612) @ (612 x 384), against 84 for
torch on its 2 threads. numpy's OpenBLAS is as fast on its own but starts
threads of its own that fight torch's (parsing took nearly twice as long), so the
products go to torch, which shares the threads the encoder already uses.

Inside `bfloat16_gemm()` (WindowedTok2Vec's inference, when its encoder runs
in bfloat16) the products compute in bfloat16 and return float32.
"""

import contextlib
import contextvars
from typing import Iterator

import numpy
import torch
from thinc.api import Model, NumpyOps

from ..util import bucket

_BFLOAT16 = contextvars.ContextVar("spacy_lstm_bfloat16_gemm", default=False)


@contextlib.contextmanager
def bfloat16_gemm(enable: bool = True) -> Iterator[None]:
    """A context in which TorchGemmOps multiplies in bfloat16 (if enable).

    enable (bool): Whether to, so that a caller can pass its own condition.
    """
    token = _BFLOAT16.set(enable)
    try:
        yield
    finally:
        _BFLOAT16.reset(token)


class TorchGemmOps(NumpyOps):
    """NumpyOps whose gemm runs in torch on the same numpy arrays, with no
    copies. Anything that torch cannot view without a copy (other dtypes,
    read-only arrays) goes to NumpyOps as before."""

    def gemm(self, x, y, *, out=None, trans1=False, trans2=False):
        arrays = (x, y) if out is None else (x, y, out)
        if not all(viewable(array) for array in arrays):
            return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)
        a, b = torch.from_numpy(x), torch.from_numpy(y)
        a, b = (a.T if trans1 else a), (b.T if trans2 else b)
        if _BFLOAT16.get():
            product = bfloat16_mm(a, b)
            if out is None:
                return product.numpy()
            out[...] = product.numpy()
            return out
        if out is None:
            return torch.mm(a, b).numpy()
        torch.mm(a, b, out=torch.from_numpy(out))
        return out


def bfloat16_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b computed in bfloat16, returned in float32. The rows of a are
    padded to util.bucket's sizes, so that oneDNN's kernel for each shape is
    reused (a batch's token count is new almost every time). MultiHashEmbed's
    maxout, (n x 640) @ (640 x 384) for n from 300 to 1,600: 1.5 ms in
    bfloat16 against 2.7 ms in float32, and 6.5 ms the first time unpadded
    shapes were seen (torch 2.13, AMX CPU, 1 thread)."""
    n = len(a)
    a = a.to(torch.bfloat16)
    if n:
        a = torch.nn.functional.pad(a, (0, 0, 0, bucket(n) - n))
    return torch.mm(a, b.to(torch.bfloat16))[:n].float()


def viewable(array) -> bool:
    """Whether torch.from_numpy can share the array as a float32 2D tensor."""
    return (
        isinstance(array, numpy.ndarray)
        and array.dtype == numpy.float32
        and array.ndim == 2
        and array.flags.writeable
        and all(stride >= 0 for stride in array.strides)
    )


def use_torch_gemm(model: Model) -> Model:
    """Give every layer of the model that runs on thinc's plain NumpyOps the
    torch gemm instead. Layers on other ops (a GPU's, the user's own) keep
    theirs; moving the model to a device later replaces it as usual."""
    ops = TorchGemmOps()
    for node in model.walk():
        if type(node.ops) is NumpyOps:
            node.ops = ops
    return model
