"""The user-facing documents: their links resolve, and they speak of the
product, not of how it was made."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "corpus" / "README.md"] + sorted(
    (ROOT / "docs").glob("*.md")
)


def anchors(path: Path) -> set:
    """GitHub's anchors of the file's headings."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf8"), flags=re.S)
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_relative_links_resolve(document):
    text = document.read_text(encoding="utf8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{document.name}: {target}"
        if anchor:
            assert anchor in anchors(linked), f"{document.name}: {target}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_history_or_outside_paths(document):
    text = document.read_text(encoding="utf8")
    assert "../shared" not in text
    assert not re.search(r"\bcommit [0-9a-f]{7}", text)
    assert not re.search(r"\bissue \d", text, re.I)
    assert not re.search(
        r"\(target|target:|targets? (met|missed)|\*\*met\*\*", text, re.I
    )


def test_readme_stays_a_short_guide():
    assert len((ROOT / "README.md").read_text(encoding="utf8").splitlines()) <= 300


def blocks(language: str):
    for document in (ROOT / "README.md", ROOT / "docs" / "reference.md"):
        text = document.read_text(encoding="utf8")
        for block in re.findall(rf"```{language}\n(.*?)```", text, flags=re.S):
            yield document.name, block


def leaves(tree: dict):
    for value in tree.values():
        yield from leaves(value) if isinstance(value, dict) else [value]


@pytest.mark.parametrize("name,block", list(blocks("ini")))
def test_config_snippets_parse_as_spacy_reads_them(name, block):
    from thinc.api import Config

    # a snippet's sections need their parents to parse, as in a whole config
    parents = set()
    sections = re.findall(r"^\[([^\]]+)\]", block, re.M)
    for section in sections:
        parts = section.split(".")
        parents.update(".".join(parts[:i]) for i in range(1, len(parts)))
    parents -= set(sections)
    header = "".join(f"[{parent}]\n" for parent in sorted(parents, key=len))
    config = Config().from_str(header + block, interpolate=False)
    # spaCy's parser keeps a comment after a value as part of the value
    assert not [v for v in leaves(config) if "#" in str(v)], name


@pytest.mark.parametrize("name,block", list(blocks("json")))
def test_json_snippets_are_json_lines(name, block):
    import json

    for line in block.strip().splitlines():
        json.loads(line)
