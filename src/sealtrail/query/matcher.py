"""Does this event match that query? The store's reading of an ``EventQuery``, in memory.

Whatever follows the log event by event — the live tail, a stream's filter, a
detection rule — asks this instead of querying the database again. It reads
every field exactly as ``sealtrail.query.model`` says a store must (and as
``store.filters`` compiles it to SQL); ``tests/query/test_matcher.py`` runs the
same queries through both and requires the same events.

Free text is matched on ``query.text.words`` of ``query.text.search_text``: a
phrase matches when its words appear consecutively in the event's searchable
text (the fields joined, so a phrase may run from one field into the next, as
it does in the index).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from sealtrail.events import Event
from sealtrail.query.model import EventQuery, Term
from sealtrail.query.text import search_text, words
from sealtrail.query.values import Field, ResourceRef, TermValue

__all__ = ["matches"]

_Test = Callable[[Event, TermValue], bool]


def matches(query: EventQuery, event: Event) -> bool:
    """True when ``event`` is one of the events a store's search for ``query`` returns."""
    occurred = event.occurred_at
    since, until = query.time.since_us, query.time.until_us
    if since is not None and occurred < since:
        return False
    if until is not None and occurred >= until:
        return False
    return all(_term(term, event) for term in query.terms)


def _term(term: Term, event: Event) -> bool:
    test = _TESTS[term.field]
    found = any(test(event, value) for value in term.values)
    return not found if term.negate else found


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _action(event: Event, value: TermValue) -> bool:
    text = str(value)
    if text.endswith(".*"):
        return event.action.startswith(text[:-1])  # "member.*" → starts with "member."
    return event.action == text


def _actor(event: Event, value: TermValue) -> bool:
    text = str(value)
    if event.actor.id == text:
        return True
    return "@" in text and _lower(event.actor.email) == text


def _target(event: Event, value: TermValue) -> bool:
    target = event.target
    if target is None:
        return False
    text = str(value)
    return target.id == text or ("@" in text and _lower(target.email) == text)


def _resource(event: Event, value: TermValue) -> bool:
    assert isinstance(value, ResourceRef)
    resource = event.resource
    if resource is None or resource.type != value.type:
        return False
    return value.id is None or resource.id == value.id


def _ip(event: Event, value: TermValue) -> bool:
    assert isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    if event.ip is None:
        return False
    address = ipaddress.ip_address(event.ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version == value.version and address in value


def _text(event: Event, value: TermValue) -> bool:
    wanted = words(str(value))
    if not wanted:
        return True
    have = words(search_text(event))
    span = len(wanted)
    first = wanted[0]
    return any(have[i : i + span] == wanted for i, word in enumerate(have) if word == first)


_TESTS: dict[Field, _Test] = {
    Field.ACTION: _action,
    Field.CATEGORY: lambda e, v: e.category == v,
    Field.KIND: lambda e, v: e.kind == v,
    Field.OUTCOME: lambda e, v: e.outcome == v,
    Field.ACTOR: _actor,
    Field.ACTOR_ID: lambda e, v: e.actor.id == v,
    Field.ACTOR_EMAIL: lambda e, v: _lower(e.actor.email) == v,
    Field.TARGET: _target,
    Field.TARGET_ID: lambda e, v: e.target is not None and e.target.id == v,
    Field.RESOURCE_TYPE: lambda e, v: e.resource is not None and e.resource.type == v,
    Field.RESOURCE_ID: lambda e, v: e.resource is not None and e.resource.id == v,
    Field.RESOURCE: _resource,
    Field.ACCOUNT_ID: lambda e, v: e.account_id == v,
    Field.IP: _ip,
    Field.TEXT: _text,
}
