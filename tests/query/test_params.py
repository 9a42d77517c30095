"""query_from_params: every GET /v1/events parameter of SPEC §6."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network

import pytest

from sealtrail.query import (
    Cursor,
    EventQuery,
    Field,
    Page,
    ResourceRef,
    Term,
    TimeRange,
    query_from_params,
)


def parse(params: Mapping[str, Sequence[str]]) -> tuple[EventQuery, Page]:
    return query_from_params(params)


def terms(params: Mapping[str, Sequence[str]]) -> tuple[Term, ...]:
    return parse(params)[0].terms


def test_no_parameters_is_everything_newest_first() -> None:
    assert parse({}) == (EventQuery(order="desc"), Page(limit=50, offset=0))


@pytest.mark.parametrize(
    ("name", "raw", "term"),
    [
        ("action", "member.invited", Term(Field.ACTION, ("member.invited",))),
        ("action", "member.*", Term(Field.ACTION, ("member.*",))),
        ("category", "billing", Term(Field.CATEGORY, ("billing",))),
        ("kind", "Delete", Term(Field.KIND, ("delete",))),
        ("actor_id", "usr_1", Term(Field.ACTOR_ID, ("usr_1",))),
        ("actor_email", "Ann@X.com", Term(Field.ACTOR_EMAIL, ("ann@x.com",))),
        ("target_id", "usr_2", Term(Field.TARGET_ID, ("usr_2",))),
        ("resource_type", "workspace", Term(Field.RESOURCE_TYPE, ("workspace",))),
        ("resource_id", "ws_1", Term(Field.RESOURCE_ID, ("ws_1",))),
        ("account_id", "acc_1", Term(Field.ACCOUNT_ID, ("acc_1",))),
        ("outcome", "failure", Term(Field.OUTCOME, ("failure",))),
        ("ip", "203.0.113.9", Term(Field.IP, (IPv4Network("203.0.113.9/32"),))),
        ("ip", "10.1.2.3/8", Term(Field.IP, (IPv4Network("10.0.0.0/8"),))),
        ("ip", "2001:db8::1/32", Term(Field.IP, (IPv6Network("2001:db8::/32"),))),
        ("ip", "::ffff:192.0.2.0/120", Term(Field.IP, (IPv4Network("192.0.2.0/24"),))),
        ("q", "invoice", Term(Field.TEXT, ("invoice",))),
    ],
)
def test_each_filter(name: str, raw: str, term: Term) -> None:
    assert terms({name: [raw]}) == (term,)


def test_repeated_action_ors_exact_and_prefix_values() -> None:
    assert terms({"action": ["member.invited", "billing.*", "member.invited"]}) == (
        Term(Field.ACTION, ("member.invited", "billing.*")),
    )


def test_filters_are_anded_in_a_fixed_order() -> None:
    query, _ = parse({"outcome": ["success"], "action": ["auth.login"], "kind": ["access"]})
    assert [term.field for term in query.terms] == [Field.ACTION, Field.KIND, Field.OUTCOME]


def test_q_is_read_like_phrase_words() -> None:
    assert terms({"q": ['ann "role changed" action:x -draft']}) == (
        Term(Field.TEXT, ("ann",)),
        Term(Field.TEXT, ("role changed",)),
        Term(Field.TEXT, ("action:x",)),
        Term(Field.TEXT, ("-draft",)),
    )


def test_since_and_until_with_dates_include_the_until_day() -> None:
    query, _ = parse({"since": ["2026-03-01"], "until": ["2026-03-31"]})
    assert query.time == TimeRange(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )


def test_same_date_since_and_until_is_that_day() -> None:
    query, _ = parse({"since": ["2026-03-01"], "until": ["2026-03-01"]})
    assert query.time == TimeRange(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    )


def test_until_with_a_time_is_exclusive() -> None:
    query, _ = parse({"until": ["2026-03-01T12:30:00+01:00"]})
    assert query.time == TimeRange(until=datetime(2026, 3, 1, 11, 30, tzinfo=UTC))


def test_phrase_is_anded_and_its_created_intersects_since_until() -> None:
    query, _ = parse(
        {
            "action": ["member.*"],
            "since": ["2026-03-01"],
            "until": ["2026-03-31"],
            "phrase": ["-actor:bot@x.com created:>=2026-03-15 action:auth.login"],
        }
    )
    assert query == EventQuery(
        terms=(
            Term(Field.ACTION, ("member.*",)),
            Term(Field.ACTOR, ("bot@x.com",), negate=True),
            Term(Field.ACTION, ("auth.login",)),
        ),
        time=TimeRange(datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
    )


def test_phrase_resource_and_params_resource_fields() -> None:
    assert terms({"resource_type": ["workspace"], "phrase": ["resource:workspace/ws_1"]}) == (
        Term(Field.RESOURCE_TYPE, ("workspace",)),
        Term(Field.RESOURCE, (ResourceRef("workspace", "ws_1"),)),
    )


@pytest.mark.parametrize(("raw", "order"), [("asc", "asc"), ("desc", "desc"), ("ASC", "asc")])
def test_order(raw: str, order: str) -> None:
    assert parse({"order": [raw]})[0].order == order


@pytest.mark.parametrize(("raw", "limit"), [("1", 1), ("200", 200), ("50", 50), (" 7 ", 7)])
def test_limit_bounds(raw: str, limit: int) -> None:
    assert parse({"limit": [raw]})[1] == Page(limit=limit)


def test_offset() -> None:
    assert parse({"offset": ["400"], "limit": ["20"]})[1] == Page(limit=20, offset=400)


def test_cursor() -> None:
    cursor = Cursor(1_772_323_200_000_000, 17, "desc")
    assert parse({"cursor": [cursor.encode()]})[1] == Page(cursor=cursor)


def test_cursor_for_ascending_order() -> None:
    cursor = Cursor(5, 0, "asc")
    assert parse({"cursor": [cursor.encode()], "order": ["asc"]})[1].cursor == cursor


def test_blank_values_count_as_not_sent() -> None:
    assert parse(
        {"action": [""], "actor_id": ["  "], "limit": [""], "q": [""], "phrase": [" "]}
    ) == (
        EventQuery(),
        Page(),
    )


def test_blank_repeats_do_not_make_a_single_valued_parameter_repeated() -> None:
    assert terms({"kind": ["", "create"]}) == (Term(Field.KIND, ("create",)),)


def test_extra_allowed_names_are_accepted_and_ignored() -> None:
    params = {"format": ["csv"], "include": ["salts"], "outcome": ["success"]}
    query, page = query_from_params(params, extra_allowed={"format", "include"})
    assert query.terms == (Term(Field.OUTCOME, ("success",)),)
    assert page == Page()


def test_a_plain_string_value_is_one_value_not_characters() -> None:
    assert parse({"limit": "20"})[1] == Page(limit=20)


def test_ids_keep_case_and_inner_characters() -> None:
    assert terms({"actor_id": [" USR_Ab/9 x "]}) == (Term(Field.ACTOR_ID, ("USR_Ab/9 x",)),)


def test_surrounding_whitespace_is_dropped_from_values() -> None:
    assert terms({"action": ["auth.login\n"], "ip": [" 10.0.0.1 "]}) == (
        Term(Field.ACTION, ("auth.login",)),
        Term(Field.IP, (IPv4Network("10.0.0.1/32"),)),
    )
