"""Scoring from raw text: each case's scores worked out by hand."""

import warnings

import pytest
import spacy
from spacy.tokens import Doc

from spacy_lstm.conll2018 import docs_to_conllu, evaluate, read_ud
from spacy_lstm.training.conllu import read_paragraphs


def conllu(*sentences: str) -> str:
    """CoNLL-U from sentences written as 'form/head/deprel' words separated by
    spaces; 'du=de/5/case+le/5/det' is a multiword token and its words; '_'
    between two words is SpaceAfter=No on the first; a form's '~' is a space."""
    blocks = []
    for sentence in sentences:
        lines, n = [], 0
        items = sentence.split(" ")
        for i, item in enumerate(items):
            if item == "_":
                continue
            misc = (
                "SpaceAfter=No" if i + 1 < len(items) and items[i + 1] == "_" else "_"
            )
            surface, _, parts = item.rpartition("=")
            words = parts.split("+")
            if surface:
                lines.append(
                    f"{n + 1}-{n + len(words)}\t{surface}" + "\t_" * 7 + f"\t{misc}"
                )
            for word in words:
                n += 1
                form, head, deprel = word.split("/")
                lines.append(
                    f"{n}\t{form.replace('~', ' ')}\t_\tX\t_\t_\t{head}\t{deprel}\t_\t"
                    + ("_" if surface else misc)
                )
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def score(gold: str, system: str):
    return evaluate(read_ud(gold, "gold"), read_ud(system, "system"))


def test_identical_files_score_one():
    text = conllu(
        "Il/2/nsubj parle/0/root du=de/5/case+le/5/det film/2/obl _ ./2/punct"
    )
    for name, value in score(text, text).items():
        assert value["f1"] == 1.0, name


