"""One strict CoNLL-U reader for training (spacy-lstm.Corpus.v1) and scoring
(evaluate-parser).

spaCy's converter, and a loose reader, take some malformed files silently: a
separator line holding spaces merges two sentences, a token line with spaces
instead of tabs disappears. Here every line is checked, with its line number
in the error, and trees that are not trees (no root, two roots, a cycle) are
counted in a warning.
"""

import re
import warnings
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

import numpy

from ..parsing import find_cycle

# A reference doc's raw text, kept where the tokenizer can learn from it:
# (text, [(start, end, words, sentence_end), ...]) per token of the text
RAW_TEXT_KEY = "spacy_lstm.raw_text"

WORD_ID = re.compile(r"^[1-9][0-9]*$")
# multiword tokens (3-4) and empty nodes (5.1) are kept but are not words
OTHER_ID = re.compile(r"^([1-9][0-9]*-[1-9][0-9]*|[0-9]+\.[1-9][0-9]*)$")


class Sentence(NamedTuple):
    lines: List[str]  # every line of the sentence block, comments included
    word_lines: List[int]  # indices of the lines that hold syntactic words
    words: List[str]
    spaces: List[bool]
    heads: List[int]  # 0-based index of the head in the sentence; itself for root
    deps: List[str]
    first_line: int  # its first line's number in the file


