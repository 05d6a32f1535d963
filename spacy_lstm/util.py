"""Helpers and type aliases shared across the package."""

from pathlib import Path
from typing import Callable, Iterable, List, Sequence

import numpy
import numpy.typing

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
