"""Scoring from raw text as the CoNLL 2018 shared task did: tokens, words and
sentences matched by character spans, words inside multiword tokens aligned by
their longest common subsequence, tags and trees scored on the aligned words.

The rules follow the task's evaluation script (v1.2); this is our own code so
that it can score docs in memory, name its errors and be tested case by case.
Characters are compared with whitespace removed, so a system that keeps or
drops a space still lines up with the gold file; the two files must otherwise
hold the same characters.
"""

import unicodedata
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from spacy.tokens import Doc, Token

from .extensions import surface_span, surface_text

ID, FORM, LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL, DEPS, MISC = range(10)
# UFeats compares only these (the task's list): treebank-specific ones are left out
UNIVERSAL_FEATURES = {
    "PronType", "NumType", "Poss", "Reflex", "Foreign", "Abbr", "Gender", "Animacy",
    "Number", "Case", "Definite", "Degree", "VerbForm", "Mood", "Tense", "Aspect",
    "Voice", "Evident", "Polarity", "Person", "Polite",
}  # fmt: skip
METRICS = (
    "tokens", "multiword_tokens", "words", "sentences",
    "upos", "xpos", "ufeats", "lemmas", "uas", "las",
)  # fmt: skip
NOT_ALIGNED = -2  # a system head whose word has no gold partner


class Span(NamedTuple):
    start: int
    end: int  # one past the last character


class Word(NamedTuple):
    span: Span  # its token's span: the multiword token's for a word inside one
    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str  # universal features only, sorted
    head: int  # index into the file's words; -1 for the root
    deprel: str  # without its subtype
    is_multiword: bool


class UDText(NamedTuple):
    """What the task's script reads from a CoNLL-U file."""

    characters: str  # every token's characters, whitespace removed
    tokens: List[Span]
    multiword_tokens: List[Span]
    words: List[Word]
    sentences: List[Span]


class Score(NamedTuple):
    gold: int
    system: int
    correct: int
    aligned: Optional[int] = None  # words aligned, for the scores on words

    def as_dict(self) -> Dict[str, float]:
        """Precision, recall, F1 and, for scores on words, aligned accuracy."""
        scores = {
            "precision": _ratio(self.correct, self.system),
            "recall": _ratio(self.correct, self.gold),
            "f1": _ratio(2 * self.correct, self.gold + self.system),
        }
        if self.aligned is not None:
            scores["aligned_accuracy"] = _ratio(self.correct, self.aligned)
        return scores


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _no_space(form: str) -> str:
    return "".join(
        c for c in form if not c.isspace() and unicodedata.category(c) != "Zs"
    )


def read_ud(text: str, name: str = "CoNLL-U") -> UDText:
    """Read CoNLL-U text (a whole file) the way the task's script does.

    name (str): How errors name the file.
    RETURNS (UDText): Its characters, tokens, multiword tokens, words and sentences.
    """
    characters: List[str] = []
    tokens: List[Span] = []
    multiword: List[Span] = []
    words: List[Word] = []
    sentences: List[Span] = []
    index = 0
    heads: List[int] = []  # HEAD of each word of the sentence being read
    sentence_start: Optional[int] = None  # its first word
    sentence_char = 0  # its first character
    mwt_words_left = 0
    for number, line in enumerate(text.split("\n") + [""], start=1):
        line = line.rstrip("\r")
        where = f"{name}, line {number}"
        if not line.strip():
            if mwt_words_left:
                raise ValueError(
                    f"{where}: a multiword token lacks {mwt_words_left} words"
                )
            if sentence_start is not None:
                sentences.append(Span(sentence_char, index))
                _resolve_heads(words, heads, sentence_start, name)
            sentence_start, heads = None, []
            continue
        if line.startswith("#"):
            continue
        if sentence_start is None:
            sentence_start, sentence_char = len(words), index
        cols = line.split("\t")
        if len(cols) != 10:
            raise ValueError(
                f"{where}: expected 10 tab-separated columns, found {len(cols)}"
            )
        if "." in cols[ID]:
            continue  # empty nodes are not scored
        form = _no_space(cols[FORM])
        if mwt_words_left:
            mwt_words_left -= 1
            words.append(_word(cols, form, tokens[-1], True))
            heads.append(_head(cols, where))
            continue
        if not form:
            raise ValueError(f"{where}: empty FORM")
        characters.append(form)
        tokens.append(Span(index, index + len(form)))
        index += len(form)
        if "-" in cols[ID]:
            first, _, last = cols[ID].partition("-")
            if not (first.isdigit() and last.isdigit()) or int(last) < int(first):
                raise ValueError(f"{where}: bad multiword token ID {cols[ID]!r}")
            multiword.append(tokens[-1])
            mwt_words_left = int(last) - int(first) + 1
            continue
        words.append(_word(cols, form, tokens[-1], False))
        heads.append(_head(cols, where))
    return UDText("".join(characters), tokens, multiword, words, sentences)


