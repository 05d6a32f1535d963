"""Helpers and type aliases shared across the package."""

from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence

import numpy
import numpy.typing
from spacy.attrs import IDS, NAMES
from spacy.vocab import Vocab

Floats2dNumpy = numpy.typing.NDArray[numpy.floating]
Ints1dNumpy = numpy.typing.NDArray[numpy.integer]


def length_groups(
    lengths: Sequence[int], max_padding: float, small_group: int, power: int = 1
) -> List[List[int]]:
    """Split a batch into groups of similar length for padding, so that one
    long item among many short ones does not pad them all to its length.

    Items are taken longest first. A group grows while its padded cost,
    size * longest ** power, stays within max_padding times the unpadded cost
    (the sum of length ** power), or within small_group, below which another
    pass costs more than the padding. Empty items go in no group.

    lengths (Sequence[int]): The item lengths.
    max_padding (float): The largest padded / unpadded cost ratio of a group.
    small_group (int): A padded cost that is always allowed.
    power (int): 1 when the work grows with length (an RNN), 2 when it grows
        with its square (all pairs of tokens).
    RETURNS (List[List[int]]): Item indices per group, longest first.
    """
    L = numpy.asarray(lengths, dtype="int64")
    order = [int(i) for i in numpy.argsort(-L, kind="stable") if L[i] > 0]
    groups = []
    while order:
        longest = int(L[order[0]]) ** power
        size, real = 1, longest
        while size < len(order):
            padded = longest * (size + 1)
            more = real + int(L[order[size]]) ** power
            if padded > max_padding * more and padded > small_group:
                break
            size, real = size + 1, more
        groups.append(order[:size])
        order = order[size:]
    return groups


def cheapest_groups(
    lengths: Sequence[int], step_cost: float, group_cost: float
) -> List[List[int]]:
    """Split a batch into the groups of similar length that are cheapest to
    run through a recurrent network, each padded to its longest item.

    A group of B items whose longest has T steps costs T * (B + step_cost) +
    group_cost, in units of one padded cell (one item, one step): step_cost
    is what a step costs beyond its cells, group_cost what another pass costs
    beyond its steps. Taken longest first, the items are cut into the runs of
    least total cost (dynamic programming). Empty items go in no group.

    lengths (Sequence[int]): The item lengths.
    step_cost (float): The cost of a step, in padded cells.
    group_cost (float): The cost of a pass, in padded cells.
    RETURNS (List[List[int]]): Item indices per group, longest first.
    """
    L = numpy.asarray(lengths, dtype="int64")
    order = numpy.argsort(-L, kind="stable")
    order = order[L[order] > 0]
    longest = L[order].astype("float64")
    n = len(order)
    # best[j]: the least cost of the first j items; cut[j]: where its last
    # group starts
    best = numpy.zeros(n + 1)
    cut = numpy.zeros(n + 1, dtype="int64")
    for j in range(1, n + 1):
        starts = numpy.arange(j)
        costs = best[:j] + longest[:j] * (j - starts + step_cost) + group_cost
        cut[j] = costs.argmin()
        best[j] = costs[cut[j]]
    groups = []
    while n:
        groups.append([int(i) for i in order[cut[n] : n]])
        n = int(cut[n])
    return groups[::-1]


def bucket(n: int) -> int:
    """n rounded up to one of a few sizes: exact up to 8, then 4 sizes per
    doubling (10, 12, 14, 16, 20, 24, 28, 32, 40, ...), less than a quarter
    more than n.

    Why: oneDNN, which runs torch's CPU LSTMs and bfloat16 matrix products,
    builds a kernel for every new input shape and keeps the last 1,024. A
    parser batch has new shapes every time (its token count, its groups' steps
    and sizes): a bfloat16 Linear took 1.6 ms the first time it saw a shape
    and 0.1 ms after. Padded to these sizes, the shapes recur.

    n (int): A positive size.
    RETURNS (int): The size to pad to.
    """
    quantum = 1 << max(0, int(n).bit_length() - 3)
    return -(-int(n) // quantum) * quantum


def load_or_explain(
    name: str,
    path: Path,
    files: Sequence[str],
    exclude: Iterable[str],
    load: Callable[[], object],
) -> None:
    """Run a component's load; a missing file, or files that fail to load,
    become a ValueError that names them."""
    for file in files:
        if file not in exclude and not (path / file).exists():
            kind = "weights file" if file == "model" else "file"
            raise ValueError(
                f"{name} {kind} is missing: {path / file}. Restore it or train "
                "the pipeline again."
            )
    try:
        load()
    except Exception as err:
        named = " or ".join(str(path / file) for file in ("model", "cfg"))
        raise ValueError(
            f"Could not load {name} from {path}: {named} is corrupt "
            f"({type(err).__name__}: {err})."
        ) from err


class KeepsVectorsKey:
    """A mixin for TrainablePipe components that keeps the vectors table's key
    attribute across saving and loading.

    spaCy 3.8 saves a vectors table's key attribute (LOWER for word2vec's
    vectors) only for floret tables, so a vocab loaded from bytes or disk keys
    the table by ORTH again and the vectors of capitalised words vanish. The
    component saves the attribute in its cfg and sets it back when it loads,
    whether or not its load included the vocab."""

    vocab: Vocab
    cfg: Dict

    def _note_vectors_key(self) -> None:
        vectors = self.vocab.vectors
        keyed = vectors.mode == "default" and vectors.shape[0] > 0
        self.cfg["vectors_attr"] = NAMES[vectors.attr] if keyed else None

    def _restore_vectors_key(self) -> None:
        name = self.cfg.get("vectors_attr")
        vectors = self.vocab.vectors
        if name and vectors.mode == "default" and vectors.shape[0] > 0:
            if vectors.attr != IDS[name]:
                vectors._set_cfg({"mode": "default", "attr": IDS[name]})

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        """Serialize, with the vectors' key attribute in the cfg."""
        self._note_vectors_key()
        return super().to_bytes(exclude=exclude)  # type: ignore[misc]

    def to_disk(self, path: Path, *, exclude: Iterable[str] = tuple()) -> None:
        """Save, with the vectors' key attribute in the cfg."""
        self._note_vectors_key()
        super().to_disk(path, exclude=exclude)  # type: ignore[misc]

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        """Load, then key the vectors by the saved attribute."""
        super().from_bytes(bytes_data, exclude=exclude)  # type: ignore[misc]
        self._restore_vectors_key()
        return self

    def from_disk(self, path: Path, *, exclude: Iterable[str] = tuple()):
        """Load, then key the vectors by the saved attribute."""
        super().from_disk(path, exclude=exclude)  # type: ignore[misc]
        self._restore_vectors_key()
        return self
