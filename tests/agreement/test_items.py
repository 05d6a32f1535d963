import pytest

from spacy_lstm.agreement import AgreementItem, read_items, read_linzen, write_items


def test_reads_our_tsv_with_header_and_blank_lines(tmp_path):
    path = tmp_path / "items.tsv"
    path.write_text(
        "prefix\tcorrect\twrong\tgroup\n"
        "# 2 the decor\tis\tare\t0\n"
        "the keys to the cabinet\tare\tis\t1\n"
        "\n"
        "the key\tis\tare\t0\n",
        encoding="utf8",
    )
    items = read_items(path)
    assert [(i.prefix, i.correct, i.wrong, i.group) for i in items] == [
        (["#", "2", "the", "decor"], "is", "are", "0"),  # a web text's "#", no comment
        (["the", "keys", "to", "the", "cabinet"], "are", "is", "1"),
        (["the", "key"], "is", "are", "0"),
    ]
    assert items[2].where.endswith("line 5")


def test_write_then_read_round_trips(tmp_path):
    items = [AgreementItem(["The", "keys"], "are", "is", "0", "")]
    assert write_items(items, tmp_path / "out.tsv") == 1
    back = read_items(tmp_path / "out.tsv")
    assert [(i.prefix, i.correct, i.wrong, i.group) for i in back] == [
        (["The", "keys"], "are", "is", "0")
    ]
    spaced = [AgreementItem(["New York", "keys"], "are", "is", "0", "here")]
    with pytest.raises(ValueError, match="here: a word or group that is empty"):
        write_items(spaced, tmp_path / "bad.tsv")


@pytest.mark.parametrize(
    "line,message",
    [
        ("the keys\tare\tis", "line 2: expected 4 tab-separated columns"),
        ("the keys are is 1", "line 2: expected 4 tab-separated columns"),
        ("the keys\tare\t\t1", "line 2: the correct and wrong forms must be single"),
        ("the keys\tare\tis\t", "line 2: the group is empty"),
    ],
)
def test_malformed_tsv_lines_name_their_line(tmp_path, line, message):
    path = tmp_path / "items.tsv"
    path.write_text("the key\tis\tare\t0\n" + line + "\n", encoding="utf8")
    with pytest.raises(ValueError, match=message):
        read_items(path)


def test_empty_and_non_utf8_files_are_errors(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("prefix\tcorrect\twrong\tgroup\n\n", encoding="utf8")
    with pytest.raises(ValueError, match="has no items"):
        read_items(empty)
    latin = tmp_path / "latin.tsv"
    latin.write_bytes("caf\xe9\tis\tare\t0\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_items(latin)


def write_linzen(tmp_path, sentences, golds):
    text, gold = tmp_path / "s.text", tmp_path / "s.gold"
    text.write_text("".join(s + "\n" for s in sentences), encoding="utf8")
    gold.write_text("".join(g + "\n" for g in golds), encoding="utf8")
    return text, gold


def test_reads_the_linzen_format(tmp_path):
    text, gold = write_linzen(
        tmp_path,
        ["the keys to the cabinet are here", "the key is here"],
        ["5\tare\tis\t1", "2\tis\tare\t0"],
    )
    items = read_linzen(text, gold)
    assert [(i.prefix, i.correct, i.wrong, i.group) for i in items] == [
        (["the", "keys", "to", "the", "cabinet"], "are", "is", "1"),
        (["the", "key"], "is", "are", "0"),
    ]


@pytest.mark.parametrize(
    "golds,message",
    [
        (["2\tis\tare\t0"], "has 2 lines but .* has 1"),
        (["2\tis\tare\t0", "2\tis\tare"], "line 2: expected 4 tab-separated columns"),
        (["2\tis\tare\t0", "9\tis\tare\t0"], "line 2: the target index must be a word"),
        (["2\tis\tare\t0", "x\tis\tare\t0"], "line 2: the target index must be a word"),
        (["2\tis\tare\t0", "2\tis\tare\tmany"], "line 2: the number of attractors"),
    ],
)
def test_malformed_linzen_files_are_clear_errors(tmp_path, golds, message):
    text, gold = write_linzen(tmp_path, ["the key is here", "the key is here"], golds)
    with pytest.raises(ValueError, match=message):
        read_linzen(text, gold)
