from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.util import registry
from thinc.api import Config

CORPUS = Path(__file__).parent.parent / "corpus" / "ud"


def read(path, **kwargs):
    reader = registry.get("readers", "spacy-lstm.Corpus.v1")(path=path, **kwargs)
    return list(reader(spacy.blank("en")))


def test_reads_conllu_like_spacy_convert():
    examples = read(CORPUS / "train.conllu", n_sents=10)
    assert len(examples) == 3  # 24 sentences, 10 per doc
    sents = [s for eg in examples for s in eg.reference.sents]
    assert len(sents) == 24
    first = examples[0].reference
    assert first.text.startswith("I saw a girl with a telescope.")
    assert [t.dep_ for t in first[:8]] == [
        "nsubj",
        "ROOT",
        "det",
        "obj",
        "case",
        "det",
        "obl",
        "punct",
    ]
    assert first[6].head.text == "saw"
    # The predicted side is tokenized by the pipeline, not copied from gold.
    assert not examples[0].predicted.has_annotation("DEP")


def test_n_sents_and_limit():
    assert len(read(CORPUS / "train.conllu", n_sents=1)) == 24
    assert len(read(CORPUS / "train.conllu", n_sents=1, limit=5)) == 5


def test_reads_spacy_files_too(tmp_path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in read(CORPUS / "dev.conllu")]
    DocBin(docs=docs).to_disk(tmp_path / "dev.spacy")
    examples = read(tmp_path / "dev.spacy")
    assert [eg.reference.text for eg in examples] == [d.text for d in docs]
    assert [t.dep_ for t in examples[0].reference] == [t.dep_ for t in docs[0]]
    assert nlp is not None