def _resolve_heads(words: List[Word], heads: List[int], start: int, name: str) -> None:
    """Turn the sentence's HEAD values into indices into the file's words."""
    for i, head in enumerate(heads):
        if head > len(heads):
            raise ValueError(
                f"{name}: HEAD {head} of {words[start + i].form!r} points past the "
                f"{len(heads)} words of its sentence"
            )
        words[start + i] = words[start + i]._replace(
            head=start + head - 1 if head else -1
        )


def _head(cols: List[str], where: str) -> int:
    if not cols[HEAD].isdigit():
        raise ValueError(f"{where}: HEAD must be a number, found {cols[HEAD]!r}")
    return int(cols[HEAD])


def _word(cols: List[str], form: str, span: Span, is_multiword: bool) -> Word:
    feats = "|".join(
        sorted(
            f
            for f in cols[FEATS].split("|")
            if f.split("=", 1)[0] in UNIVERSAL_FEATURES
        )
    )
    return Word(
        span, form, cols[LEMMA], cols[UPOS], cols[XPOS], feats, 0,
        cols[DEPREL].split(":")[0], is_multiword,
    )  # fmt: skip


def spans_score(gold: Sequence[Span], system: Sequence[Span]) -> Score:
    """Spans that start and end at the same characters."""
    correct = g = s = 0
    while g < len(gold) and s < len(system):
        if system[s].start < gold[g].start:
            s += 1
        elif gold[g].start < system[s].start:
            g += 1
        else:
            correct += gold[g].end == system[s].end
            g += 1
            s += 1
    return Score(len(gold), len(system), correct)


def align_words(gold: List[Word], system: List[Word]) -> Dict[int, int]:
    """Pairs of aligned words, as {system index: gold index}: outside multiword
    tokens by equal spans, inside them by the longest common subsequence of
    their lowercased forms."""
    aligned: Dict[int, int] = {}
    g = s = 0
    while g < len(gold) and s < len(system):
        if gold[g].is_multiword or system[s].is_multiword:
            gs, ss, g, s = _multiword_span(gold, system, g, s)
            _align_lcs(gold, system, gs, g, ss, s, aligned)
        elif gold[g].span == system[s].span:
            aligned[s] = g
            g += 1
            s += 1
        elif gold[g].span.start <= system[s].span.start:
            g += 1
        else:
            s += 1
    return aligned


def _multiword_span(
    gold: List[Word], system: List[Word], g: int, s: int
) -> Tuple[int, int, int, int]:
    """The smallest stretch of words on both sides that covers the multiword
    token at g or s: (gold start, system start, gold end, system end)."""
    if gold[g].is_multiword:
        end = gold[g].span.end
        if not system[s].is_multiword and system[s].span.start < gold[g].span.start:
            s += 1
    else:
        end = system[s].span.end
        if not gold[g].is_multiword and gold[g].span.start < system[s].span.start:
            g += 1
    gs, ss = g, s
    while not _beyond(gold, g, end) or not _beyond(system, s, end):
        if g < len(gold) and (
            s >= len(system) or gold[g].span.start <= system[s].span.start
        ):
            end = _extend(gold[g], end)
            g += 1
        else:
            end = _extend(system[s], end)
            s += 1
    return gs, ss, g, s


