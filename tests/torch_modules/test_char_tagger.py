import torch

from spacy_lstm.torch_modules.char_tagger import CharTagger, category_rows


def test_scores_do_not_depend_on_padding_or_batch():
    torch.manual_seed(0)
    tagger = CharTagger(50, 5, char_width=8, width=16, depth=2, dropout=0.0).eval()
    chars = torch.randint(2, 50, (1, 10))
    categories = torch.randint(1, 30, (1, 10))
    alone = tagger(chars, categories, torch.tensor([10]))
    # padded with 6 zeros and batched with a longer row
    padded = torch.zeros((2, 16), dtype=torch.long)
    padded_categories = torch.zeros((2, 16), dtype=torch.long)
    padded[0, :10], padded_categories[0, :10] = chars[0], categories[0]
    padded[1], padded_categories[1] = torch.randint(2, 50, (16,)), 5
    batched = tagger(padded, padded_categories, torch.tensor([10, 16]))
    assert torch.allclose(alone[0], batched[0, :10], atol=1e-6)


def test_unknown_characters_keep_their_category():
    letters, digit, space = category_rows("aZ"), category_rows("7"), category_rows(" ")
    assert letters[0] != letters[1] and len({letters[0], digit[0], space[0]}) == 3
