"""Code comments cite only documents that exist in the repository, and sections they have."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("relay", "shared", "connectors") for p in (ROOT / d).rglob("*.py")]
# "docs/architecture.md, 'API'" or "docs/architecture.md ('Time zones')"
CITATION = re.compile(r"(docs/[\w/.-]+\.md)(?:,?\s*\(?'([^']+)')?")


def _headings(doc: Path) -> set[str]:
    return {
        line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")
    }


def test_every_cited_document_and_section_exists():
    missing = []
    for src in SOURCES:
        for path, section in CITATION.findall(src.read_text()):
            doc = ROOT / path
            if not doc.is_file():
                missing.append(f"{src.relative_to(ROOT)}: {path}")
            elif section and section not in _headings(doc):
                missing.append(f"{src.relative_to(ROOT)}: {path} has no section {section!r}")
    assert missing == []


def test_no_comment_cites_a_document_outside_the_repository():
    outside = [str(p.relative_to(ROOT)) for p in SOURCES if "DESIGN §" in p.read_text()]
    assert outside == []
