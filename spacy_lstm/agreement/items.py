"""Minimal-pair items and their two file formats.

Our TSV: one item per line, four tab-separated columns, `prefix` (its words
separated by spaces), `correct`, `wrong` and `group` (any label, such as the
number of attractors). A first line `prefix<TAB>correct<TAB>wrong<TAB>group`
is a header; blank lines are skipped. (There are no comment lines: a prefix
may start with "#".)

Linzen et al. (2016) and Gulordava et al. (2018) keep their items in
line-aligned files: the sentences (tokenized, words separated by spaces) and a
gold file whose line i says, for sentence i, the target's 0-based word index,
the correct form, the wrong form and the number of attractors, tab-separated.
The prefix is the sentence's words before the target.
"""

from pathlib import Path
from typing import Iterable, List, NamedTuple

HEADER = ["prefix", "correct", "wrong", "group"]


class AgreementItem(NamedTuple):
    prefix: List[str]  # the words before the target
    correct: str  # the form that agrees
    wrong: str  # the form that does not
    group: str  # e.g. the number of attractors
    where: str  # file and line, for messages


def read_items(path: Path) -> List[AgreementItem]:
    """The items of a TSV file in our format."""
    path = Path(path)
    items: List[AgreementItem] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and [f.strip() for f in fields] == HEADER:
            continue
        where = f"{path}, line {number}"
        if len(fields) != 4:
            raise ValueError(
                f"{where}: expected 4 tab-separated columns (prefix, correct, "
                f"wrong, group), found {len(fields)}."
            )
        prefix, correct, wrong, group = (f.strip() for f in fields)
        items.append(_item(prefix.split(), correct, wrong, group, where))
    return _not_empty(items, path)


def read_linzen(text_path: Path, gold_path: Path) -> List[AgreementItem]:
    """The items of a sentence file and its line-aligned gold file (the
    format of Linzen et al. 2016 and Gulordava et al. 2018)."""
    sentences = _lines(Path(text_path))
    golds = _lines(Path(gold_path))
    if len(sentences) != len(golds):
        raise ValueError(
            f"{text_path} has {len(sentences)} lines but {gold_path} has "
            f"{len(golds)}: the files must be line-aligned."
        )
    items: List[AgreementItem] = []
    for number, (sentence, gold) in enumerate(zip(sentences, golds), start=1):
        where = f"{gold_path}, line {number}"
        fields = gold.split("\t")
        if len(fields) != 4:
            raise ValueError(
                f"{where}: expected 4 tab-separated columns (target index, correct, "
                f"wrong, attractors), found {len(fields)}."
            )
        index, correct, wrong, attractors = (f.strip() for f in fields)
        words = sentence.split()
        if not (index.isdigit() and int(index) < len(words)):
            raise ValueError(
                f"{where}: the target index must be a word of sentence {number} "
                f"(0 to {len(words) - 1}), got {index!r}."
            )
        if not attractors.isdigit():
            raise ValueError(
                f"{where}: the number of attractors must be a whole number, got "
                f"{attractors!r}."
            )
        items.append(
            _item(words[: int(index)], correct, wrong, str(int(attractors)), where)
        )
    return _not_empty(items, Path(gold_path))


def write_items(items: Iterable[AgreementItem], path: Path) -> int:
    """Write items as our TSV (with its header); returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf8") as file_:
        file_.write("\t".join(HEADER) + "\n")
        for item in items:
            words = [*item.prefix, item.correct, item.wrong, item.group]
            if any(not word or len(word.split()) != 1 for word in words):
                raise ValueError(
                    f"{item.where}: a word or group that is empty or holds "
                    "whitespace cannot be written to the items file."
                )
            fields = [" ".join(item.prefix), item.correct, item.wrong, item.group]
            file_.write("\t".join(fields) + "\n")
            count += 1
    return count


def _item(
    prefix: List[str], correct: str, wrong: str, group: str, where: str
) -> AgreementItem:
    if not correct or not wrong or " " in correct or " " in wrong:
        raise ValueError(f"{where}: the correct and wrong forms must be single words.")
    if not group:
        raise ValueError(f"{where}: the group is empty.")
    return AgreementItem(prefix, correct, wrong, group, where)


def _lines(path: Path) -> List[str]:
    try:
        text = path.read_text(encoding="utf8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8: {err}") from None
    return text.splitlines()


def _not_empty(items: List[AgreementItem], path: Path) -> List[AgreementItem]:
    if not items:
        raise ValueError(f"{path} has no items.")
    return items
