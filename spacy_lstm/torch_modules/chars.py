"""A character CNN that reads each word type once."""

import torch

PAD, BOW, EOW = 0, 1, 2
RESERVED = 3  # rows for PAD, BOW and EOW; characters hash into the others


class CharCNN(torch.nn.Module):
    """Embed each character, convolve over the characters of a word (with a
    begin- and end-of-word marker), max-pool over positions and squash with
    tanh, as in the character CNNs of Kim et al. (2016) and ELMo: one vector
    per word type, gathered for each token.

    rows (int): Character embedding rows, the first RESERVED of them for
        padding and the word boundaries.
    char_width (int): The character embedding width.
    width (int): The number of filters, the output width.
    window (int): The characters each filter reads, odd.
    """

    def __init__(self, rows: int, char_width: int, width: int, window: int):
        super().__init__()
        self.embed = torch.nn.Embedding(rows, char_width, padding_idx=PAD)
        self.conv = torch.nn.Conv1d(char_width, width, window, padding=window // 2)

    def forward(self, chars: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """chars: (n_types, n_positions) character rows, PAD after each word;
        index: the type of each token. Returns (n_tokens, width)."""
        H = self.conv(self.embed(chars).transpose(1, 2))
        # Padding must not win the max: every word has BOW and EOW, so each
        # row keeps at least two real positions.
        H = H.masked_fill((chars == PAD).unsqueeze(1), float("-inf"))
        # tanh is monotonic: squashing the maximum equals the maximum squashed
        return torch.tanh(H.max(dim=2).values).index_select(0, index)