def test_split_and_merged_tokens():
    # gold: Hello | world | !    system: Hel | lo | world!
    gold = conllu("Hello/2/discourse world/0/root _ !/2/punct")
    system = conllu("Hel/3/dep _ lo/3/dep world!/0/root")
    scores = score(gold, system)
    # no span matches on both ends: "Hel" starts like "Hello", "world!" like "world"
    assert scores["tokens"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    merged = conllu("Hello/2/discourse world!/0/root")
    scores = score(gold, merged)
    # "Hello" matches: 1 of 2 system tokens, 1 of 3 gold ones
    assert scores["tokens"] == {"precision": 0.5, "recall": 0.3333, "f1": 0.4}
    assert scores["words"]["f1"] == 0.4
    # Hello's head in the system is "world!", which is aligned to no gold word
    assert scores["uas"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "aligned_accuracy": 0.0,
    }


def test_a_multiword_token_not_expanded():
    gold = conllu(
        "Il/2/nsubj parle/0/root du=de/5/case+le/5/det film/2/obl _ ./2/punct"
    )
    system = conllu("Il/2/nsubj parle/0/root du/4/case film/2/obl _ ./2/punct")
    scores = score(gold, system)
    assert scores["tokens"]["f1"] == 1.0  # "du" has the span of gold's token
    assert scores["multiword_tokens"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # de, le against du: no common form, so 4 words aligned of 6 gold and 5 system
    assert scores["words"] == {"precision": 0.8, "recall": 0.6667, "f1": 0.7273}
    assert scores["las"] == {
        "precision": 0.8,
        "recall": 0.6667,
        "f1": 0.7273,
        "aligned_accuracy": 1.0,
    }


def test_multiword_token_words_align_by_common_forms():
    gold = conllu("Il/2/nsubj parle/0/root du=de/5/case+le/5/det film/2/obl")
    # expanded into the wrong words: "de" and "la"; only "de" is shared
    system = conllu("Il/2/nsubj parle/0/root du=de/5/case+la/5/det film/2/obl")
    scores = score(gold, system)
    assert scores["multiword_tokens"]["f1"] == 1.0
    assert scores["words"]["f1"] == 0.8  # 4 of 5 on both sides
    # "de" keeps its head: "film" is aligned on both sides
    assert scores["uas"]["aligned_accuracy"] == 1.0
    # forms are compared lowercased
    upper = conllu("Il/2/nsubj parle/0/root du=DE/5/case+LE/5/det film/2/obl")
    assert score(gold, upper)["words"]["f1"] == 1.0


def test_a_missed_sentence_boundary():
    gold = conllu("Hi/0/root _ ./1/punct", "Bye/0/root _ ./1/punct")
    system = conllu("Hi/0/root _ ./1/punct Bye/1/parataxis _ ./3/punct")
    scores = score(gold, system)
    # one system sentence starting where gold's first does, ending elsewhere
    assert scores["sentences"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert scores["words"]["f1"] == 1.0
    # only "Bye" is wrong: a root in gold, attached to "Hi" in the system
    assert scores["uas"]["f1"] == 0.75 and scores["las"]["f1"] == 0.75
    split = conllu("Hi/0/root", "./0/root", "Bye/0/root _ ./1/punct")
    scores = score(gold, split)
    assert scores["sentences"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4}


def test_whitespace_inside_a_token():
    gold = conllu("10~000/2/nummod euros/0/root")
    # the characters are compared without spaces: "10000euros" on both sides
    assert score(gold, gold)["tokens"]["f1"] == 1.0
    system = conllu("10/3/nummod 000/3/nummod euros/0/root")
    scores = score(gold, system)
    assert scores["tokens"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4}


def test_labels_lose_their_subtypes_and_features_keep_universal_ones():
    gold = conllu("it/2/nsubj:pass went/0/root")
    system = conllu("it/2/nsubj went/0/root")
    assert score(gold, system)["las"]["f1"] == 1.0
    rows = gold.replace("\tX\t_\t_\t2\t", "\tX\t_\tCase=Nom|Foo=Bar\t2\t")
    other = system.replace("\tX\t_\t_\t2\t", "\tX\t_\tCase=Nom\t2\t")
    assert score(rows, other)["ufeats"]["f1"] == 1.0


def test_different_texts_are_an_error():
    with pytest.raises(
        ValueError, match="differ .* at character 2: gold 'c', system 'x'"
    ):
        score(conllu("ab/0/root _ c/1/punct"), conllu("ab/0/root _ x/1/punct"))


def test_bad_conllu_names_the_line():
    with pytest.raises(ValueError, match="gold, line 1: expected 10"):
        read_ud("1\tword\n", "gold")
    with pytest.raises(ValueError, match="HEAD 3 of 'a' points past the 1 words"):
        read_ud(conllu("a/3/root"), "gold")


def test_read_paragraphs(tmp_path):
    hi = "# text = Hi.\n" + conllu("Hi/0/root _ ./1/punct").replace(
        "punct\t_\t_", "punct\t_\tSpaceAfter=No"
    )
    bye = "# text = Bye!\n" + conllu("Bye/0/root _ !/1/punct")
    # no `# text`: rebuilt from the tokens, the multiword token "du" once
    du = conllu("Il/2/nsubj parle/0/root du=de/5/case+le/5/det film/2/obl")
    path = tmp_path / "gold.conllu"
    text = "# newdoc id = a\n" + hi + "\n" + bye + "\n# newpar\n" + du
    path.write_text(text, encoding="utf8")
    # "Hi." ends with SpaceAfter=No: no space before "Bye!"
    assert read_paragraphs(path) == ["Hi.Bye!", "Il parle du film"]
    unmarked = tmp_path / "unmarked.conllu"
    unmarked.write_text(hi + "\n" + bye + "\n" + du, encoding="utf8")
    with pytest.warns(UserWarning, match="no '# newpar' or '# newdoc'.*3 sentences"):
        assert read_paragraphs(unmarked) == ["Hi.Bye! Il parle du film"]
    one = tmp_path / "one.conllu"
    one.write_text(du, encoding="utf8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_paragraphs(one) == ["Il parle du film"]


def test_docs_to_conllu_leaves_whitespace_tokens_out():
    nlp = spacy.blank("en")
    words = ["Hello", "\n\n", "world", "!"]
    doc = Doc(
        nlp.vocab,
        words=words,
        spaces=[False, False, False, False],
        heads=[2, 2, 2, 2],
        deps=["discourse", "dep", "ROOT", "punct"],
    )
    doc[0].head = doc[1]  # hangs from the whitespace, which hangs from "world"
    written = docs_to_conllu([doc])
    ud = read_ud(written, "system")
    assert ud.characters == "Helloworld!"
    assert [w.form for w in ud.words] == ["Hello", "world", "!"]
    assert [w.head for w in ud.words] == [1, -1, 1]
    assert [w.deprel for w in ud.words] == ["discourse", "root", "punct"]
    assert written.startswith("# newpar\n# sent_id = 1\n# text = Hello")
    assert "2\tworld\t_\t_\t_\t_\t0\troot\t_\tSpaceAfter=No" in written
    assert docs_to_conllu([nlp("   ")]) == ""
