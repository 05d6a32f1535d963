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
    assert math.exp(fit(model, ids)) < 1.2


def fit(model, ids, steps=150):
    """Train with Adam on one sequence; the last step's loss per token."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(steps):
        hidden, _ = model(ids[:, :-1])
        loss = model.loss(hidden, ids[:, 1:]) / (ids.shape[1] - 1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def test_sampled_softmax_trains_and_evaluates_in_full():
    torch.manual_seed(0)
    ids = torch.randint(0, 200, (4, 30))
    model = RNNLanguageModel(200, width=16, depth=1, dropout=0.0, sampled=20)
    hidden, _ = model(ids[:, :-1])
    sampled_loss = model.loss(hidden, ids[:, 1:])
    sampled_loss.backward()
    assert torch.isfinite(sampled_loss)
    # only the targets' and candidates' output rows (tied: embeddings) learn
    touched = model.decoder.weight.grad.abs().sum(dim=1) > 0
    assert 0 < int(touched.sum()) < 200
    model.eval()
    full_loss = model.loss(hidden, ids[:, 1:])
    full_log_probs = model.target_log_probs(hidden, ids[:, 1:])
    torch.testing.assert_close(full_loss, -full_log_probs.sum())
    # with at least as many samples as words, training uses the full softmax
    everything = RNNLanguageModel(200, width=16, depth=1, dropout=0.0, sampled=200)
    everything.load_state_dict(model.state_dict())
    torch.testing.assert_close(everything.train().loss(hidden, ids[:, 1:]), full_loss)
    with pytest.raises(ValueError, match="not both"):
        RNNLanguageModel(200, cutoffs=[50], sampled=20)


def test_sampled_softmax_overfits_a_short_sequence():
    torch.manual_seed(0)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9] * 2])
    model = RNNLanguageModel(100, width=32, depth=1, dropout=0.0, sampled=10)
    fit(model, ids)
    model.eval()
    hidden, _ = model(ids[:, :-1])
    assert math.exp(model.loss(hidden, ids[:, 1:]).item() / (ids.shape[1] - 1)) < 1.5


@pytest.mark.parametrize("cutoffs", [None, [10, 20]])
def test_scoring_in_blocks_of_rows_equals_one_pass(monkeypatch, cutoffs):
    from spacy_lstm.torch_modules import language_model

    torch.manual_seed(0)
    model = RNNLanguageModel(30, width=16, cutoffs=cutoffs).eval()
    ids = torch.randint(0, 30, (3, 11))
    with torch.no_grad():
        hidden, _ = model(ids[:, :-1])
        whole = model.target_log_probs(hidden, ids[:, 1:])
        monkeypatch.setattr(language_model, "SCORING_ROWS", 4)
        blocks = model.target_log_probs(hidden, ids[:, 1:])
    assert blocks.shape == (3, 10)
    torch.testing.assert_close(blocks, whole)
