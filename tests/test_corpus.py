"""The hand-annotated treebank in corpus/ud is well formed."""

from pathlib import Path

import pytest

CORPUS = Path(__file__).parent.parent / "corpus" / "ud"


def read_trees(path):
    sents, heads = [], []
    for line in path.read_text(encoding="utf8").splitlines():
        if line.startswith("# text = "):
            sents.append(line[len("# text = ") :])
            heads.append([])
        elif line and not line.startswith("#"):
            cols = line.split("\t")
            assert len(cols) == 10, line
            assert int(cols[0]) == len(heads[-1]) + 1, line
            heads[-1].append(int(cols[6]))
    return sents, heads


def is_projective(heads):
    def dominates(h, d):
        while d and d != h:
            d = heads[d - 1]
        return d == h

    return all(
        dominates(h, k)
        for d, h in enumerate(heads, 1)
        if h
        for k in range(min(d, h) + 1, max(d, h))
    )


@pytest.mark.parametrize("name", ["train.conllu", "dev.conllu", "agreement.conllu"])
def test_every_sentence_is_a_tree(name):
    for text, heads in zip(*read_trees(CORPUS / name)):
        assert heads.count(0) == 1, text
        for d in range(1, len(heads) + 1):
            seen = set()
            while d:
                assert d not in seen, f"cycle in {text!r}"
                seen.add(d)
                d = heads[d - 1]


def test_corpus_has_what_the_docs_promise():
    texts, trees = read_trees(CORPUS / "train.conllu")
    dev_texts, dev_trees = read_trees(CORPUS / "dev.conllu")
    assert len(texts) + len(dev_texts) >= 20
    assert "I saw a girl with a telescope." in texts
    assert not all(is_projective(h) for h in trees)
    assert not all(is_projective(h) for h in dev_trees)
