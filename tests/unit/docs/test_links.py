"""Every relative link in docs/ points at a file that exists, and at an anchor it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    prose = _FENCE.sub("", text)
    return set(_ANCHOR.findall(prose)) | {slug(h) for h in _HEADING.findall(prose)}


def links(text: str) -> list[str]:
    return [target for target in _LINK.findall(_FENCE.sub("", text)) if "://" not in target]


PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in links(page.read_text("utf-8")):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
            broken.append(f"{target}: no anchor #{anchor} in {file.name}")
    assert not broken, f"{page.relative_to(DOCS)}: " + "; ".join(broken)


def test_slugs_follow_github() -> None:
    assert slug("Performance without labels (CBPE)") == "performance-without-labels-cbpe"
    assert slug("`driftline check`") == "driftline-check"
    assert links("see [a](b.md#c) and [d](https://e.org)\n```\n[f](g.md)\n```\n") == ["b.md#c"]
