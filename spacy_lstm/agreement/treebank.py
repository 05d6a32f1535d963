"""Subject-verb agreement items from English UD treebanks (CoNLL-U).

For each noun subject (nsubj, nsubj:pass) whose clause has a finite verb
marked for number after it (a present tense, VBZ or VBP in the PTB tags, or
was/were: is/are, has/have, does/do, walks/walk), the item is the sentence's
words before that verb, the verb as the correct form and its other number as
the wrong one. The finite verb is the subject's head or, where the head has
one, its first auxiliary or copula ("the keys [are] lost", "the keys to the
cabinet [are] on the table"). Attractors are the nouns between subject and
verb whose number is the other one (Linzen et al. 2016). A verb's other form
is the commonest form of the other number seen with its lemma in the
treebanks, or for a singular present without one, the lemma (walks -> walk);
verbs with neither are left out, as are subjects and verbs that disagree in
the treebank (collective nouns), contractions ("'s") and prefixes with a word
that holds a space (the TSV separates words with spaces).
"""

from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from ..training.conllu import Sentence, read_conllu
from .items import AgreementItem

SUBJECT_DEPS = ("nsubj", "nsubj:pass")
FINITE_DEPS = ("aux", "aux:pass", "cop")
# irregular pairs: singular form, plural form
IRREGULAR = {"is": "are", "was": "were", "has": "have", "does": "do"}
IRREGULAR.update({plural: singular for singular, plural in list(IRREGULAR.items())})
SING, PLUR = "Sing", "Plur"


class Word(NamedTuple):
    form: str
    lemma: str
    upos: str
    xpos: str
    number: Optional[str]  # Sing, Plur or None
    head: int
    dep: str


def items_from_conllu(paths: Iterable[Path]) -> List[AgreementItem]:
    """The agreement items of the treebanks, in file order; each item's
    group is its number of attractors."""
    treebanks = [(Path(path), read_conllu(Path(path))) for path in paths]
    other_forms = _other_forms(
        word for _, sentences in treebanks for s in sentences for word in _words(s)
    )
    items: List[AgreementItem] = []
    for path, sentences in treebanks:
        for sentence in sentences:
            items.extend(_sentence_items(path, sentence, other_forms))
    return items


def _sentence_items(
    path: Path, sentence: Sentence, other_forms: Dict[Tuple[str, str], str]
) -> Iterator[AgreementItem]:
    words = _words(sentence)
    for s, subject in enumerate(words):
        if subject.dep not in SUBJECT_DEPS or subject.upos not in ("NOUN", "PROPN"):
            continue
        if subject.number is None or subject.head == s:
            continue
        v = _finite_verb(words, subject.head)
        if v is None or v <= s or words[v].number != subject.number:
            continue
        wrong = _other_form(words[v], other_forms)
        if wrong is None or any(len(w.form.split()) != 1 for w in words[: v + 1]):
            continue  # no other form, or a word with a space (not for the TSV)
        attractors = sum(
            1
            for w in words[s + 1 : v]
            if w.upos in ("NOUN", "PROPN") and w.number not in (None, subject.number)
        )
        line = sentence.first_line
        yield AgreementItem(
            [w.form for w in words[:v]],
            words[v].form,
            wrong,
            str(attractors),
            f"{path}, sentence at line {line}",
        )


def _finite_verb(words: List[Word], head: int) -> Optional[int]:
    """The clause's number-marked finite verb: its first auxiliary or copula
    if it has one, else the head itself; None if that one has no number."""
    dependents = [i for i, w in enumerate(words) if w.head == head and i != head]
    finite = [i for i in dependents if words[i].dep in FINITE_DEPS]
    candidate = min(finite) if finite else head
    word = words[candidate]
    if word.number is None or not word.form.isalpha():
        return None
    return candidate


def _other_form(verb: Word, other_forms: Dict[Tuple[str, str], str]) -> Optional[str]:
    lower = verb.form.lower()
    if lower in IRREGULAR:
        return _same_case(IRREGULAR[lower], verb.form)
    found = other_forms.get((verb.lemma.lower(), verb.number or ""))
    if found is None and verb.number == PLUR:
        return None
    if found is None:  # a singular present: the plural is the lemma
        found = verb.lemma.lower()
    return None if found == lower else _same_case(found, verb.form)


def _other_forms(words: Iterable[Word]) -> Dict[Tuple[str, str], str]:
    """(lemma, number) -> the commonest form of the other number."""
    seen: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    for word in words:
        if word.number is not None and word.upos in ("VERB", "AUX"):
            seen[(word.lemma.lower(), word.number)][word.form.lower()] += 1
    other = {SING: PLUR, PLUR: SING}
    return {
        (lemma, other[number]): forms.most_common(1)[0][0]
        for (lemma, number), forms in seen.items()
    }


def _words(sentence: Sentence) -> List[Word]:
    words = []
    for i, line_index in enumerate(sentence.word_lines):
        form = sentence.words[i]
        lemma, upos, xpos, feats = sentence.lines[line_index].split("\t")[2:6]
        number = _number(form, upos, xpos, feats)
        head, dep = sentence.heads[i], sentence.deps[i]
        words.append(Word(form, lemma, upos, xpos, number, head, dep))
    return words


def _number(form: str, upos: str, xpos: str, feats: str) -> Optional[str]:
    """Sing or Plur for nouns and for finite verbs that show number (the
    present tense, and was/were); None otherwise."""
    features = dict(f.split("=", 1) for f in feats.split("|") if "=" in f)
    if upos in ("NOUN", "PROPN"):
        if xpos in ("NN", "NNP") or features.get("Number") == SING:
            return SING
        if xpos in ("NNS", "NNPS") or features.get("Number") == PLUR:
            return PLUR
        return None
    if upos in ("VERB", "AUX"):
        if xpos in ("VBZ", "VBP"):
            return SING if xpos == "VBZ" else PLUR
        if form.lower() in ("was", "were") and features.get("Mood") != "Sub":
            return SING if form.lower() == "was" else PLUR
    return None


def _same_case(form: str, like: str) -> str:
    return form.capitalize() if like[:1].isupper() else form
