"""The streams package: a curated surface, and formats that stay out of the edges."""

from __future__ import annotations

import ast
from pathlib import Path

import sealtrail.streams

PACKAGE = Path(sealtrail.streams.__file__).parent
FORBIDDEN = (
    "sealtrail.api",
    "sealtrail.web",
    "sealtrail.cli",
    "sealtrail.store",
    "sealtrail.audit_log",
)


def test_all_is_unique_and_resolves() -> None:
    assert len(set(sealtrail.streams.__all__)) == len(sealtrail.streams.__all__)
    for name in sealtrail.streams.__all__:
        assert getattr(sealtrail.streams, name) is not None, name


def test_streams_import_nothing_from_the_edges_or_the_store() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
