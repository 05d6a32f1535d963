import math

import pytest
import torch

from spacy_lstm.torch_modules.language_model import RNNLanguageModel, detach_state


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_carrying_the_state_equals_one_long_pass(cell):
    torch.manual_seed(0)
    model = RNNLanguageModel(50, width=16, depth=2, cell=cell, dropout=0.0).eval()
    ids = torch.randint(0, 50, (3, 20))
    full, _ = model(ids)
    first, state = model(ids[:, :12])
    second, _ = model(ids[:, 12:], detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), full)


def test_tied_and_adaptive_outputs():
    tied = RNNLanguageModel(30, width=8)
    assert tied.decoder.weight is tied.embed.weight
    untied = RNNLanguageModel(30, width=8, tie=False)
    assert untied.decoder.weight is not untied.embed.weight
    adaptive = RNNLanguageModel(30, width=16, cutoffs=[10, 20])
    hidden, _ = adaptive(torch.randint(0, 30, (2, 5)))
    log_probs = adaptive.log_probs(hidden)
    assert log_probs.shape == (2, 5, 30)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(2, 5))
    with pytest.raises(ValueError, match="Unknown recurrent cell"):
        RNNLanguageModel(30, cell="transformer")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_overfits_a_short_sequence(cell):
    torch.manual_seed(0)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
    model = RNNLanguageModel(10, width=32, depth=1, cell=cell, dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(150):
        hidden, _ = model(ids[:, :-1])
        loss = model.loss(hidden, ids[:, 1:]) / (ids.shape[1] - 1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert math.exp(loss.item()) < 1.2