def _beyond(words: List[Word], i: int, end: int) -> bool:
    if i >= len(words):
        return True
    if words[i].is_multiword:
        return words[i].span.start >= end
    return words[i].span.end > end


def _extend(word: Word, end: int) -> int:
    return max(end, word.span.end) if word.is_multiword else end


def _align_lcs(
    gold: List[Word], system: List[Word], gs: int, ge: int, ss: int, se: int,
    aligned: Dict[int, int],
) -> None:  # fmt: skip
    n, m = ge - gs, se - ss
    if not n or not m:
        return
    same = [
        [gold[gs + i].form.lower() == system[ss + j].form.lower() for j in range(m)]
        for i in range(n)
    ]
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in reversed(range(n)):
        for j in reversed(range(m)):
            both = lcs[i + 1][j + 1] + 1 if same[i][j] else 0
            lcs[i][j] = max(both, lcs[i + 1][j], lcs[i][j + 1])
    i = j = 0
    while i < n and j < m:
        if same[i][j]:
            aligned[ss + j] = gs + i
            i += 1
            j += 1
        elif lcs[i][j] == lcs[i + 1][j]:
            i += 1
        else:
            j += 1


def evaluate(gold: UDText, system: UDText) -> Dict[str, Dict[str, float]]:
    """The task's scores of a system against gold.

    RETURNS (Dict[str, Dict[str, float]]): Precision, recall and F1 for each
        of METRICS; the scores on words add the accuracy on aligned words.
    """
    if gold.characters != system.characters:
        i = next(
            (
                i
                for i, (a, b) in enumerate(zip(gold.characters, system.characters))
                if a != b
            ),
            min(len(gold.characters), len(system.characters)),
        )
        here, there = gold.characters[i : i + 20], system.characters[i : i + 20]
        raise ValueError(
            "The gold and the system text differ (whitespace aside) at character "
            f"{i}: gold {here!r}, system {there!r}"
        )
    aligned = align_words(gold.words, system.words)
    pairs = [(gold.words[g], system.words[s]) for s, g in aligned.items()]

    def system_head(word: Word) -> int:
        return aligned.get(word.head, NOT_ALIGNED) if word.head >= 0 else -1

    def on_words(same) -> Score:
        correct = sum(1 for g, s in pairs if same(g, s))
        return Score(len(gold.words), len(system.words), correct, len(pairs))

    scores = {
        "tokens": spans_score(gold.tokens, system.tokens),
        "multiword_tokens": spans_score(gold.multiword_tokens, system.multiword_tokens),
        "words": Score(len(gold.words), len(system.words), len(pairs)),
        "sentences": spans_score(gold.sentences, system.sentences),
        "upos": on_words(lambda g, s: g.upos == s.upos),
        "xpos": on_words(lambda g, s: g.xpos == s.xpos),
        "ufeats": on_words(lambda g, s: g.feats == s.feats),
        "lemmas": on_words(lambda g, s: g.lemma == "_" or g.lemma == s.lemma),
        "uas": on_words(lambda g, s: g.head == system_head(s)),
        "las": on_words(lambda g, s: g.head == system_head(s) and g.deprel == s.deprel),
    }
    return {name: scores[name].as_dict() for name in METRICS}


