"""The precision spacy-lstm's torch layers compute in at inference.

"auto" (the default) means bfloat16 where the device computes it natively
(a CPU whose flags list AVX512-BF16 or AMX-BF16: Intel Cooper Lake, Sapphire
Rapids and later, AMD Zen 4 and later; a CUDA device with bfloat16) and
float32 elsewhere: on an AVX2 CPU, and on an AVX-512 CPU without those flags
(Skylake, Cascade Lake, Ice Lake), where oneDNN emulates bfloat16.
"float32" and "bfloat16" ask for one. The environment variable
SPACY_LSTM_PRECISION, when set, decides what "auto" means, so that a
benchmark or an evaluation can force float32 on any pipeline without
changing it. Training always computes in float32.
"""

import contextlib
import functools
import os
import warnings
from typing import ContextManager

import torch

PRECISIONS = ("auto", "float32", "bfloat16")
ENV_VAR = "SPACY_LSTM_PRECISION"


def check_precision(precision: str, name: str = "precision") -> str:
    """precision (str): A precision setting.
    name (str): What to call it in the error.
    RETURNS (str): The setting, if it is one of PRECISIONS.
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f"{name} must be one of {', '.join(PRECISIONS)}, got {precision!r}."
        )
    return precision


# The CPU flags (Linux's names) of bfloat16 instructions.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.lru_cache(maxsize=None)
def has_native_bfloat16(device: torch.device) -> bool:
    """Whether the device computes in bfloat16 in hardware. Where it does
    not, bfloat16 is emulated or has no fast kernels, and float32 is faster.
    oneDNN's own test (`torch.ops.mkldnn._is_mkldnn_bf16_supported`) is true on
    any AVX-512 CPU, emulation included, so the CPU's flags decide here.

    device (torch.device): The device.
    RETURNS (bool): True for a CPU with AVX512-BF16 or AMX-BF16, or a CUDA
        device with bfloat16; False elsewhere (ARM CPUs included: not measured).
    """
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(BFLOAT16_CPU_FLAGS & cpu_flags())
    return False


@functools.lru_cache(maxsize=None)
def cpu_flags() -> frozenset:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (empty
    where there is no such file: other systems get float32 for "auto")."""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as file_:
            for line in file_:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def inference_dtype(precision: str, device: torch.device) -> torch.dtype:
    """What a precision setting computes in on a device.

    precision (str): "auto", "float32" or "bfloat16". "auto" reads
        SPACY_LSTM_PRECISION first when it is set.
    device (torch.device): The device the layers run on.
    RETURNS (torch.dtype): torch.bfloat16 or torch.float32. "bfloat16" on a
        device without native bfloat16 warns and gives float32.
    """
    check_precision(precision)
    if precision == "auto":
        precision = check_precision(os.environ.get(ENV_VAR) or "auto", ENV_VAR)
    if precision == "float32":
        return torch.float32
    if has_native_bfloat16(torch.device(device)):
        return torch.bfloat16
    if precision == "bfloat16":
        _warn_no_bfloat16(str(device))
    return torch.float32


@functools.lru_cache(maxsize=None)
def _warn_no_bfloat16(device: str) -> None:
    warnings.warn(
        f"precision 'bfloat16' asked for on {device}, which does not compute in "
        "bfloat16 natively: computing in float32 instead.",
        stacklevel=3,
    )


def autocast(dtype: torch.dtype, device: torch.device) -> ContextManager:
    """A context in which torch's autocast runs matrix products and
    recurrent layers in bfloat16 when dtype is torch.bfloat16, and which does
    nothing otherwise.

    dtype (torch.dtype): What inference_dtype gave.
    device (torch.device): The device the layers run on.
    RETURNS (ContextManager): The context.
    """
    if dtype != torch.bfloat16:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
