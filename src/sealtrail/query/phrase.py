"""Search phrases (SPEC §8): one grammar for the CLI, the API and the viewer.

In the style of GitHub's audit log::

    action:member.* -actor:bot@x.com ip:10.0.0.0/8 created:>=2026-03-01 "quoted text"

* Tokens are separated by whitespace. ``key:value`` tests a field; anything
  else is free text. A value may be written in double quotes to hold spaces
  (``actor:"Ann Lee"``); inside quotes ``\\"`` is a quote and ``\\\\`` a
  backslash, and outside them ``\\"`` is a literal quote.
* A leading ``-`` negates a key term or a word (``-outcome:failure``,
  ``-"dry run"``). A quoted ``"-word"`` searches for the dash itself.
* Repeating a key with the same sign ORs its values (``action:a action:b`` is
  either action; ``-action:a -action:b`` is neither); different keys AND.
  Each bare word is its own ANDed ``TEXT`` term and a quoted string is one
  ``TEXT`` value matched as a phrase.
* Keys are case-insensitive: ``action``, ``actor``, ``target``, ``resource``
  (``type`` or ``type/id``), ``account``, ``ip`` (address or CIDR), ``outcome``,
  ``category``, ``kind`` and ``created``; plus the exact fields under their
  query-parameter names ``actor_id``, ``actor_email``, ``target_id``,
  ``resource_type``, ``resource_id`` and ``account_id``, so that every filter
  the API takes can also be written as a phrase (``format_phrase``).
* ``created`` takes ``>=D``, ``>D``, ``<=D``, ``<D``, ``D`` (that whole day, or
  that exact time), ``D..E`` (both ends included, ``*`` for an open end), where
  D and E are dates or RFC 3339 times with a zone. Every ``created`` term
  narrows ``EventQuery.time``: they intersect rather than OR, and a negated
  ``created`` is refused, since the result would not be one range.

Anything that does not parse raises ``PhraseSyntaxError`` with the offending
token and the offset where it starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from ipaddress import IPv4Network, IPv6Network
from typing import Final

from sealtrail.errors import InvalidQuery, PhraseSyntaxError
from sealtrail.query.model import EventQuery, Term, TimeRange
from sealtrail.query.times import Instant, parse_instant
from sealtrail.query.values import Field, TermValue, normalise_value

MAX_PHRASE_LENGTH: Final = 2048
CREATED: Final = "created"
KEYS: Final = {
    "action": Field.ACTION,
    "actor": Field.ACTOR,
    "target": Field.TARGET,
    "resource": Field.RESOURCE,
    "account": Field.ACCOUNT_ID,
    "ip": Field.IP,
    "outcome": Field.OUTCOME,
    "category": Field.CATEGORY,
    "kind": Field.KIND,
    "actor_id": Field.ACTOR_ID,
    "actor_email": Field.ACTOR_EMAIL,
    "target_id": Field.TARGET_ID,
    "resource_type": Field.RESOURCE_TYPE,
    "resource_id": Field.RESOURCE_ID,
    "account_id": Field.ACCOUNT_ID,
}
_KEY_OF: Final = {field: key for key, field in reversed(KEYS.items())}
_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*:")
_NEEDS_QUOTES: Final = re.compile(r'[\s"\\]|\A\Z')


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    source: str  # as written in the phrase
    text: str  # quotes removed and escapes applied
    plain: int  # how many leading characters of ``text`` were neither quoted nor escaped

    def error(self, problem: str) -> PhraseSyntaxError:
        shown = self.source if len(self.source) <= 60 else self.source[:57] + "..."
        return PhraseSyntaxError(
            f"{shown!r} at position {self.start}: {problem}", self.source, self.start
        )


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, plain, quoted = i, -1, False
        out: list[str] = []
        while i < n and (quoted or not text[i].isspace()):
            char = text[i]
            escaped = char == "\\" and i + 1 < n and text[i + 1] in ('"\\' if quoted else '"')
            if escaped or char == '"' or quoted:
                plain = len(out) if plain < 0 else plain
            if escaped:
                out.append(text[i + 1])
                i += 2
            elif char == '"':
                quoted = not quoted
                i += 1
            else:
                out.append(char)
                i += 1
        token = _Token(start, text[start:i], "".join(out), len(out) if plain < 0 else plain)
        if quoted:
            raise token.error("unterminated quote")
        yield token


def parse_phrase(text: str) -> EventQuery:
    """The query a search phrase asks for; an empty or blank phrase asks for everything.

    Raises ``PhraseSyntaxError`` (and nothing else) for anything that does not parse.
    """
    if len(text) > MAX_PHRASE_LENGTH:
        raise PhraseSyntaxError(
            f"the phrase is longer than {MAX_PHRASE_LENGTH} characters",
            text[MAX_PHRASE_LENGTH : MAX_PHRASE_LENGTH + 20],
            MAX_PHRASE_LENGTH,
        )
    terms = _Terms()
    time_range = TimeRange()
    for token in _tokens(text):
        negate = token.plain > 0 and token.text[0] == "-"
        body, plain = (token.text[1:], token.plain - 1) if negate else (token.text, token.plain)
        key = _KEY.match(body)
        if key is None or key.end() > plain:
            if negate and token.source == "-":
                raise token.error("nothing to negate after '-'")
            terms.add(Field.TEXT, negate, _value(token, Field.TEXT, body))
            continue
        name, value = key.group()[:-1].lower(), body[key.end() :]
        if name == CREATED:
            if negate:
                raise token.error("created: cannot be negated; use created:<… or created:>…")
            time_range = time_range.intersect(_created(token, value))
            continue
        field = KEYS.get(name)
        if field is None:
            raise token.error(
                f"unknown key {name!r} (keys: {', '.join([*KEYS, CREATED])});"
                " put text containing a colon in quotes"
            )
        if not value:
            raise token.error(f"no value after {name}:")
        terms.add(field, negate, _value(token, field, value))
    return EventQuery(terms.build(), time_range)


class _Terms:
    """Terms in order of first appearance; a key repeated with the same sign ORs in."""

    def __init__(self) -> None:
        self._entries: list[tuple[Field, bool, list[TermValue]]] = []
        self._grouped: dict[tuple[Field, bool], list[TermValue]] = {}

    def add(self, field: Field, negate: bool, value: TermValue) -> None:
        values = self._grouped.get((field, negate))
        if values is not None:
            values.append(value)
            return
        values = [value]
        self._entries.append((field, negate, values))
        if field is not Field.TEXT:  # every word is a term of its own
            self._grouped[(field, negate)] = values

    def build(self) -> tuple[Term, ...]:
        return tuple(Term(field, tuple(values), negate) for field, negate, values in self._entries)


def _value(token: _Token, field: Field, raw: str) -> TermValue:
    if field is Field.TEXT and not raw:
        raise token.error("empty quotes")
    try:
        return normalise_value(field, raw)
    except InvalidQuery as exc:
        name = "text" if field is Field.TEXT else _KEY_OF[field]
        raise token.error(f"{name}: {exc.message}") from None


def _created(token: _Token, value: str) -> TimeRange:
    if not value:
        raise token.error("no value after created:")

    def instant(text: str) -> Instant:
        try:
            return parse_instant(text)
        except InvalidQuery as exc:
            raise token.error(f"created: {exc.message}") from None

    try:
        for operator in (">=", "<=", ">", "<"):
            if value.startswith(operator):
                moment = instant(value[len(operator) :])
                if operator[0] == ">":
                    return TimeRange(since=moment.lower(inclusive=operator == ">="))
                return TimeRange(until=moment.upper(inclusive=operator == "<="))
        first, dots, last = value.partition("..")
        if not dots:
            first = last = value
        since = None if first == "*" else instant(first).lower(inclusive=True)
        until = None if last == "*" else instant(last).upper(inclusive=True)
    except InvalidQuery as exc:  # a bound beyond the last representable time
        raise token.error(f"created: {value!r} {exc.message}") from None
    if since is not None and until is not None and since >= until:
        raise token.error("created: the range ends before it starts")
    return TimeRange(since, until)


def text_terms(text: str) -> tuple[Term, ...]:
    """Free text as a phrase's words would read it, with no keys and no negation.

    For the ``q`` parameter: each word is an ANDed ``TEXT`` term, and a
    double-quoted run is one value. Raises ``PhraseSyntaxError`` as the phrase does.
    """
    return tuple(
        Term(Field.TEXT, (_value(token, Field.TEXT, token.text),)) for token in _tokens(text)
    )


def format_phrase(query: EventQuery) -> str:
    """A phrase that ``parse_phrase`` reads back as ``query`` (its ``order`` aside).

    Exact for every query ``parse_phrase`` or ``query_from_params`` builds. A
    query with two terms of one field and sign comes back as one ORed term, and
    a ``TEXT`` term of several values as several ANDed words, because the phrase
    grammar has no other spelling for them.
    """
    parts = [
        ("-" if term.negate else "") + _format_value(term.field, value)
        for term in query.terms
        for value in term.values
    ]
    if query.time.since is not None:
        parts.append(f"{CREATED}:>={_format_time(query.time.since)}")
    if query.time.until is not None:
        parts.append(f"{CREATED}:<{_format_time(query.time.until)}")
    return " ".join(parts)


def _format_value(field: Field, value: TermValue) -> str:
    if isinstance(value, IPv4Network | IPv6Network):
        text = str(value.network_address if value.prefixlen == value.max_prefixlen else value)
    else:
        text = str(value)
    if field is Field.TEXT:
        bare = not (text.startswith("-") or _KEY.match(text) or _NEEDS_QUOTES.search(text))
        return text if bare else _quote(text)
    return f"{_KEY_OF[field]}:{_quote(text) if _NEEDS_QUOTES.search(text) else text}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_time(moment: datetime) -> str:
    if moment.time() == time(0):
        return moment.date().isoformat()
    precision = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=precision) + "Z"
