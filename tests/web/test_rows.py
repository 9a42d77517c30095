"""How events read in the table: relative times, truncated ids, kinds."""

from __future__ import annotations

import pytest

from sealtrail.catalog import Catalog
from sealtrail.events import Actor, Event, Resource
from sealtrail.web.rows import build_row, moment, relative, short

MINUTE = 60_000_000


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (0, "just now"),
        (44 * 1_000_000, "just now"),
        (3 * MINUTE, "3 minutes ago"),
        (MINUTE, "1 minute ago"),
        (60 * MINUTE, "1 hour ago"),
        (25 * 60 * MINUTE, "1 day ago"),
        (45 * 24 * 60 * MINUTE, "1 month ago"),
        (800 * 24 * 60 * MINUTE, "2 years ago"),
        (-5 * MINUTE, "in 5 minutes"),
    ],
)
def test_relative_times(age: int, text: str) -> None:
    now = 1_800_000_000_000_000
    assert relative(now - age, now) == text


def test_times_for_the_page() -> None:
    shown = moment(1_772_359_200_123_456, 1_772_359_200_123_456)
    assert shown.iso == "2026-03-01T10:00:00.123456Z"
    assert shown.machine == "2026-03-01T10:00:00.123Z"
    assert shown.shown == "2026-03-01 10:00:00 UTC"


def test_ids_are_truncated_only_when_long() -> None:
    assert short("ws_1") == "ws_1"
    assert short("x" * 13) == "x" * 13
    assert short("abcdefghijklmn") == "abcdefghijkl…"


def test_a_row_from_an_event() -> None:
    event = Event(
        tenant_id="acme",
        seq=4,
        id="e/1?",
        action="made.up",
        category="other",
        kind="weird",
        occurred_at=0,
        received_at=0,
        outcome="success",
        actor=Actor("system", "cron"),
        resource=Resource("job", "job_0123456789abcdef"),
        context={"old": 1, "new": 2},
    )
    row = build_row(event, Catalog.builtin(), 0)
    assert row.url == "/ui/events/e%2F1%3F"
    assert (row.kind, row.kind_label) == ("other", "Other")
    assert row.actor.label == "System"
    assert row.resource_short == "job_01234567…"
    assert row.context_json == '{\n  "old": 1,\n  "new": 2\n}'
    assert [c.field for c in row.changes] == ["value"]
