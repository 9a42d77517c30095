"""Term, TimeRange, EventQuery and Page: immutable, hashable, self-checking."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from ipaddress import IPv4Network

import pytest

from sealtrail.errors import InvalidQuery
from sealtrail.query import (
    Cursor,
    EventQuery,
    Field,
    Page,
    ResourceRef,
    Term,
    TimeRange,
    action_prefix,
)

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


def test_everything_is_frozen_and_hashable() -> None:
    query = EventQuery(
        (
            Term(Field.IP, (IPv4Network("10.0.0.0/8"),)),
            Term(Field.RESOURCE, (ResourceRef("workspace", "ws_1"),), negate=True),
        ),
        TimeRange(MARCH, APRIL),
        "asc",
    )
    page = Page(10, cursor=Cursor(1, 2, "asc"))
    assert len({query, EventQuery(query.terms, query.time, "asc")}) == 1
    assert hash(page) == hash(Page(10, cursor=Cursor(1, 2, "asc")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.order = "desc"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.limit = 5  # type: ignore[misc]


def test_term_drops_duplicate_values_keeping_order() -> None:
    assert Term(Field.ACTION, ("b.c", "a.b", "b.c")).values == ("b.c", "a.b")


def test_term_needs_a_value() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        Term(Field.ACTION, ())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (Field.IP, "10.0.0.0/8"),
        (Field.RESOURCE, "workspace/ws_1"),
        (Field.ACTOR, ResourceRef("user")),
        (Field.TEXT, IPv4Network("10.0.0.0/8")),
    ],
)
def test_term_refuses_a_value_of_the_wrong_shape(field: Field, value: object) -> None:
    with pytest.raises(TypeError, match="is not a value"):
        Term(field, (value,))  # type: ignore[arg-type]


def test_term_field_accepts_the_enum_value_text() -> None:
    assert Term("kind", ("create",)).field is Field.KIND  # type: ignore[arg-type]


def test_term_of_normalises_raw_text() -> None:
    assert Term.of(Field.ACTOR_EMAIL, "Ann@X.com", " ann@x.com ", negate=True) == Term(
        Field.ACTOR_EMAIL, ("ann@x.com",), negate=True
    )
    assert Term.of(Field.RESOURCE, "workspace") == Term(Field.RESOURCE, (ResourceRef("workspace"),))


def test_term_of_names_the_field_in_its_error() -> None:
    with pytest.raises(InvalidQuery) as caught:
        Term.of(Field.OUTCOME, "maybe")
    assert caught.value.parameter == "outcome"


def test_time_range_is_kept_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    time = TimeRange(datetime(2026, 3, 1, 2, tzinfo=plus_two))
    assert time.since is not None
    assert time.since.tzinfo is UTC
    assert time.since == MARCH
    assert time.since_us == 1_772_323_200_000_000
    assert time.until_us is None


def test_time_range_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeRange(until=datetime(2026, 3, 1))


def test_intersection() -> None:
    mid = datetime(2026, 3, 15, tzinfo=UTC)
    assert TimeRange(MARCH).intersect(TimeRange(until=APRIL)) == TimeRange(MARCH, APRIL)
    assert TimeRange(MARCH, APRIL).intersect(TimeRange(mid)) == TimeRange(mid, APRIL)
    assert TimeRange().intersect(TimeRange()) == TimeRange()
    assert TimeRange(until=MARCH).intersect(TimeRange(APRIL)).is_empty
    assert not TimeRange(MARCH, APRIL).is_empty


def test_and_concatenates_terms_intersects_times_and_keeps_its_order() -> None:
    first = EventQuery((Term(Field.KIND, ("create",)),), TimeRange(MARCH), "asc")
    second = EventQuery((Term(Field.OUTCOME, ("failure",)),), TimeRange(until=APRIL), "desc")
    assert first.and_(second) == EventQuery(
        (Term(Field.KIND, ("create",)), Term(Field.OUTCOME, ("failure",))),
        TimeRange(MARCH, APRIL),
        "asc",
    )


def test_terms_for() -> None:
    kind = Term(Field.KIND, ("create",))
    query = EventQuery((kind, Term(Field.OUTCOME, ("failure",)), kind))
    assert query.terms_for(Field.KIND) == (kind, kind)


def test_event_query_refuses_an_unknown_order() -> None:
    with pytest.raises(ValueError, match="order"):
        EventQuery(order="newest")  # type: ignore[arg-type]


def test_action_prefix() -> None:
    assert action_prefix("member.*") == "member."
    assert action_prefix("billing.top_up.*") == "billing.top_up."
    assert action_prefix("member.invited") is None


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 2**63}, "offset"),
        ({"offset": 5, "cursor": Cursor(1, 1, "desc")}, "offset"),
    ],
)
def test_page_checks_itself(kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        Page(**kwargs)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter


def test_page_defaults() -> None:
    assert Page() == Page(limit=50, offset=0, cursor=None)
    assert Page(200).limit == 200


def test_term_of_names_a_given_parameter() -> None:
    with pytest.raises(InvalidQuery) as caught:
        Term.of(Field.TARGET_ID, " ", parameter="targetUserId")
    assert caught.value.parameter == "targetUserId"
    assert caught.value.message == "targetUserId: is empty"
