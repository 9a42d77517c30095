"""Query strings into queries: ``GET /v1/events`` (and export) and the seed endpoint.

Both take the query string as a multi-dict (each name → every value sent, in
order) and return ``(EventQuery, Page)``. Every name must be known; the caller
adds the ones its endpoint also reads (``format``, ``include``) through
``extra_allowed``. Only ``action`` may repeat (its values OR together).

A parameter sent empty (``?actor_id=``), as an HTML form sends a blank field, is
treated as not sent. Any other bad value raises ``InvalidQuery`` naming the
parameter; a ``phrase`` that does not parse raises ``PhraseSyntaxError``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Final

from sealtrail.errors import InvalidQuery, PhraseSyntaxError
from sealtrail.limits import MAX_OFFSET
from sealtrail.query.cursor import Cursor, Order
from sealtrail.query.model import DEFAULT_LIMIT, MAX_LIMIT, EventQuery, Page, Term, TimeRange
from sealtrail.query.phrase import parse_phrase, text_terms
from sealtrail.query.times import parse_time
from sealtrail.query.values import Field, check_text

MAX_ACTIONS: Final = 100

# Single-valued filters, in the order their terms are built.
_FILTERS: Final = {
    "category": Field.CATEGORY,
    "kind": Field.KIND,
    "actor_id": Field.ACTOR_ID,
    "actor_email": Field.ACTOR_EMAIL,
    "target_id": Field.TARGET_ID,
    "resource_type": Field.RESOURCE_TYPE,
    "resource_id": Field.RESOURCE_ID,
    "account_id": Field.ACCOUNT_ID,
    "outcome": Field.OUTCOME,
    "ip": Field.IP,
}
EVENT_PARAMETERS: Final = frozenset(
    {"action", *_FILTERS, "q", "since", "until", "phrase", "order", "limit", "offset", "cursor"}
)
SEED_PARAMETERS: Final = frozenset({"action", "targetUserId", "since", "limit", "offset"})
_DIGITS: Final = re.compile(r"[0-9]{1,19}")


class _Params:
    """The non-blank values of each parameter, with unknown names refused."""

    def __init__(self, params: Mapping[str, Sequence[str]], allowed: Collection[str]) -> None:
        for name in params:
            if name not in allowed:
                raise InvalidQuery(f"unknown parameter {name!r}", name)
        self._values = {
            name: [value for value in _listed(values) if value.strip()]
            for name, values in params.items()
        }

    def many(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def one(self, name: str) -> str | None:
        values = self.many(name)
        if len(values) > 1:
            raise InvalidQuery(f"{name} takes one value, not {len(values)}", name)
        return values[0] if values else None


def _listed(values: Sequence[str]) -> Sequence[str]:
    return [values] if isinstance(values, str) else values


def query_from_params(
    params: Mapping[str, Sequence[str]], *, extra_allowed: Collection[str] = ()
) -> tuple[EventQuery, Page]:
    """The query and page a ``GET /v1/events`` query string asks for (SPEC §6).

    ``phrase`` is parsed with ``parse_phrase`` and ANDed with the other filters;
    ``q`` is free text read like a phrase's words (each word ANDed, a
    ``"quoted run"`` kept together); ``since``/``until`` intersect any
    ``created:`` in the phrase.
    """
    values = _Params(params, EVENT_PARAMETERS | frozenset(extra_allowed))
    terms: list[Term] = []
    if actions := values.many("action"):
        terms.append(_actions(actions))
    for name, field in _FILTERS.items():
        if (value := values.one(name)) is not None:
            terms.append(_term(name, field, value))
    if (text := values.one("q")) is not None:
        terms.extend(_free_text(text))
    since, until = values.one("since"), values.one("until")
    time = TimeRange(_time("since", since, end=False), _time("until", until, end=True))
    if time.is_empty:
        raise InvalidQuery("until must be later than since", "until")
    order = _order(values.one("order"))
    query = EventQuery(tuple(terms), time, order)
    if (phrase := values.one("phrase")) is not None:
        query = query.and_(parse_phrase(phrase))
    return query, _page(values, order)


def seed_query_from_params(
    params: Mapping[str, Sequence[str]], *, extra_allowed: Collection[str] = ()
) -> tuple[EventQuery, Page]:
    """The query and page of the seed product's ``/api/organization/rbac/members/audit-log``.

    ``action`` (repeatable, ``member.*`` prefixes), ``targetUserId`` (the
    target's id), ``since`` (date or RFC 3339), ``limit`` (1–200, default 50)
    and ``offset``; newest first, as ``/v1/events``.
    """
    values = _Params(params, SEED_PARAMETERS | frozenset(extra_allowed))
    terms: list[Term] = []
    if actions := values.many("action"):
        terms.append(_actions(actions))
    if (target := values.one("targetUserId")) is not None:
        terms.append(_term("targetUserId", Field.TARGET_ID, target))
    time = TimeRange(since=_time("since", values.one("since"), end=False))
    return EventQuery(tuple(terms), time), _page(values, "desc")


def _term(name: str, field: Field, *raw: str) -> Term:
    return Term.of(field, *raw, parameter=name)


def _actions(raw: list[str]) -> Term:
    if len(raw) > MAX_ACTIONS:
        raise InvalidQuery(f"action takes at most {MAX_ACTIONS} values", "action")
    return _term("action", Field.ACTION, *raw)


def _free_text(text: str) -> tuple[Term, ...]:
    try:
        check_text(text)
        return text_terms(text)
    except InvalidQuery as exc:
        raise InvalidQuery(f"q: {exc.message}", "q") from None
    except PhraseSyntaxError as exc:
        raise InvalidQuery(f"q: {exc.message}", "q") from None


def _time(name: str, value: str | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, end=end)
    except InvalidQuery as exc:
        raise InvalidQuery(f"{name}: {exc.message}", name) from None


def _order(value: str | None) -> Order:
    order = (value or "desc").strip().lower()
    if order == "desc":
        return "desc"
    if order == "asc":
        return "asc"
    raise InvalidQuery(f"order must be asc or desc, not {value!r}", "order")


def _page(values: _Params, order: Order) -> Page:
    limit = _count("limit", values.one("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _count("offset", values.one("offset"), 0, 0, MAX_OFFSET)
    token = values.one("cursor")
    if token is None:
        return Page(limit, offset)
    if values.one("offset") is not None:
        raise InvalidQuery("give either offset or cursor, not both", "offset")
    cursor = Cursor.decode(token.strip())
    if cursor.order != order:
        raise InvalidQuery(f"cursor is not valid: it was issued for order={cursor.order}", "cursor")
    return Page(limit, cursor=cursor)


def _count(name: str, value: str | None, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``: one message for every value outside."""
    if value is None:
        return default
    number = int(value) if _DIGITS.fullmatch(value.strip()) else None
    if number is None or not low <= number <= high:
        raise InvalidQuery(
            f"{name} must be a whole number from {low} to {high}, not {value.strip()!r}", name
        )
    return number
