"""Properties of the phrase grammar over generated input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network

from hypothesis import example, given, reject
from hypothesis import strategies as st

from sealtrail.errors import InvalidQuery, PhraseSyntaxError
from sealtrail.query import (
    EventQuery,
    Field,
    Term,
    TermValue,
    TimeRange,
    format_phrase,
    normalise_value,
    parse_phrase,
)

_ANY_CHAR = st.characters(codec=None)
_PHRASE_CHARS = st.one_of(
    st.sampled_from(list(' \t"\\-:*.<>=/@_aZ0189')),
    st.sampled_from(["action:", "created:", "ip:", "actor:", "..", ">=", "2026-03-01", "-"]),
    _ANY_CHAR,
)


@given(st.text(alphabet=_ANY_CHAR, max_size=200))
@example("\ud800")
@example('created:"2026-03-01"')
def test_any_text_parses_or_raises_phrase_syntax_error(text: str) -> None:
    error = _error_of(text)
    if error is not None:
        assert 0 <= error.position <= len(text)
        assert text[error.position :].startswith(error.token)


def _error_of(text: str) -> PhraseSyntaxError | None:
    try:
        parse_phrase(text)
    except PhraseSyntaxError as error:
        return error
    return None


@given(st.lists(_PHRASE_CHARS, max_size=40).map("".join))
def test_phrase_shaped_text_round_trips_through_format(text: str) -> None:
    try:
        query = parse_phrase(text)
    except PhraseSyntaxError:
        return
    assert parse_phrase(format_phrase(query)) == query


def _valid(field: Field) -> st.SearchStrategy[TermValue]:
    def keep(raw: str) -> TermValue:
        try:
            return normalise_value(field, raw)
        except InvalidQuery:
            reject()

    raws: st.SearchStrategy[str]
    match field:
        case Field.ACTION:
            raws = st.from_regex(
                r"[a-z][a-z0-9_]{0,5}(\.[a-z][a-z0-9_]{0,5}){0,2}\.(\*|[a-z]{1,4})", fullmatch=True
            )
        case Field.KIND:
            raws = st.sampled_from(["create", "update", "delete", "access", "other"])
        case Field.OUTCOME:
            raws = st.sampled_from(["success", "failure"])
        case Field.IP:
            raws = st.one_of(
                st.ip_addresses().map(str),
                st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=4), st.integers(0, 32)),
                st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=6), st.integers(0, 128)),
            )
        case Field.RESOURCE:
            raws = st.builds(
                lambda kind, ident: f"{kind}/{ident}" if ident else kind,
                st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s),
                st.text(max_size=8),
            )
        case _:
            raws = st.text(alphabet=_ANY_CHAR, min_size=1, max_size=12)
    return raws.map(keep)


@st.composite
def queries(draw: st.DrawFn) -> EventQuery:
    fields = [field for field in Field if field is not Field.TEXT]
    terms: list[Term] = []
    for field, negate in draw(
        st.lists(st.tuples(st.sampled_from(fields), st.booleans()), unique=True, max_size=6)
    ):
        values = draw(st.lists(_valid(field), min_size=1, max_size=3, unique=True))
        terms.append(Term(field, tuple(values), negate))
    for position, negate in draw(
        st.lists(st.tuples(st.integers(0, 10), st.booleans()), max_size=4)
    ):
        text = draw(_valid(Field.TEXT))
        terms.insert(min(position, len(terms)), Term(Field.TEXT, (text,), negate))
    moments = st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
    since = draw(st.none() | moments)
    until = draw(st.none() | moments.filter(lambda m: since is None or m > since))
    return EventQuery(tuple(terms), TimeRange(since, until))


@given(queries())
def test_formatted_queries_parse_back_to_themselves(query: EventQuery) -> None:
    assert parse_phrase(format_phrase(query)) == query


def test_format_writes_hosts_as_addresses_and_midnights_as_dates() -> None:
    query = EventQuery(
        (Term(Field.IP, (IPv4Network("10.0.0.1/32"), IPv6Network("2001:db8::/32"))),),
        TimeRange(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, 1, tzinfo=UTC)),
    )
    assert format_phrase(query) == (
        "ip:10.0.0.1 ip:2001:db8::/32 created:>=2026-03-01 created:<2026-03-02T01:00:00Z"
    )


def test_format_quotes_what_would_otherwise_read_differently() -> None:
    query = EventQuery(
        (
            Term(Field.TEXT, ("-dash",)),
            Term(Field.TEXT, ("key:shaped",)),
            Term(Field.TEXT, ('a "b"',), negate=True),
            Term(Field.ACTOR, ("Ann Lee",)),
        ),
        TimeRange(until=datetime(2026, 3, 1, 0, 0, 0, 5, tzinfo=UTC) + timedelta(0)),
    )
    assert format_phrase(query) == (
        '"-dash" "key:shaped" -"a \\"b\\"" actor:"Ann Lee" created:<2026-03-01T00:00:00.000005Z'
    )
