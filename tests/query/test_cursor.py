"""Cursor: opaque, URL-safe, round-trips, and refuses anything else."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import struct
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.errors import InvalidQuery
from sealtrail.query import Cursor

cursors = st.builds(
    Cursor,
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1),
    st.sampled_from(["asc", "desc"]),
)


@given(cursors)
def test_round_trip(cursor: Cursor) -> None:
    token = cursor.encode()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert Cursor.decode(token) == cursor


def test_token_is_compact_and_versioned() -> None:
    token = Cursor(1_772_323_200_000_000, 42, "desc").encode()
    assert len(token) == 30
    assert base64.urlsafe_b64decode(token + "==")[0] == 1


def test_after_a_row() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    cursor = Cursor.after(moment, 9, "asc")
    assert cursor == Cursor(1_772_366_400_123_456, 9, "asc")
    assert cursor.occurred_at == moment


def _flip(token: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(token[index]) + 1) % 64]
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("index", range(30))
def test_any_changed_character_is_refused(index: int) -> None:
    token = Cursor(1_772_323_200_000_000, 42, "desc").encode()
    with pytest.raises(InvalidQuery) as caught:
        Cursor.decode(_flip(token, index))
    assert (caught.value.message, caught.value.parameter) == ("cursor is not valid", "cursor")


def _forge(version: int, order: int, at: int, seq: int, good_check: bool = True) -> str:
    body = struct.pack(">BBqQ", version, order, at, seq)
    check = hashlib.sha256(body).digest()[:4] if good_check else b"\0\0\0\0"
    return base64.urlsafe_b64encode(body + check).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "not a cursor",
        "AQEABgokGB5AAAAAAAAAAAAFDZR6dg==",  # padded
        "AQEABgokGB5AAAAAAAAAAAAFDZR6d",  # truncated
        "AQEABgokGB5AAAAAAAAAAAAFDZR6dgA",  # extended
        "AQEABgokGB5AAAAAAAAAAAAFDZR6d+",  # standard base64 alphabet
        "ＡQEABgokGB5AAAAAAAAAAAAFDZR6dg",  # full-width letter
        _forge(2, 0, 1, 1),
        _forge(1, 2, 1, 1),
        _forge(1, 0, 1, 1, good_check=False),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidQuery, match="cursor is not valid"):
        Cursor.decode(token)


def test_non_canonical_spelling_is_refused() -> None:
    token = Cursor(7, 7, "asc").encode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # the last character carries two data bits and four that must be zero
    sibling = alphabet[alphabet.index(token[-1]) ^ 1]
    with pytest.raises(InvalidQuery):
        Cursor.decode(token[:-1] + sibling)


def test_a_forged_well_formed_cursor_decodes() -> None:
    """The checksum is not a signature: scoping, not the cursor, keeps data apart."""
    assert Cursor.decode(_forge(1, 1, 99, 3)) == Cursor(99, 3, "asc")


@given(st.text(max_size=40))
def test_decode_raises_only_invalid_query(token: str) -> None:
    with contextlib.suppress(InvalidQuery):
        assert Cursor.decode(token).encode() == token


@pytest.mark.parametrize(
    ("at", "seq", "order"),
    [(0, -1, "desc"), (2**63, 0, "desc"), (0, 2**64, "asc"), (0, 0, "newest")],
)
def test_out_of_range_cursors_cannot_be_built(at: int, seq: int, order: str) -> None:
    with pytest.raises(ValueError, match=r"order|range"):
        Cursor(at, seq, order)  # type: ignore[arg-type]


def test_hashable() -> None:
    assert len({Cursor(1, 2, "asc"), Cursor(1, 2, "asc")}) == 1