def test_missing_path_raises(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read(tmp_path / "nope.conllu")
    with pytest.raises(ValueError, match="no path"):
        read(None)


def test_empty_conllu_raises(tmp_path):
    (tmp_path / "empty.conllu").write_text("\n", encoding="utf8")
    with pytest.raises(ValueError, match="No sentences"):
        read(tmp_path / "empty.conllu")


def test_malformed_conllu_names_the_file(tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_text("1\tHello\n\n", encoding="utf8")
    with pytest.raises(ValueError, match="bad.conllu"):
        read(path)


def test_non_utf8_conllu_names_the_file(tmp_path):
    path = tmp_path / "latin1.conllu"
    path.write_bytes("1\tcaf\xe9\t_\t_\t_\t_\t0\troot\t_\t_\n\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.conllu.*UTF-8"):
        read(path)


def read_text(path, nlp=None, **kwargs):
    reader = registry.get("readers", "spacy-lstm.PlainText.v1")(path=path, **kwargs)
    return list(reader(nlp or spacy.blank("en")))


def test_plain_text_lines_are_sentences_packed_into_docs(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the cat sat\n\n  \na dog ran fast\nbirds fly\n", encoding="utf8")
    for pretokenized in (True, False):
        examples = read_text(path, pretokenized=pretokenized, doc_words=5)
        docs = [eg.predicted for eg in examples]
        # a newline token between lines, as the tokenizer makes from the text
        assert [[t.text for t in doc] for doc in docs] == [
            ["the", "cat", "sat", "\n", "a", "dog", "ran", "fast"],
            ["birds", "fly"],
        ]


def test_plain_text_empty_reference(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the cat sat\na dog ran\n", encoding="utf8")
    for empty_reference in (False, True):
        examples = read_text(path, doc_words=3, empty_reference=empty_reference)
        assert [eg.predicted.text for eg in examples] == ["the cat sat", "a dog ran"]
        lengths = [len(eg.reference) for eg in examples]
        assert lengths == ([0, 0] if empty_reference else [3, 3])


def test_plain_text_reads_gzip_and_limit(tmp_path):
    import gzip

    path = tmp_path / "text.txt.gz"
    with gzip.open(path, "wt", encoding="utf8") as file_:
        file_.write("one two\nthree four\nfive six\n")
    examples = read_text(path, pretokenized=True, doc_words=1, limit=2)
    assert [eg.predicted.text.split() for eg in examples] == [
        ["one", "two"],
        ["three", "four"],
    ]
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match="broken.txt.gz: not a complete gzip"):
        list(read_text(broken, pretokenized=True))


def test_plain_text_cuts_huge_lines(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text(" ".join(["word"] * 1_000_000) + "\n", encoding="utf8")
    examples = read_text(path, pretokenized=False, max_words=10000, doc_words=200000)
    assert (
        sum(len(eg.predicted) - eg.predicted.text.count("\n") for eg in examples)
        == 1_000_000
    )


def test_plain_text_bad_input(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        read_text(tmp_path / "missing.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("fine\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt, line 2: not valid UTF-8"):
        read_text(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf8")
    assert read_text(empty) == []
    with pytest.raises(ValueError, match="doc_words"):
        read_text(empty, doc_words=0)


def test_gold_tokens_keep_docs_whole_with_the_treebank_words():
    examples = read(CORPUS / "train.conllu", n_sents=10, gold_tokens=True)
    assert len(examples) == 3
    for eg in examples:
        assert [t.text for t in eg.predicted] == [t.text for t in eg.reference]
        assert not eg.predicted.has_annotation("SENT_START")


def test_lm_stream_tokenizes_raw_text_when_not_pretokenized(tmp_path):
    path = tmp_path / "text.txt"
    text = "She had a passion for cooking.\nMaria cooks!\n" * 20
    path.write_text(text, encoding="utf8")
    nlp = spacy.blank("en")
    read = registry.get("readers", "spacy-lstm.LMStream.v1")
    raw = read(path=path, streams=1, window=8, pretokenized=False)
    split = read(path=path, streams=1, window=8)
    assert raw.tokens(nlp)[:9] == "She had a passion for cooking . <eos> Maria".split()
    assert split.tokens()[:7] == "She had a passion for cooking. <eos>".split()
    first = next(iter(raw(nlp))).reference
    assert [t.text for t in first] == raw.tokens(nlp)[:9]


def test_lm_stream_reads_gzip(tmp_path):
    import gzip

    text = "She had a passion for cooking .\nMaria cooks\n" * 20
    plain, packed = tmp_path / "text.txt", tmp_path / "text.txt.gz"
    plain.write_text(text, encoding="utf8")
    with gzip.open(packed, "wt", encoding="utf8") as file_:
        file_.write(text)
    read = registry.get("readers", "spacy-lstm.LMStream.v1")
    for level in ("word", "char"):
        expected = read(path=plain, streams=2, window=5, level=level).tokens()
        assert read(path=packed, streams=2, window=5, level=level).tokens() == expected
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(packed.read_bytes()[:20])
    with pytest.raises(ValueError, match="broken.txt.gz: not a complete gzip"):
        read(path=broken, streams=2, window=5).tokens()


def test_lm_stream_readers_of_one_file_share_its_tokens(tmp_path):
    # spacy train builds one reader for lstm_lm's initialize, one for its loop
    path = tmp_path / "text.txt"
    path.write_text("Maria cooks.\nShe cooks!\n" * 10, encoding="utf8")
    nlp = spacy.blank("en")
    read = registry.get("readers", "spacy-lstm.LMStream.v1")
    first = read(path=path, streams=1, window=4, pretokenized=False).tokens(nlp)
    again = read(path=path, streams=2, window=8, pretokenized=False).tokens(nlp)
    assert again is first
    other_nlp = spacy.blank("en")
    assert read(path=path, pretokenized=False).tokens(other_nlp) is not first
    path.write_text("Maria cooks.\n" * 10, encoding="utf8")
    changed = read(path=path, pretokenized=False).tokens(nlp)
    assert changed == "Maria cooks . <eos>".split() * 10


def test_plain_text_without_path_fails_when_read_not_when_built(tmp_path):
    # spacy train resolves every [corpora] entry, used or not
    reader = registry.get("readers", "spacy-lstm.PlainText.v1")(path=None)
    with pytest.raises(ValueError, match="no path"):
        list(reader(spacy.blank("en")))
    with pytest.raises(ValueError, match="not a file"):
        read_text(tmp_path / "missing.txt")


SILVER_CONFIG = """
[corpus]
@readers = "spacy-lstm.WithSilver.v1"
silver = {silver}
silver_words = {silver_words}
gold_copies = {gold_copies}

[corpus.gold]
@readers = "spacy-lstm.Corpus.v1"
path = {gold}
gold_tokens = true
"""


def read_with_silver(silver, silver_words=0, gold_copies=1):
    text = SILVER_CONFIG.format(
        silver=f'"{silver}"' if silver is not None else "null",
        silver_words=silver_words,
        gold_copies=gold_copies,
        gold=f'"{CORPUS / "train.conllu"}"',
    )
    reader = registry.resolve(Config().from_str(text))["corpus"]
    return list(reader(spacy.blank("en")))


def write_silver(path, docs):
    path.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(path / "000-000000.spacy")


def test_with_silver_lists_gold_then_silver_with_unannotated_predictions(tmp_path):
    silver_docs = [eg.reference for eg in read(CORPUS / "dev.conllu", n_sents=1)]
    silver_docs[0].user_data["head_probs"] = [0.5]
    write_silver(tmp_path / "silver", silver_docs)
    examples = read_with_silver(tmp_path / "silver", gold_copies=2)
    assert len(examples) == 2 * 3 + len(silver_docs)
    assert examples[0] is examples[3]  # the copies are the same gold examples
    silver = examples[6:]
    assert [eg.reference.text for eg in silver] == [d.text for d in silver_docs]
    for eg, doc in zip(silver, silver_docs):
        assert [t.text for t in eg.predicted] == [t.text for t in doc]
        assert not eg.predicted.has_annotation("DEP")
        assert [t.head.i for t in eg.reference] == [t.head.i for t in doc]
        assert not eg.reference.user_data


def test_without_silver_the_gold_corpus_alone():
    examples = read_with_silver(None, gold_copies=3)
    assert [eg.reference.text for eg in examples] == [
        eg.reference.text for eg in read(CORPUS / "train.conllu", gold_tokens=True)
    ]


def test_with_silver_words_stop_reading(tmp_path):
    silver_docs = [eg.reference for eg in read(CORPUS / "dev.conllu", n_sents=1)]
    write_silver(tmp_path / "silver", silver_docs)
    first = len(silver_docs[0])
    examples = read_with_silver(tmp_path / "silver", silver_words=first + 1)
    assert len(examples) == 3 + 2
    # a single .spacy file works as well as a folder of shards
    one = read_with_silver(tmp_path / "silver" / "000-000000.spacy", silver_words=1)
    assert len(one) == 3 + 1


def test_with_silver_bad_input(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_with_silver(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no docs"):
        read_with_silver(tmp_path / "empty")
    nlp = spacy.blank("en")
    write_silver(tmp_path / "unparsed", [nlp("Raw text, never parsed.")])
    with pytest.raises(ValueError, match="no parse.*Raw text"):
        read_with_silver(tmp_path / "unparsed")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "x.spacy").write_bytes(b"not a docbin")
    with pytest.raises(ValueError, match="x.spacy: not a spaCy DocBin"):
        read_with_silver(tmp_path / "corrupt")
    with pytest.raises(ValueError, match="gold_copies"):
        read_with_silver(tmp_path / "silver", gold_copies=0)
    with pytest.raises(ValueError, match="silver_words"):
        read_with_silver(tmp_path / "silver", silver_words=-1)
