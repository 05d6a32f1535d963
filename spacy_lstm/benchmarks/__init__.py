"""Benchmark scripts, run as `python -m spacy_lstm.benchmarks.<name>`."""

import os
import platform
from pathlib import Path
from typing import Dict, List

import torch

from ..precision import has_native_bfloat16

# oneDNN, behind torch's CPU LSTMs and bfloat16 products, keeps the kernels it
# built for the last 1,024 shapes. One pipeline in bfloat16 needs a few hundred;
# a benchmark that runs several side by side in one process would evict each
# other's, so it gets room for all, as each would have alone in its process
# (read when oneDNN builds its first kernel).
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8192")

# The CPU flags that decide what reduced precision costs: bfloat16 and int8
# (VNNI) instructions, and the AMX tile units that run both.
PRECISION_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "amx_bf16",
    "amx_int8",
)


def describe_cpu() -> Dict:
    """What a timing ran on: the CPU's model name, its flags among
    PRECISION_FLAGS, whether torch computes bfloat16 natively on it, and
    torch's thread count."""
    name, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        for line in lines:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    present: List[str] = [f for f in PRECISION_FLAGS if f in flags]
    return {
        "cpu": name,
        "cpu_flags": present,
        "native_bfloat16": has_native_bfloat16(torch.device("cpu")),
        "torch_threads": torch.get_num_threads(),
    }
