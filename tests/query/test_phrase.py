"""parse_phrase: the SPEC §8 examples, negation, OR/AND grouping, quoting."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network

import pytest

from sealtrail.query import EventQuery, Field, ResourceRef, Term, TimeRange, parse_phrase


def day(year: int, month: int, date: int) -> datetime:
    return datetime(year, month, date, tzinfo=UTC)


def only_term(phrase: str) -> Term:
    query = parse_phrase(phrase)
    assert query.time == TimeRange()
    (term,) = query.terms
    return term


@pytest.mark.parametrize(
    ("phrase", "term"),
    [
        ("action:member.*", Term(Field.ACTION, ("member.*",))),
        ("actor:ann@x.com", Term(Field.ACTOR, ("ann@x.com",))),
        ("target:usr_42", Term(Field.TARGET, ("usr_42",))),
        ("resource:workspace/ws_1", Term(Field.RESOURCE, (ResourceRef("workspace", "ws_1"),))),
        ("resource:workspace", Term(Field.RESOURCE, (ResourceRef("workspace"),))),
        ("account:acc_1", Term(Field.ACCOUNT_ID, ("acc_1",))),
        ("ip:10.0.0.0/8", Term(Field.IP, (IPv4Network("10.0.0.0/8"),))),
        ("outcome:failure", Term(Field.OUTCOME, ("failure",))),
        ("category:billing", Term(Field.CATEGORY, ("billing",))),
        ("kind:delete", Term(Field.KIND, ("delete",))),
    ],
)
def test_spec_key_examples(phrase: str, term: Term) -> None:
    assert only_term(phrase) == term


@pytest.mark.parametrize(
    ("phrase", "field"),
    [
        ("actor_id:usr_1", Field.ACTOR_ID),
        ("actor_email:usr_1", Field.ACTOR_EMAIL),
        ("target_id:usr_1", Field.TARGET_ID),
        ("resource_type:usr_1", Field.RESOURCE_TYPE),
        ("resource_id:usr_1", Field.RESOURCE_ID),
        ("account_id:usr_1", Field.ACCOUNT_ID),
    ],
)
def test_parameter_names_are_keys_for_the_exact_fields(phrase: str, field: Field) -> None:
    assert only_term(phrase) == Term(field, ("usr_1",))


def test_created_on_or_after() -> None:
    assert parse_phrase("created:>=2026-03-01") == EventQuery(time=TimeRange(since=day(2026, 3, 1)))


def test_created_range_includes_its_last_day() -> None:
    query = parse_phrase("created:2026-03-01..2026-03-31")
    assert query.time == TimeRange(day(2026, 3, 1), day(2026, 4, 1))


@pytest.mark.parametrize(
    ("phrase", "since", "until"),
    [
        ("created:>2026-03-01", day(2026, 3, 2), None),
        ("created:<=2026-03-01", None, day(2026, 3, 2)),
        ("created:<2026-03-01", None, day(2026, 3, 1)),
        ("created:2026-03-01", day(2026, 3, 1), day(2026, 3, 2)),
        ("created:2026-03-01..*", day(2026, 3, 1), None),
        ("created:*..2026-03-01", None, day(2026, 3, 2)),
        ("created:*..*", None, None),
        (
            "created:>=2026-03-01T10:00:00+02:00",
            datetime(2026, 3, 1, 8, tzinfo=UTC),
            None,
        ),
        (
            "created:>2026-03-01T10:00:00Z",
            datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=UTC),
            None,
        ),
        ("created:<2026-03-01T10:00:00Z", None, datetime(2026, 3, 1, 10, tzinfo=UTC)),
        (
            "created:<=2026-03-01T10:00:00Z",
            None,
            datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=UTC),
        ),
        (
            "created:2026-03-01T10:00:00Z",
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=UTC),
        ),
        (
            "created:2026-03-01T10:00Z..2026-03-01T12:00:00.5Z",
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            datetime(2026, 3, 1, 12, 0, 0, 500001, tzinfo=UTC),
        ),
        ("CREATED:>=2026-03-01", day(2026, 3, 1), None),
    ],
)
def test_created_forms(phrase: str, since: datetime | None, until: datetime | None) -> None:
    assert parse_phrase(phrase) == EventQuery(time=TimeRange(since, until))


def test_created_terms_intersect_rather_than_or() -> None:
    query = parse_phrase("created:>=2026-03-01 created:<2026-04-01 created:2026-03-10..2026-05-01")
    assert query.time == TimeRange(day(2026, 3, 10), day(2026, 4, 1))


def test_disjoint_created_terms_make_an_empty_range() -> None:
    query = parse_phrase("created:2026-03-01 created:2026-04-01")
    assert query.time.is_empty


@pytest.mark.parametrize("phrase", ["", "   ", "\t\n ", "\u3000\u00a0"])
def test_blank_phrase_asks_for_everything(phrase: str) -> None:
    assert parse_phrase(phrase) == EventQuery()


def test_leading_dash_negates_a_key_term() -> None:
    assert only_term("-outcome:failure") == Term(Field.OUTCOME, ("failure",), negate=True)


def test_leading_dash_negates_a_word_and_quoted_text() -> None:
    assert parse_phrase('-draft -"dry run"').terms == (
        Term(Field.TEXT, ("draft",), negate=True),
        Term(Field.TEXT, ("dry run",), negate=True),
    )


def test_a_dash_inside_quotes_is_text() -> None:
    assert only_term('"-draft"') == Term(Field.TEXT, ("-draft",))


def test_a_dash_inside_a_value_is_part_of_it() -> None:
    assert only_term("actor:-x") == Term(Field.ACTOR, ("-x",))


def test_repeated_key_ors_its_values() -> None:
    assert only_term("action:member.invited action:member.offboarded") == Term(
        Field.ACTION, ("member.invited", "member.offboarded")
    )


def test_repeated_negated_key_excludes_every_value() -> None:
    assert only_term("-action:auth.login -action:auth.logout") == Term(
        Field.ACTION, ("auth.login", "auth.logout"), negate=True
    )


def test_same_key_with_different_signs_are_separate_terms() -> None:
    query = parse_phrase("action:member.* -action:member.invited action:auth.login")
    assert query.terms == (
        Term(Field.ACTION, ("member.*", "auth.login")),
        Term(Field.ACTION, ("member.invited",), negate=True),
    )


def test_different_keys_and_words_are_anded_in_order_of_first_appearance() -> None:
    query = parse_phrase(
        "actor:ann@x.com invoice action:billing.* ip:10.0.0.0/8 actor:bob@x.com outcome:failure"
    )
    assert query.terms == (
        Term(Field.ACTOR, ("ann@x.com", "bob@x.com")),
        Term(Field.TEXT, ("invoice",)),
        Term(Field.ACTION, ("billing.*",)),
        Term(Field.IP, (IPv4Network("10.0.0.0/8"),)),
        Term(Field.OUTCOME, ("failure",)),
    )


def test_account_and_account_id_are_one_key() -> None:
    assert only_term("account:a account_id:b") == Term(Field.ACCOUNT_ID, ("a", "b"))


def test_each_bare_word_is_its_own_term() -> None:
    assert parse_phrase("role changed role").terms == (
        Term(Field.TEXT, ("role",)),
        Term(Field.TEXT, ("changed",)),
        Term(Field.TEXT, ("role",)),
    )


def test_repeated_values_are_kept_once() -> None:
    assert only_term("kind:create kind:CREATE") == Term(Field.KIND, ("create",))


def test_full_spec_phrase() -> None:
    query = parse_phrase(
        'action:member.* -actor:bot@x.com ip:10.0.0.0/8 created:>=2026-03-01 "quoted text" welcome'
    )
    assert query == EventQuery(
        terms=(
            Term(Field.ACTION, ("member.*",)),
            Term(Field.ACTOR, ("bot@x.com",), negate=True),
            Term(Field.IP, (IPv4Network("10.0.0.0/8"),)),
            Term(Field.TEXT, ("quoted text",)),
            Term(Field.TEXT, ("welcome",)),
        ),
        time=TimeRange(since=day(2026, 3, 1)),
    )


def test_keys_are_case_insensitive_and_values_normalised() -> None:
    assert parse_phrase("Action:Member.Invited OUTCOME:Failure actor:Ann@X.COM").terms == (
        Term(Field.ACTION, ("member.invited",)),
        Term(Field.OUTCOME, ("failure",)),
        Term(Field.ACTOR, ("ann@x.com",)),
    )


def test_actor_id_without_at_keeps_its_case() -> None:
    assert only_term("actor:USR_Ab") == Term(Field.ACTOR, ("USR_Ab",))


def test_ipv6_and_mapped_ipv4() -> None:
    assert parse_phrase("ip:2001:db8::/32 ip:::ffff:10.1.2.3").terms == (
        Term(Field.IP, (IPv6Network("2001:db8::/32"), IPv4Network("10.1.2.3/32"))),
    )


def test_phrase_is_never_split_on_colons_inside_the_value() -> None:
    assert only_term("resource:url/https://x.test/a") == Term(
        Field.RESOURCE, (ResourceRef("url", "https://x.test/a"),)
    )
