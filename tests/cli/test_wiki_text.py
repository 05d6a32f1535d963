import gzip
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent

WIKI_00 = """<doc id="12" url="http://en.wikipedia.org/wiki?curid=12" title="Anarchism">
Anarchism

Anarchism is a political philosophy; it's "stateless".\x20
</doc>
"""
WIKI_01 = """<doc id="25" url="http://en.wikipedia.org/wiki?curid=25" title="Autism">
Autism
Autism is a disorder (ASD) of neural development, 1 in 100.
---
</doc>
"""


def extract(tmp_path: Path) -> Path:
    """A WikiExtractor folder as the public archive holds it, packed."""
    folder = tmp_path / "wikiVisual-abc" / "text" / "AA"
    folder.mkdir(parents=True)
    (folder / "wiki_01").write_text(WIKI_01, encoding="utf8")
    (folder / "wiki_00").write_text(WIKI_00, encoding="utf8")
    (folder.parent / "README").write_text("not text", encoding="utf8")
    archive = tmp_path / "archive.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "wikiVisual-abc", arcname="wikiVisual-abc")
    return archive


def wiki_text(*args):
    return subprocess.run(
        [sys.executable, "-m", "spacy_lstm", "wiki-text", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip


def test_paragraphs_and_tokens_from_the_archive(tmp_path):
    archive = extract(tmp_path)
    text, tokens = tmp_path / "out" / "wiki.txt.gz", tmp_path / "out" / "wiki.tok.txt"
    result = wiki_text(archive, "--text", text, "--tokenized", tokens)
    assert result.returncode == 0, result.stderr
    with gzip.open(text, "rt", encoding="utf8") as file_:
        assert file_.read().splitlines() == [
            "Anarchism",
            'Anarchism is a political philosophy; it\'s "stateless". ',  # spaces kept
            "",
            "Autism",
            "Autism is a disorder (ASD) of neural development, 1 in 100.",
            "---",
            "",
        ]
    assert tokens.read_text(encoding="utf8").splitlines() == [
        "anarchism",
        "anarchism is a political philosophy it s stateless",
        "autism",
        "autism is a disorder asd of neural development 1 in 100",
    ]
    # from the unpacked folder: the same
    again = tmp_path / "again.tok.txt"
    assert wiki_text(tmp_path / "wikiVisual-abc", "--tokenized", again).returncode == 0
    assert again.read_text(encoding="utf8") == tokens.read_text(encoding="utf8")


def test_existing_text_is_kept_and_a_missing_source_is_one_line(tmp_path):
    own = tmp_path / "own.txt"
    own.write_text("my own text\n", encoding="utf8")
    result = wiki_text(tmp_path / "no-archive.tar.gz", "--tokenized", own)
    assert result.returncode == 0 and "kept" in result.stdout
    assert own.read_text(encoding="utf8") == "my own text\n"
    missing = wiki_text(
        tmp_path / "no-archive.tar.gz", "--tokenized", tmp_path / "t.txt"
    )
    assert missing.returncode == 1
    (line,) = missing.stderr.strip().splitlines()
    assert "project assets" in line and "raw_text" in line
    assert not (tmp_path / "t.txt").exists()


def test_no_matching_files(tmp_path):
    archive = extract(tmp_path)
    result = wiki_text(archive, "--text", tmp_path / "t.txt", "--files", "*/BB/*")
    assert result.returncode == 1 and "No file" in result.stderr
    assert not list(tmp_path.glob("*t.txt*"))
