"""A character BiLSTM that labels every character of a text: the tokenizer's
network (Stanza's tokenizer is of the same kind)."""

import unicodedata
from typing import List

import torch

PAD, UNKNOWN = 0, 1  # character rows before the vocabulary's
# Unicode general categories: an unseen character still says whether it is a
# letter, a digit, punctuation or a space
CATEGORIES = [
    "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd",
    "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc",
    "Cf", "Cs", "Co", "Cn",
]  # fmt: skip
CATEGORY_ROW = {name: row for row, name in enumerate(CATEGORIES, start=1)}


def category_rows(text: str) -> List[int]:
    """Each character's Unicode category as an embedding row (0 is padding)."""
    return [CATEGORY_ROW.get(unicodedata.category(c), len(CATEGORIES)) for c in text]


class CharTagger(torch.nn.Module):
    """Character and category embeddings, a BiLSTM and a linear layer: a score
    for each label at each character.

    n_chars (int): Character rows: PAD, UNKNOWN, then the vocabulary.
    n_labels (int): The labels.
    char_width (int): The character embedding width.
    width (int): Hidden units per direction.
    depth (int): BiLSTM layers.
    dropout (float): Dropout on the embeddings and the BiLSTM output.
    """

    def __init__(
        self,
        n_chars: int,
        n_labels: int,
        char_width: int = 32,
        width: int = 32,
        depth: int = 1,
        dropout: float = 0.1,
    ):
        super().__init__()
        # what serialize_with_config saves, to rebuild this shape on loading
        self.config = dict(
            n_chars=n_chars, n_labels=n_labels, char_width=char_width, width=width,
            depth=depth, dropout=dropout,
        )  # fmt: skip
        self.chars = torch.nn.Embedding(n_chars, char_width, padding_idx=PAD)
        self.categories = torch.nn.Embedding(len(CATEGORIES) + 1, 8, padding_idx=0)
        # one LSTM a direction per layer: the backward one reads each row
        # reversed within its own length, so padding never reaches a character
        sizes = [char_width + 8] + [2 * width] * (depth - 1)
        self.forwards = torch.nn.ModuleList(
            torch.nn.LSTM(size, width, batch_first=True) for size in sizes
        )
        self.backwards = torch.nn.ModuleList(
            torch.nn.LSTM(size, width, batch_first=True) for size in sizes
        )
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(2 * width, n_labels)

    def forward(
        self, chars: torch.Tensor, categories: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """chars, categories: (batch, length) rows, padded with 0 after their
        last character; lengths: each row's characters. Returns (batch,
        length, n_labels) scores, the same for a row whatever its padding.

        Rows are not packed: the backward pass of a packed LSTM zeroes a
        tensor of all its input gates at every step (20x slower training)."""
        X = self.dropout(
            torch.cat([self.chars(chars), self.categories(categories)], dim=-1)
        )
        positions = torch.arange(chars.shape[1], device=chars.device)[None, :]
        last = lengths.to(chars.device)[:, None] - 1
        # row r reversed within its length: position j reads last[r] - j
        reverse = torch.where(positions <= last, last - positions, positions)
        for depth, (forward, backward) in enumerate(zip(self.forwards, self.backwards)):
            if depth:
                X = self.dropout(X)
            ahead, _ = forward(X)
            index = reverse[:, :, None].expand(-1, -1, X.shape[-1])
            behind, _ = backward(X.gather(1, index))
            index = reverse[:, :, None].expand(-1, -1, behind.shape[-1])
            X = torch.cat([ahead, behind.gather(1, index)], dim=-1)
        return self.output(self.dropout(X))
