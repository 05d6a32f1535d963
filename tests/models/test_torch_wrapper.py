import gc
import os
import subprocess
import sys

import pytest
import torch
from thinc.api import SGD, Adam, PyTorchWrapper_v3

from spacy_lstm.models.torch_wrapper import TorchWrapper
from spacy_lstm.precision import has_native_bfloat16


def live_tensors() -> int:
    return sum(1 for obj in gc.get_objects() if torch.is_tensor(obj))


def train(wrap, optimizer, steps=30):
    torch.manual_seed(0)
    module = torch.nn.Linear(20, 20)
    shim = wrap(module).shims[0]
    counts = []
    for step in range(steps):
        x = torch.randn(4, 20, generator=torch.Generator().manual_seed(step))
        module(x).pow(2).sum().backward()
        shim.finish_update(optimizer)
        counts.append(live_tensors())
    return module, counts


@pytest.mark.parametrize("make_optimizer", [lambda: SGD(0.01), lambda: Adam(0.01)])
def test_updates_in_place_like_thinc_without_keeping_old_weights(make_optimizer):
    ours, counts = train(TorchWrapper, make_optimizer())
    theirs, their_counts = train(PyTorchWrapper_v3, make_optimizer())
    assert torch.equal(ours.weight, theirs.weight)
    assert torch.equal(ours.bias, theirs.bias)
    assert counts[-1] == counts[5]  # flat: nothing kept from step to step
    # thinc's own shim keeps every step's weights alive (the bug worked around)
    assert their_counts[-1] > their_counts[5]


def test_use_params_swaps_in_the_optimizer_averages_and_restores():
    module = torch.nn.Linear(3, 2)
    model = TorchWrapper(module)
    optimizer = Adam(0.1, use_averages=True)
    for _ in range(5):
        module(torch.ones(1, 3)).sum().backward()
        model.finish_update(optimizer)
    trained = module.weight.detach().clone()
    key = (model.shims[0].id, "weight")
    average = torch.from_numpy(optimizer.averages[key])
    assert not torch.equal(average, trained)
    with model.use_params(optimizer.averages):
        assert torch.equal(module.weight.detach(), average)
    assert torch.equal(module.weight.detach(), trained)


def test_int8_inference_follows_every_weight_change():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh())
    model = TorchWrapper(module)
    shim = model.shims[0]
    shim.precision = "float32"
    X = torch.randn(8, 16).numpy()
    float32 = model.predict(X)
    shim.int8_inference = True
    int8 = model.predict(X)
    quantized = shim._copy("int8")
    assert isinstance(quantized[0], torch.ao.nn.quantized.dynamic.Linear)
    assert not (int8 == float32).all() and abs(int8 - float32).max() < 0.05
    assert shim._copy("int8") is quantized  # kept while the weights stay
    optimizer = Adam(0.1, use_averages=True)
    for _ in range(3):
        module(torch.ones(1, 16)).sum().backward()
        model.finish_update(optimizer)
    shim.int8_inference = False
    updated = model.predict(X)
    shim.int8_inference = True
    assert abs(model.predict(X) - updated).max() < 0.05
    with model.use_params(optimizer.averages):  # evaluation with the averages
        shim.int8_inference = False
        averaged = model.predict(X)
        shim.int8_inference = True
        assert abs(model.predict(X) - averaged).max() < 0.05
    assert abs(updated - averaged).max() > 0.1
    assert module[0].weight.dtype == torch.float32  # the float weights stay


def test_int8_inference_without_torch_quantization_says_so(monkeypatch):
    import spacy

    from spacy_lstm import inference

    monkeypatch.delattr(torch.ao.quantization, "quantize_dynamic")
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="int8_inference.v1"):
        inference.int8_inference(nlp)
    assert inference.int8_inference(nlp, enable=False) is nlp


@pytest.mark.skipif(
    not has_native_bfloat16(torch.device("cpu")),
    reason="this CPU does not compute bfloat16 natively (no AVX512-BF16 or AMX)",
)
def test_bfloat16_inference_returns_float32_arrays():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh())
    model = TorchWrapper(module)
    shim = model.shims[0]
    X = torch.randn(8, 16).numpy()
    shim.precision = "float32"
    float32 = model.predict(X)
    shim.precision = "bfloat16"
    bfloat16 = model.predict(X)
    assert bfloat16.dtype == float32.dtype == "float32"
    assert not (bfloat16 == float32).all() and abs(bfloat16 - float32).max() < 0.05
    Y, backprop = model(X, is_train=True)  # training stays in float32
    shim.precision = "float32"
    assert (Y == model.predict(X)).all()


FORK_PROBE = """
import os, sys, torch
torch.set_num_threads(2)
import spacy_lstm
def child_threads():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, str(torch.get_num_threads()).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    return int(os.read(read, 16))
before = child_threads()
import spacy
spacy.blank("en").add_pipe("lstm_parser")
print(before, child_threads())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_importing_the_package_leaves_forked_children_alone():
    """Only a process that builds one of our torch layers gives its forked
    children one thread (nlp.pipe(n_process=2) would hang otherwise)."""
    result = subprocess.run(
        [sys.executable, "-c", FORK_PROBE], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["2", "1"]