def read_conllu(path: Path) -> List[Sentence]:
    """The sentences of a CoNLL-U file.

    RETURNS (List[Sentence]): Every sentence with at least one word.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf8")
    except UnicodeDecodeError as err:
        raise ValueError(f"CoNLL-U file {path} is not UTF-8: {err}") from None
    sentences: List[Sentence] = []
    block: List[str] = []
    start = 1
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if line.strip():
            block.append(line)
            continue
        if block:
            sentence = _sentence(block, path, start)
            if sentence is not None:
                sentences.append(sentence)
        block, start = [], number + 1
    if not sentences:
        raise ValueError(f"No sentences found in CoNLL-U file {path}")
    _warn_about_trees(sentences, path)
    return sentences


def _sentence(lines: List[str], path: Path, first: int) -> Optional[Sentence]:
    word_lines, words, spaces, heads, deps = [], [], [], [], []
    for i, line in enumerate(lines):
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        where = f"{path}, line {first + i}"
        if len(cols) != 10:
            raise ValueError(
                f"{where}: expected 10 tab-separated columns, found {len(cols)}: "
                f"{line[:60]!r}"
            )
        if OTHER_ID.match(cols[0]):
            continue
        if not WORD_ID.match(cols[0]) or int(cols[0]) != len(words) + 1:
            raise ValueError(
                f"{where}: expected word ID {len(words) + 1}, found {cols[0]!r}"
            )
        if not cols[6].isdigit():
            raise ValueError(f"{where}: HEAD must be a number, found {cols[6]!r}")
        word_lines.append(i)
        words.append(cols[1])
        spaces.append("SpaceAfter=No" not in cols[9].split("|"))
        heads.append(int(cols[6]) - 1 if cols[6] != "0" else len(heads))
        deps.append(cols[7])
    if not words:
        return None
    for i, head in enumerate(heads):
        if head >= len(words):
            raise ValueError(
                f"{path}, line {first + word_lines[i]}: HEAD {head + 1} is beyond "
                f"the sentence's {len(words)} words"
            )
    return Sentence(lines, word_lines, words, spaces, heads, deps, first)


def tree_problem(heads: List[int]) -> Optional[str]:
    """What keeps the heads from forming one tree ("no root", "2 roots", "a
    cycle"), or None. heads: 0-based, a root is its own head."""
    arcs = numpy.array([0] + [0 if h == i else h + 1 for i, h in enumerate(heads)])
    roots = int((arcs[1:] == 0).sum())
    if roots != 1:
        return "no root" if roots == 0 else f"{roots} roots"
    return "a cycle" if find_cycle(arcs) is not None else None


def _warn_about_trees(sentences: List[Sentence], path: Path) -> None:
    problems = [(s, tree_problem(s.heads)) for s in sentences]
    bad = [(s, problem) for s, problem in problems if problem is not None]
    if bad:
        sentence, problem = bad[0]
        warnings.warn(
            f"{path}: {len(bad)} of {len(sentences)} sentences are not trees "
            f"(the first, at line {sentence.first_line}, has {problem}). A parser "
            "learns and is scored on them as they are."
        )


def read_paragraphs(path: Path) -> List[str]:
    """The raw text of a CoNLL-U file, one string per paragraph, for a pipeline
    to tokenize, split and parse as a user's text.

    A paragraph starts at each `# newpar` or `# newdoc` comment; a file with
    neither is one paragraph (with a warning). A sentence's text is its
    `# text` comment, or else its tokens' forms joined as their SpaceAfter=No
    marks say. Sentences of a paragraph are joined by a space, or by nothing
    where the last token of the first one has SpaceAfter=No.

    RETURNS (List[str]): The paragraphs' texts.
    """
    sentences = read_conllu(path)
    paragraphs: List[List[str]] = []
    marked = False
    for sentence in sentences:
        starts = any(_starts_paragraph(line) for line in sentence.lines)
        marked = marked or starts
        if starts or not paragraphs:
            paragraphs.append([])
        tokens = surface_tokens(sentence)
        text = _comment(sentence, "text")
        if text is None:
            text = "".join(form + space for form, _, space in tokens).rstrip(" ")
        paragraphs[-1].append(text + tokens[-1][2])
    if not marked and len(sentences) > 1:
        warnings.warn(
            f"{path} has no '# newpar' or '# newdoc' lines: its "
            f"{len(sentences)} sentences are read as one paragraph."
        )
    return ["".join(texts).rstrip(" ") for texts in paragraphs]


def _starts_paragraph(line: str) -> bool:
    return line.startswith("#") and line[1:].lstrip().startswith(("newpar", "newdoc"))


def _comment(sentence: Sentence, key: str) -> Optional[str]:
    """The value of the sentence's `# key = value` comment, if it has one."""
    for line in sentence.lines:
        name, _, value = line[1:].partition("=")
        if line.startswith("#") and name.strip() == key:
            return value.strip()
    return None


def surface_tokens(sentence: Sentence) -> List[Tuple[str, int, str]]:
    """The tokens of the sentence as written: (form, how many words, the
    space after it), a multiword token once."""
    tokens = []
    inside_until = 0
    for line in sentence.lines:
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if "." in cols[0]:
            continue
        if "-" in cols[0]:
            first, last = map(int, cols[0].split("-"))
            inside_until, n_words = last, last - first + 1
        elif int(cols[0]) <= inside_until:
            continue
        else:
            n_words = 1
        space = "" if "SpaceAfter=No" in cols[9].split("|") else " "
        tokens.append((cols[1], n_words, space))
    return tokens


def raw_text_tokens(sentences: List[Sentence]) -> Tuple[str, List[Tuple]]:
    """The text of consecutive sentences as written (tokens' forms and their
    SpaceAfter=No; a multiword token's surface form once), with each token's
    character span, how many words it holds and whether a sentence ends there.

    RETURNS (Tuple[str, List[Tuple]]): The text and (start, end, n_words,
        sentence_end) for each token.
    """
    pieces: List[str] = []
    tokens: List[Tuple] = []
    at = 0
    for sentence in sentences:
        sentence_tokens = surface_tokens(sentence)
        for i, (form, n_words, space) in enumerate(sentence_tokens):
            last = i + 1 == len(sentence_tokens)
            tokens.append((at, at + len(form), n_words, last))
            pieces.append(form + space)
            at += len(form) + len(space)
    return "".join(pieces), tokens
