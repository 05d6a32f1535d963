import torch

from spacy_lstm.models.biaffine import sentence_grid
from spacy_lstm.torch_modules import biaffine
from spacy_lstm.torch_modules.biaffine import BiaffineScorer


def test_labels_scored_in_chunks_equal_one_product(monkeypatch):
    """Scoring labels in chunks of tokens bounds memory and changes nothing."""
    torch.manual_seed(0)
    scorer = BiaffineScorer(nI=8, arc_width=6, label_width=5, n_labels=4, dropout=0.0)
    with torch.no_grad():
        scorer.label_weight.normal_()
    lengths = [3, 7, 1, 12]
    X = torch.randn(sum(lengths), 8)
    _, tensors, token_rows, head_rows = sentence_grid(lengths)
    groups = [(torch.from_numpy(i), torch.from_numpy(m)) for i, m in tensors]
    args = (X, groups, torch.from_numpy(token_rows), torch.from_numpy(head_rows))
    _, whole, heads = scorer(*args)
    monkeypatch.setattr(biaffine, "LABEL_CHUNK", 5)
    _, chunked, same_heads = scorer(*args)
    assert torch.equal(heads, same_heads)
    torch.testing.assert_close(chunked, whole)
