"""Score minimal pairs with a language model: an item is right when the model
gives the correct form a higher probability than the wrong one after the
prefix (Linzen et al. 2016; Gulordava et al. 2018)."""

import warnings
from collections import defaultdict
from typing import Callable, Dict, Iterable, List, Optional

from ..pipeline.language_model import LanguageModel
from .items import AgreementItem


def score_items(
    lm: LanguageModel,
    items: List[AgreementItem],
    pool_from: Optional[int] = None,
    batch_size: int = 64,
    wrap_batches: Callable[[Iterable, int], Iterable] = lambda batches, n: batches,
) -> Dict:
    """Accuracy overall and per group. Items whose correct or wrong form is
    outside the model's vocabulary cannot be scored; they are counted as
    `unscored` and left out of the accuracies. Nor can items whose two forms
    are the same word (4 of the 7,489 of Gulordava et al.'s English set):
    they are counted as `same_forms`, left out, and named in a warning. With
    pool_from = N, the groups
    that are whole numbers >= N are reported together as "N+" (attractor
    counts of 3 and more, say). wrap_batches wraps the batches (a progress
    bar)."""
    if not items:
        raise ValueError("No agreement items to score.")
    same = [item for item in items if item.correct == item.wrong]
    if same:
        named = "; ".join(item.where for item in same[:10])
        more = f" and {len(same) - 10} more" if len(same) > 10 else ""
        warnings.warn(
            f"{len(same)} agreement items have the same correct and wrong form "
            f"and are not scored: {named}{more}.",
            stacklevel=2,
        )
        items = [item for item in items if item.correct != item.wrong]
        if not items:
            raise ValueError(
                "No agreement items to score: every item's forms are the same."
            )
    right: Dict[str, int] = defaultdict(int)
    scored: Dict[str, int] = defaultdict(int)
    unscored = 0
    starts = range(0, len(items), batch_size * 16)
    for start in wrap_batches(starts, len(starts)):
        chunk = items[start : start + batch_size * 16]
        log_probs = lm.candidate_log_probs(
            [item.prefix for item in chunk],
            [[item.correct, item.wrong] for item in chunk],
            batch_size=batch_size,
        )
        for item, (correct, wrong) in zip(chunk, log_probs):
            if correct is None or wrong is None:
                unscored += 1
                continue
            group = pooled(item.group, pool_from)
            scored[group] += 1
            right[group] += correct > wrong
    total = sum(scored.values())
    return {
        "items": len(items) + len(same),
        "scored": total,
        "unscored": unscored,
        "same_forms": len(same),
        "accuracy": sum(right.values()) / total if total else None,
        "groups": {
            group: {"items": scored[group], "accuracy": right[group] / scored[group]}
            for group in sorted(scored, key=_group_order)
        },
    }


def pooled(group: str, pool_from: Optional[int]) -> str:
    """The group's label, with whole numbers >= pool_from as "pool_from+"."""
    if pool_from is not None and group.isdigit() and int(group) >= pool_from:
        return f"{pool_from}+"
    return group


def _group_order(group: str):
    """Numbers first, in numeric order ("3+" after 2), then other labels."""
    number = group.rstrip("+")
    return (0, int(number), group) if number.isdigit() else (1, 0, group)
