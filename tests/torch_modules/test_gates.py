"""Gates recomputed step by step give the fused kernels' hidden states."""

import pytest
import torch
from torch import nn

from spacy_lstm.torch_modules.gates import RECORDED, gate_activations


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
def test_recomputed_hidden_states_equal_the_fused_ones(cell):
    torch.manual_seed(0)
    rnn = cell(12, 16, num_layers=3, batch_first=True).eval()
    inputs = torch.randn(40, 12)
    with torch.no_grad():
        fused, _ = rnn(inputs[None])
    layers = gate_activations(rnn, inputs)
    assert len(layers) == 3
    assert set(layers[0]) == set(RECORDED[rnn.mode])
    assert torch.allclose(layers[-1]["hidden"], fused[0], atol=1e-5)
    for layer in layers:
        for values in layer.values():
            assert values.shape == (40, 16)


def test_lstm_gates_are_probabilities_and_make_the_cell_state():
    torch.manual_seed(1)
    rnn = nn.LSTM(8, 8).eval()
    layer = gate_activations(rnn, torch.randn(10, 8))[0]
    for gate in ("input", "forget", "output"):
        assert 0 <= float(layer[gate].min()) and float(layer[gate].max()) <= 1
    previous = torch.cat([torch.zeros(1, 8), layer["cell"][:-1]])
    expected = layer["forget"] * previous + layer["input"] * layer["candidate"]
    assert torch.allclose(layer["cell"], expected, atol=1e-6)


def test_bidirectional_layers_are_refused():
    with pytest.raises(ValueError, match="unidirectional"):
        gate_activations(nn.LSTM(4, 4, bidirectional=True), torch.randn(3, 4))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("separate", [False, True])
def test_encoder_gates_give_the_encoders_outputs(cell, separate):
    from spacy_lstm.models.encoder import padding_plan
    from spacy_lstm.torch_modules.gates import birnn_gate_activations
    from spacy_lstm.torch_modules.rnn import BiRNN

    torch.manual_seed(2)
    birnn = BiRNN(6, 5, depth=2, dropout=0.0, cell=cell, separate_directions=separate)
    birnn.eval()
    inputs = torch.randn(9, 6)
    groups, forward_rows, backward_rows = padding_plan([9])
    groups = [(s, n, torch.from_numpy(f), torch.from_numpy(b)) for s, n, f, b in groups]
    with torch.no_grad():
        fused = birnn(
            inputs,
            groups,
            torch.from_numpy(forward_rows),
            torch.from_numpy(backward_rows),
        )
    layers = birnn_gate_activations(birnn, inputs)
    assert len(layers) == 2 and set(layers[0]) == {"forward", "backward"}
    last = torch.cat(
        [layers[-1]["forward"]["hidden"], layers[-1]["backward"]["hidden"]], 1
    )
    assert torch.allclose(last, fused, atol=1e-5)
