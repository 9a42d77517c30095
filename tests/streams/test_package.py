"""The streams package offers a curated surface (its layering is in tests/test_layering.py)."""

from __future__ import annotations

import sealtrail.streams


def test_all_is_unique_and_resolves() -> None:
    assert len(set(sealtrail.streams.__all__)) == len(sealtrail.streams.__all__)
    for name in sealtrail.streams.__all__:
        assert getattr(sealtrail.streams, name) is not None, name
