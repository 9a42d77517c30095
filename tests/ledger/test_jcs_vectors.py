"""RFC 8785 (JCS) reference vectors through rfc8785 and through our context path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785

from sealtrail.ledger.leaf import canonical_json

from .vectors import relative_files

CASES = [Path(p).name for p in relative_files("json-canonicalization/testdata/input", "*.json")]
TESTDATA = "json-canonicalization/testdata"


def test_all_six_cases_are_present(vectors_dir: Path) -> None:
    assert CASES == [
        "arrays.json",
        "french.json",
        "structures.json",
        "unicode.json",
        "values.json",
        "weird.json",
    ]


@pytest.mark.parametrize("name", CASES)
def test_jcs_vector(vectors_dir: Path, name: str) -> None:
    value = json.loads((vectors_dir / TESTDATA / "input" / name).read_text(encoding="utf-8"))
    want = (vectors_dir / TESTDATA / "output" / name).read_bytes()
    hex_text = (vectors_dir / TESTDATA / "outhex" / name.replace(".json", ".txt")).read_text()
    assert bytes.fromhex(hex_text) == want
    assert rfc8785.dumps(value) == want
    if isinstance(value, dict):
        assert canonical_json(value) == want
