"""Tree decoding: Chu-Liu-Edmonds with a single root, and tree checks."""

from .mst import chu_liu_edmonds, decode_tree, find_cycle, is_tree, is_tree_grid

__all__ = ["chu_liu_edmonds", "decode_tree", "find_cycle", "is_tree", "is_tree_grid"]
