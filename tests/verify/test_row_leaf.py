"""The leaf rebuilt straight from a row equals the reference path's, on rows of every shape.

``rows.row_leaf`` builds the leaf from the columns for plain rows and leaves
everything else to ``from_row`` → ``to_dict`` → ``leaf_hash``. Here every row of
the fixture, and each row with each column swapped for values of other types
and forms (the tampering an attacker with the file could do), must give the
reference path's leaf — or have the fast path refuse it.
"""

from __future__ import annotations

import random
from typing import Any

from sealtrail.store.codec import COLUMNS
from sealtrail.verify import rows

from .conftest import Fixture

ODD_VALUES: tuple[Any, ...] = (
    None,
    "",
    "x",
    "[erased]",
    "caf\u00e9 \U0001f600",
    "lone \ud800",
    0,
    -1,
    2**53,
    2**62,
    253_402_300_800_000_000,
    1.5,
    True,
    b"",
    b"\x01" + bytes(16),
    b"\xff" * 200,
    '{"b": 1, "a": [1, 2.5]}',
    '{"a": {"\u00e9": null}}',
    '"text"',
    "null",
    "[1]",
    "{not json",
)


def _fast(row: tuple[Any, ...]) -> bytes | None:
    try:
        return rows._plain_leaf_hash(row)
    except Exception:
        return None


def _reference(row: tuple[Any, ...]) -> bytes | None:
    try:
        leaf, problem = rows.reference_leaf(row)
    except Exception:
        return None
    return leaf if problem is None else None


def test_the_fast_leaf_is_the_reference_leaf_or_refuses(signed_log: Fixture) -> None:
    plain = [tuple(r) for chunk in signed_log.store.scan_rows("acme") for r in chunk]
    assert all(_fast(row) == row[-1] == _reference(row) for row in plain)
    rng = random.Random(14)
    fast_taken = compared = 0
    for row in rng.sample(plain, 60):
        for at, column in enumerate(COLUMNS[:-1]):
            for value in ODD_VALUES:
                changed = (*row[:at], value, *row[at + 1 :])
                fast = _fast(changed)
                if fast is None:
                    continue
                fast_taken += 1
                assert fast == _reference(changed), (column, value)
                leaf, problem = rows.row_leaf(changed)
                assert (leaf == fast) and (problem is None) == (fast == row[-1]), (column, value)
                compared += 1
    assert fast_taken == compared and compared > 5_000  # the fast path took most of them


def test_a_mismatch_is_decided_by_the_reference_path(signed_log: Fixture) -> None:
    (row, *_) = next(signed_log.store.scan_rows("acme", 7, 8))
    changed = (*row[:-1], bytes(32))
    leaf, problem = rows.row_leaf(changed)
    assert leaf == row[-1]
    assert problem == "was changed: its fields no longer hash to its stored leaf hash"
    broken = (*row[:6], "not a time", *row[7:])
    leaf, problem = rows.row_leaf(broken)
    assert leaf == rows.UNHASHABLE
    assert problem is not None and problem.startswith("was changed: it has no leaf form (")


def test_timestamps_are_written_as_the_calendar_writes_them() -> None:
    """``format_timestamp`` does the time of day by arithmetic; gmtime is the reference."""
    import time

    from sealtrail.events import format_timestamp

    def reference(micros: int) -> str:
        seconds, fraction = divmod(micros, 1_000_000)
        t = time.gmtime(seconds)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
            f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{fraction:06d}Z"
        )

    rng = random.Random(14)
    edges = [0, -1, 1, 86_399_999_999, 86_400_000_000, -86_400_000_001, 951_782_400_000_000]
    values = edges + [
        rng.randrange(-62_135_596_800_000_000, 253_402_300_800_000_000) for _ in range(20_000)
    ]
    assert [format_timestamp(v) for v in values] == [reference(v) for v in values]
