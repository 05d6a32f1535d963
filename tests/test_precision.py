"""The inference precision setting: what "auto" resolves to, and the ways to
set it."""

import pytest
import spacy
import torch

from spacy_lstm import precision
from spacy_lstm.inference import (
    create_precision,
    int8_inference,
    precision_of,
    set_precision,
    torch_shims,
)
from spacy_lstm.precision import check_precision, inference_dtype

CPU = torch.device("cpu")


@pytest.fixture
def native(monkeypatch):
    """Pretend the device computes bfloat16 natively, or not."""
    monkeypatch.delenv(precision.ENV_VAR, raising=False)

    def set_native(value: bool) -> None:
        monkeypatch.setattr(precision, "has_native_bfloat16", lambda device: value)

    return set_native


def test_auto_is_float32_without_native_bfloat16(native):
    native(False)
    assert inference_dtype("auto", CPU) == torch.float32
    assert inference_dtype("float32", CPU) == torch.float32


def test_auto_is_bfloat16_with_native_bfloat16(native):
    native(True)
    assert inference_dtype("auto", CPU) == torch.bfloat16
    assert inference_dtype("bfloat16", CPU) == torch.bfloat16
    assert inference_dtype("float32", CPU) == torch.float32


def test_auto_on_a_gpu_without_bfloat16(monkeypatch):
    monkeypatch.delenv(precision.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    precision.has_native_bfloat16.cache_clear()
    try:
        assert inference_dtype("auto", torch.device("cuda")) == torch.float32
    finally:
        precision.has_native_bfloat16.cache_clear()


def test_environment_decides_auto(native, monkeypatch):
    native(True)
    monkeypatch.setenv(precision.ENV_VAR, "float32")
    assert inference_dtype("auto", CPU) == torch.float32
    # an explicit setting is not overridden
    assert inference_dtype("bfloat16", CPU) == torch.bfloat16
    monkeypatch.setenv(precision.ENV_VAR, "half")
    with pytest.raises(ValueError, match="SPACY_LSTM_PRECISION must be one of"):
        inference_dtype("auto", CPU)


def test_bfloat16_without_native_support_warns_and_computes_float32(native):
    native(False)
    precision._warn_no_bfloat16.cache_clear()
    with pytest.warns(UserWarning, match="computing in float32"):
        assert inference_dtype("bfloat16", CPU) == torch.float32


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="auto, float32, bfloat16"):
        check_precision("fp16")
    with pytest.raises(ValueError, match="precision must be one of"):
        create_precision("fp16")
    with pytest.raises(ValueError, match="precision must be one of"):
        set_precision(spacy.blank("en"), "int8")


def test_set_precision_reaches_every_layer(native):
    native(False)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_parser")
    nlp.add_pipe("lstm_lm")
    assert precision_of(spacy.blank("en")) == "none"
    assert all(shim.precision == "auto" for shim in torch_shims(nlp))
    assert set_precision(nlp, "float32") is nlp
    assert all(shim.precision == "float32" for shim in torch_shims(nlp))
    assert nlp.get_pipe("lstm_lm").cfg["precision"] == "float32"
    assert precision_of(nlp) == "float32"
    create_precision("bfloat16")(nlp)
    assert all(shim.precision == "bfloat16" for shim in torch_shims(nlp))
    assert nlp.get_pipe("lstm_lm").cfg["precision"] == "bfloat16"


def test_precision_of_names_int8(native):
    native(True)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_parser")
    assert precision_of(nlp) == "bfloat16"
    int8_inference(nlp)
    assert precision_of(nlp) == "int8"
    set_precision(int8_inference(nlp, enable=False), "float32")
    assert precision_of(nlp) == "float32"


@pytest.mark.parametrize(
    "flags,native",
    [
        # AVX2 only (AMD Zen 3, Intel Haswell to Comet Lake)
        ({"avx2", "fma"}, False),
        # AVX-512 without bfloat16 (Skylake, Cascade Lake, Ice Lake): oneDNN
        # would emulate bfloat16, so "auto" stays float32
        ({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, False),
        # AVX512-BF16 (Cooper Lake, AMD Zen 4)
        ({"avx2", "avx512f", "avx512_bf16"}, True),
        # AMX (Sapphire Rapids and later)
        ({"avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}, True),
        (set(), False),
    ],
)
def test_auto_reads_the_cpu_flags(monkeypatch, flags, native):
    monkeypatch.delenv(precision.ENV_VAR, raising=False)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    precision.has_native_bfloat16.cache_clear()
    try:
        want = torch.bfloat16 if native else torch.float32
        assert precision.has_native_bfloat16(CPU) is native
        assert inference_dtype("auto", CPU) == want
    finally:
        precision.has_native_bfloat16.cache_clear()


def test_cpu_flags_are_read_from_the_system():
    flags = precision.cpu_flags()
    assert isinstance(flags, frozenset)
    if flags and "avx2" in flags:
        assert precision.has_native_bfloat16(CPU) is bool(
            flags & precision.BFLOAT16_CPU_FLAGS
        )
