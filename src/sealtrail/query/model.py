"""The search model: what a query asks for, as plain immutable data.

A query is a conjunction of ``Term``s over the event's fields plus a half-open
``TimeRange`` on ``occurred_at``. Every value in a term has already been
validated and normalised (by ``parse_phrase``, ``query_from_params`` or
``normalise_value``), so a store only translates: one ``Term`` becomes
``(alternative OR alternative …)``, negated as a whole when ``negate`` is set,
and the terms are ANDed together.

How a store reads each field (``values`` are ORed alternatives):

=================  ==================================================================
``ACTION``         ``str``: an exact action, or ``"member.*"`` meaning "starts with
                   ``member.``" (``action_prefix`` returns that prefix or ``None``)
``CATEGORY``       ``str``: exact
``KIND``           ``str``: one of ``KINDS``
``ACTOR``          ``str``: ``actor.id`` equals it, or ``actor.email`` equals it
                   case-insensitively (values containing ``@`` arrive lower-cased)
``ACTOR_ID``       ``str``: exact ``actor.id``
``ACTOR_EMAIL``    ``str``: lower-cased; compare with the lower-cased ``actor.email``
``TARGET``         ``str``: as ``ACTOR``, on ``target.id`` / ``target.email``
``TARGET_ID``      ``str``: exact ``target.id``
``RESOURCE_TYPE``  ``str``: exact ``resource.type``
``RESOURCE_ID``    ``str``: exact ``resource.id``
``RESOURCE``       ``ResourceRef``: ``resource.type`` equals ``type`` and, unless
                   ``id`` is ``None``, ``resource.id`` equals ``id``
``ACCOUNT_ID``     ``str``: exact ``account_id``
``OUTCOME``        ``str``: ``success`` or ``failure``
``IP``             ``IPv4Network | IPv6Network``: the event's ``ip`` lies in it
                   (an IPv4-mapped IPv6 network arrives as the IPv4 network)
``TEXT``           ``str``: free text exactly as the user typed it; see below
=================  ==================================================================

A ``TEXT`` value is matched as a phrase: its words must appear, in order and
case-insensitively, in the event's searchable text (description, resource id
and name, actor and target names and emails). A bare word in a search phrase is
a one-word value. The value is raw user input: a store MUST escape it before it
reaches a full-text query language (FTS5 ``MATCH``, ``to_tsquery``) — bind it as
a parameter and quote it (FTS5: wrap in double quotes, doubling inner quotes;
PostgreSQL: ``phraseto_tsquery``/``plainto_tsquery`` take it safely as is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network
from typing import Final

from sealtrail.errors import InvalidQuery
from sealtrail.events import to_micros
from sealtrail.limits import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE
from sealtrail.query.cursor import Cursor, Order
from sealtrail.query.values import Field, ResourceRef, TermValue, normalise_value

DEFAULT_LIMIT: Final = DEFAULT_PAGE
MAX_LIMIT: Final = MAX_PAGE


def _value_fits(field: Field, value: TermValue) -> bool:
    if field is Field.IP:
        return isinstance(value, IPv4Network | IPv6Network)
    if field is Field.RESOURCE:
        return isinstance(value, ResourceRef)
    return isinstance(value, str)


@dataclass(frozen=True, slots=True)
class Term:
    """One field test: any of ``values`` matches (OR); ``negate`` inverts the whole term.

    Duplicate values are dropped, keeping the first of each. Values must
    already be normalised: build terms from raw text with ``Term.of``.
    """

    field: Field
    values: tuple[TermValue, ...]
    negate: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", Field(self.field))
        if not self.values:
            raise ValueError(f"a {self.field} term needs at least one value")
        for value in self.values:
            if not _value_fits(self.field, value):
                raise TypeError(f"{value!r} is not a value of a {self.field} term")
        object.__setattr__(self, "values", tuple(dict.fromkeys(self.values)))

    @classmethod
    def of(
        cls, field: Field, *raw: str, negate: bool = False, parameter: str | None = None
    ) -> Term:
        """A term from raw text values, validated and normalised like a parameter.

        Raises ``InvalidQuery`` naming ``parameter`` (by default the field's
        name) when a value is not acceptable.
        """
        name = parameter or field.value
        try:
            values = tuple(normalise_value(field, value) for value in raw)
        except InvalidQuery as exc:
            raise InvalidQuery(f"{name}: {exc.message}", name) from None
        return cls(field, values, negate)


def _utc(moment: datetime | None, name: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"TimeRange.{name} must be timezone-aware")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``since <= occurred_at < until``; ``None`` leaves that side open.

    Both bounds are timezone-aware and kept in UTC. A range whose ``since`` is
    not before its ``until`` is legal and matches nothing (``is_empty``): it
    is what intersecting two disjoint ranges yields.
    """

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", _utc(self.since, "since"))
        object.__setattr__(self, "until", _utc(self.until, "until"))

    @property
    def is_empty(self) -> bool:
        return self.since is not None and self.until is not None and self.since >= self.until

    @property
    def since_us(self) -> int | None:
        """``since`` in microseconds since the epoch, the unit events are stored in."""
        return None if self.since is None else to_micros(self.since)

    @property
    def until_us(self) -> int | None:
        return None if self.until is None else to_micros(self.until)

    def intersect(self, other: TimeRange) -> TimeRange:
        return TimeRange(_latest(self.since, other.since), _earliest(self.until, other.until))


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True, slots=True)
class EventQuery:
    """All of ``terms`` (AND) within ``time``, read in ``order`` of (occurred_at, seq)."""

    terms: tuple[Term, ...] = ()
    time: TimeRange = TimeRange()
    order: Order = "desc"

    def __post_init__(self) -> None:
        if self.order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', not {self.order!r}")

    def and_(self, other: EventQuery) -> EventQuery:
        """Both queries at once: terms concatenated, times intersected, ``self``'s order."""
        return EventQuery(self.terms + other.terms, self.time.intersect(other.time), self.order)

    def terms_for(self, field: Field) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.field is field)

    @property
    def selects_everything(self) -> bool:
        """No term and no time bound: every event of the tenant matches."""
        return not self.terms and self.time.since is None and self.time.until is None


def action_prefix(value: str) -> str | None:
    """``"member."`` for the prefix form ``"member.*"``; ``None`` for an exact action."""
    return value[:-1] if value.endswith(".*") else None


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of the matches: ``limit`` rows after ``offset`` rows or after ``cursor``.

    Raises ``InvalidQuery`` naming the parameter when a value is out of range,
    so every edge that builds a page (API, CLI, SDK) gets the same rules.
    """

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: Cursor | None = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}", "limit")
        if isinstance(self.offset, bool) or not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidQuery(f"offset must be between 0 and {MAX_OFFSET}", "offset")
        if self.cursor is not None and self.offset:
            raise InvalidQuery("give either offset or cursor, not both", "offset")
