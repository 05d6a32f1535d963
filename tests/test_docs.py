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
