"""EventQuery → a PostgreSQL WHERE clause (parameters bound, never interpolated).

The same reading of each field as ``sqlite_filters`` (see ``query.model``).
Case-insensitive email matches compare ``lower(column)``, which under the
columns' "C" collation folds ASCII letters only — what SQLite's NOCASE does —
and is what the partial ``lower(...)`` indexes are built on. Free text is a
phrase over the generated ``search`` tsvector (``sealtrail_phrase`` splits the
words the way the stored vector was split).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from sealtrail.events import to_micros
from sealtrail.query import EventQuery, Field, ResourceRef, Term
from sealtrail.store.codec import network_range
from sealtrail.store.postgres_rows import escape_text

Clause = tuple[str, list[Any]]

# A value folded the way the indexed lower(column) is: ASCII only, as NOCASE does.
_FOLDED = 'lower(%s::text COLLATE "C")'


def _equals(column: str) -> Callable[[object], Clause]:
    def build(value: object) -> Clause:
        return f"{column} = %s", [value]

    return build


def _lower_equals(column: str) -> Callable[[object], Clause]:
    def build(value: object) -> Clause:
        return f"lower({column}) = {_FOLDED}", [value]

    return build


def _action(value: object) -> Clause:
    text = str(value)
    if text.endswith(".*"):
        prefix = text[:-1]  # "member."
        group, _, deeper = prefix[:-1].partition(".")
        # Every action has a dot, so "member.*" is exactly "first segment is member":
        # one test the events_by_action_group index answers in time order.
        if not deeper:
            return "split_part(action, '.', 1) = %s", [group]
        # Deeper prefixes add the range of everything between "a.b." and "a.b/".
        return (
            "(split_part(action, '.', 1) = %s AND action >= %s AND action < %s)",
            [group, prefix, prefix[:-1] + "/"],
        )
    return "action = %s", [text]


def _either(id_column: str, email_column: str) -> Callable[[object], Clause]:
    def build(value: object) -> Clause:
        return f"({id_column} = %s OR lower({email_column}) = {_FOLDED})", [value, value]

    return build


def _resource(value: object) -> Clause:
    assert isinstance(value, ResourceRef)
    kind = escape_text(value.type)
    if value.id is None:
        return "resource_type = %s", [kind]
    return "(resource_type = %s AND resource_id = %s)", [kind, escape_text(value.id)]


def _ip(value: object) -> Clause:
    assert isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    low, high = network_range(value)
    return "ip_key BETWEEN %s AND %s", [low, high]


def _text(value: object) -> Clause:
    return "search @@ sealtrail_phrase(%s)", [str(value)]


_BUILDERS: dict[Field, Callable[[object], Clause]] = {
    Field.ACTION: _action,
    Field.CATEGORY: _equals("category"),
    Field.KIND: _equals("kind"),
    Field.OUTCOME: _equals("outcome"),
    Field.ACTOR: _either("actor_id", "actor_email"),
    Field.ACTOR_ID: _equals("actor_id"),
    Field.ACTOR_EMAIL: _lower_equals("actor_email"),
    Field.TARGET: _either("target_id", "target_email"),
    Field.TARGET_ID: _equals("target_id"),
    Field.RESOURCE_TYPE: _equals("resource_type"),
    Field.RESOURCE_ID: _equals("resource_id"),
    Field.RESOURCE: _resource,
    Field.ACCOUNT_ID: _equals("account_id"),
    Field.IP: _ip,
    Field.TEXT: _text,
}


def _term(term: Term) -> Clause:
    parts: list[str] = []
    params: list[Any] = []
    for value in term.values:
        # Stored text is escaped (postgres_rows); so is every string compared with it.
        sql, args = _BUILDERS[term.field](escape_text(value) if isinstance(value, str) else value)
        parts.append(sql)
        params.extend(args)
    joined = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if term.negate:
        # IS NOT TRUE keeps rows where the column is NULL (no actor email, no ip, …).
        return f"({joined}) IS NOT TRUE", params
    return joined, params


def compile_where(tenant_id: str, query: EventQuery) -> tuple[str, list[Any]]:
    clauses = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    if query.time.since is not None:
        clauses.append("occurred_at >= %s")
        params.append(to_micros(query.time.since))
    if query.time.until is not None:
        clauses.append("occurred_at < %s")
        params.append(to_micros(query.time.until))
    for term in query.terms:
        sql, args = _term(term)
        clauses.append(sql)
        params.extend(args)
    return " AND ".join(clauses), params