def docs_to_conllu(docs: Sequence[Doc]) -> str:
    """CoNLL-U for the sentences of docs, as a system output: whitespace
    tokens left out (a word headed by one hangs from that token's head),
    "_" for what the pipeline does not predict, and a word whose head lies
    outside its sentence made a root. Words that lstm_tokenizer read from one
    multiword token are written under a line for that token.
    """
    blocks = []
    for doc in docs:
        sentences = doc.sents if _has_sentences(doc) else [doc[:]]
        text = surface_text(doc)
        new_paragraph = True
        for sent in sentences:
            kept = [t for t in sent if not t.is_space]
            if not kept:
                continue
            ids = {t.i: n for n, t in enumerate(kept, start=1)}
            spans = [surface_span(t) for t in kept]
            lines = ["# newpar"] if new_paragraph else []
            new_paragraph = False
            lines.append(f"# sent_id = {len(blocks) + 1}")
            lines.append(f"# text = {_no_tabs(text[spans[0][0] : spans[-1][1]])}")
            n = 0
            while n < len(kept):
                last = n  # the last word read from the same characters
                while last + 1 < len(kept) and spans[last + 1] == spans[n]:
                    last += 1
                misc = _misc(doc, kept[last])
                if last > n:
                    start, end = spans[n]
                    lines.append(
                        f"{n + 1}-{last + 1}\t{_no_tabs(text[start:end])}"
                        + "\t_" * 7
                        + f"\t{misc}"
                    )
                for k in range(n, last + 1):
                    word_misc = misc if last == n else "_"
                    lines.append(_word_line(kept[k], k + 1, ids, word_misc))
                n = last + 1
            blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + ("\n" if blocks else "")


def _misc(doc: Doc, token: Token) -> str:
    after = token.i + 1
    space_after = token.whitespace_ or after == len(doc) or doc[after].is_space
    return "_" if space_after else "SpaceAfter=No"


def _word_line(token: Token, n: int, ids: Dict[int, int], misc: str) -> str:
    head = token.head
    while head.i not in ids and head.head.i != head.i:
        head = head.head  # past whitespace tokens
    head_id = ids.get(head.i, 0) if head.i != token.i else 0
    deprel = "root" if head_id == 0 else (token.dep_ or "_")
    cols = [
        str(n), token.text, token.lemma_ or "_", token.pos_ or "_",
        token.tag_ or "_", str(token.morph) or "_", str(head_id), deprel, "_", misc,
    ]  # fmt: skip
    return "\t".join(_no_tabs(c) for c in cols)


def _has_sentences(doc: Doc) -> bool:
    return doc.has_annotation("SENT_START") or doc.has_annotation("DEP")


def _no_tabs(text: str) -> str:
    return "".join(" " if c in "\t\n\r" else c for c in text) or "_"


def ud_from_tokens(doc: Doc, text: str, tokens: Sequence[Tuple]) -> UDText:
    """The tokens, words and sentences of a doc's raw text, from the tokens
    that spacy-lstm.Corpus.v1 keeps with it ((start, end, n_words,
    sentence_end) each); the words are the doc's where their number agrees."""
    spans, multiword, words, sentences = [], [], [], []
    chars: List[str] = []
    index = 0
    sentence_start = 0
    w = 0
    same_words = sum(t[2] for t in tokens) == len(doc)
    for start, end, n_words, sentence_end in tokens:
        form = "".join(c for c in text[start:end] if not c.isspace())
        span = Span(index, index + len(form))
        chars.append(form)
        spans.append(span)
        if n_words > 1:
            multiword.append(span)
        for k in range(n_words):
            word_form = doc[w + k].text if same_words else form
            words.append(Word(span, word_form, "_", "_", "_", "", -1, "_", n_words > 1))
        w += n_words
        index = span.end
        if sentence_end:
            sentences.append(Span(sentence_start, index))
            sentence_start = index
    return UDText("".join(chars), spans, multiword, words, sentences)


def concatenate(parts: List[UDText]) -> UDText:
    """One UDText of several, as if one file held them all."""
    chars: List[str] = []
    tokens, multiword, words, sentences = [], [], [], []
    offset = 0

    def shift(span: Span) -> Span:
        return Span(span.start + offset, span.end + offset)

    for part in parts:
        chars.append(part.characters)
        tokens.extend(shift(s) for s in part.tokens)
        multiword.extend(shift(s) for s in part.multiword_tokens)
        words.extend(w._replace(span=shift(w.span)) for w in part.words)
        sentences.extend(shift(s) for s in part.sentences)
        offset += len(part.characters)
    return UDText("".join(chars), tokens, multiword, words, sentences)
