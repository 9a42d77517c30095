"""The page's query string ↔ filters ↔ EventQuery."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from sealtrail.errors import InvalidQuery, PhraseSyntaxError
from sealtrail.query import Field, Term, format_phrase
from sealtrail.web.filters import Filters, page_limit, start_index

TODAY = date(2026, 3, 31)


def test_since_defaults_to_30_days_back_only_when_absent() -> None:
    assert Filters.from_params({}, TODAY).since == "2026-03-01"
    assert Filters.from_params({"since": ""}, TODAY).since == ""
    assert Filters.from_params({"since": " 2026-01-01 "}, TODAY).since == "2026-01-01"


def test_the_query_reads_every_field_like_the_api() -> None:
    filters = Filters.from_params(
        {
            "since": "2026-03-01",
            "until": "2026-03-31",
            "action": "member.*",
            "kind": "update",
            "resource_type": "workspace",
            "actor": "Ann@X.com",
            "q": "role",
            "phrase": "-outcome:failure",
            "account_id": "acc_1",
        },
        TODAY,
    )
    phrase = format_phrase(filters.query())
    for part in (
        "action:member.*",
        "kind:update",
        "resource_type:workspace",
        "actor:ann@x.com",
        "role",
        "-outcome:failure",
        "account:acc_1",
        "created:>=2026-03-01",
        "created:<2026-04-01",
    ):
        assert part in phrase


def test_bad_values_raise_naming_the_field() -> None:
    with pytest.raises(InvalidQuery) as bad:
        Filters(actor="   x" * 400).query()
    assert bad.value.parameter == "actor"
    with pytest.raises(PhraseSyntaxError):
        Filters(phrase='"open quote').query()


def test_links_keep_a_blank_since_and_drop_other_blanks() -> None:
    url = Filters(since="", action="app.created").url(cursor="abc")
    assert parse_qs(urlparse(url).query, keep_blank_values=True) == {
        "since": [""],
        "action": ["app.created"],
        "cursor": ["abc"],
    }


def test_the_export_link_pins_until_to_the_search_time() -> None:
    moment = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
    query = parse_qs(urlparse(Filters(kind="delete").export_url(moment)).query)
    assert query["until"] == ["2026-03-15T12:30:00.000000Z"]
    earlier = parse_qs(urlparse(Filters(until="2026-03-01").export_url(moment)).query)
    assert earlier["until"] == ["2026-03-02T00:00:00.000000Z"]  # the whole day, as the page


def test_chips_remove_one_filter_each() -> None:
    filters = Filters(since="2026-03-01", actor="ann@x.com", more=(("outcome", "failure"),))
    chips = {chip.label: chip for chip in filters.chips()}
    assert set(chips) == {"From", "Actor", "Outcome"}
    without_actor = parse_qs(urlparse(chips["Actor"].remove_url).query)
    assert without_actor == {"since": ["2026-03-01"], "outcome": ["failure"]}
    without_outcome = parse_qs(urlparse(chips["Outcome"].remove_url).query)
    assert without_outcome == {"since": ["2026-03-01"], "actor": ["ann@x.com"]}
    assert filters.narrows_beyond_dates
    assert not Filters(since="2026-03-01").narrows_beyond_dates


def test_api_filters_in_a_link_apply_too() -> None:
    params = {"actor_email": "a@x.com", "ip": "10.0.0.0/8", "page": "7", "access": "shown"}
    filters = Filters.from_params(params)
    assert dict(filters.more) == {"actor_email": "a@x.com", "ip": "10.0.0.0/8"}
    fields = {term.field for term in filters.query().terms}
    assert fields == {Field.ACTOR_EMAIL, Field.IP}


@pytest.mark.parametrize(
    ("params", "hidden"),
    [
        ({}, True),
        ({"access": "shown"}, False),
        ({"access": "yes"}, True),
        ({"action": "audit_log.viewed"}, False),
        ({"action": "audit_log.*"}, False),
        ({"category": "audit_log"}, False),
        ({"phrase": "category:audit_log"}, False),
        ({"phrase": "action:member.*"}, True),
    ],
)
def test_sealtrails_own_access_records_are_hidden_unless_asked_for(
    params: dict[str, str], hidden: bool
) -> None:
    filters = Filters.from_params(params)
    assert filters.hides_access is hidden
    excluded = Term(Field.ACTION, ("audit_log.viewed", "audit_log.exported"), negate=True)
    assert (excluded in filters.query().terms) is hidden
    assert ("access=shown" in filters.url()) is (params.get("access") == "shown")


@pytest.mark.parametrize(
    ("raw", "limit"), [(None, 50), ("20", 20), ("0", 1), ("999", 200), ("x", 50), ("-5", 50)]
)
def test_page_limit(raw: str | None, limit: int) -> None:
    assert page_limit(raw) == limit


def test_start_index_is_for_display_only() -> None:
    assert start_index("51") == 51
    assert start_index("0") == 1
    assert start_index(None) is None
    assert start_index("nope") is None
