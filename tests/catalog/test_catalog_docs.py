"""docs/catalog.md is generated from the catalog and must match it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sealtrail.catalog import Catalog, catalog_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def test_the_doc_matches_the_catalog() -> None:
    assert DOC.read_text(encoding="utf-8") == catalog_markdown(), (
        "docs/catalog.md is stale: python -m sealtrail.catalog --markdown > docs/catalog.md"
    )


def test_the_doc_lists_every_type() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for event_type in Catalog.builtin().types():
        assert f"| `{event_type.name}` | {event_type.kind} |" in doc


def test_the_module_prints_the_doc() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealtrail.catalog", "--markdown"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    assert result.stdout == catalog_markdown()
