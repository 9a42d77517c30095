"""EventQuery → an SQLite WHERE clause (parameters bound, never interpolated)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from sealtrail.events import to_micros
from sealtrail.query import EventQuery, Field, ResourceRef, Term
from sealtrail.store.codec import network_range

Clause = tuple[str, list[Any]]


def _equals(column: str, nocase: bool = False) -> Callable[[object], Clause]:
    collate = " COLLATE NOCASE" if nocase else ""

    def build(value: object) -> Clause:
        return f"{column} = ?{collate}", [value]

    return build


def _action(value: object) -> Clause:
    text = str(value)
    if text.endswith(".*"):
        prefix = text[:-1]  # "member." — everything that sorts between it and "member/"
        return "(action >= ? AND action < ?)", [prefix, prefix[:-1] + "/"]
    return "action = ?", [text]


def _either(id_column: str, email_column: str) -> Callable[[object], Clause]:
    def build(value: object) -> Clause:
        if "@" not in str(value):  # emails always hold an "@": only the id can match
            return f"{id_column} = ?", [value]
        return f"({id_column} = ? OR {email_column} = ? COLLATE NOCASE)", [value, value]

    return build


def _resource(value: object) -> Clause:
    assert isinstance(value, ResourceRef)
    if value.id is None:
        return "resource_type = ?", [value.type]
    return "(resource_type = ? AND resource_id = ?)", [value.type, value.id]


def _ip(value: object) -> Clause:
    assert isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    low, high = network_range(value)
    return "ip_key BETWEEN ? AND ?", [low, high]


def fts_phrase(text: str) -> str:
    """A user's words as one FTS5 phrase: quoted, so no operator syntax leaks in."""
    return '"' + text.replace('"', '""') + '"'


def _text(value: object) -> Clause:
    return "rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", [
        fts_phrase(str(value))
    ]


_BUILDERS: dict[Field, Callable[[object], Clause]] = {
    Field.ACTION: _action,
    Field.CATEGORY: _equals("category"),
    Field.KIND: _equals("kind"),
    Field.OUTCOME: _equals("outcome"),
    Field.ACTOR: _either("actor_id", "actor_email"),
    Field.ACTOR_ID: _equals("actor_id"),
    Field.ACTOR_EMAIL: _equals("actor_email", nocase=True),
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
        sql, args = _BUILDERS[term.field](value)
        parts.append(sql)
        params.extend(args)
    if not parts:
        return ("0", []) if not term.negate else ("1", [])
    joined = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if term.negate:
        # IS NOT 1 keeps rows where the column is NULL (no actor email, no ip, …).
        return f"({joined}) IS NOT 1", params
    return joined, params


def compile_where(
    tenant_id: str, query: EventQuery, *, text_first: bool = False
) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters.

    ``text_first`` writes the tenant test as ``+tenant_id`` when the query has
    free text, so SQLite reads the few full-text matches by rowid instead of
    walking the tenant's index and testing each row against the match list.
    """
    drive_by_text = text_first and any(t.field is Field.TEXT and not t.negate for t in query.terms)
    clauses = ["+tenant_id = ?" if drive_by_text else "tenant_id = ?"]
    params: list[Any] = [tenant_id]
    if query.time.since is not None:
        clauses.append("occurred_at >= ?")
        params.append(to_micros(query.time.since))
    if query.time.until is not None:
        clauses.append("occurred_at < ?")
        params.append(to_micros(query.time.until))
    for term in query.terms:
        sql, args = _term(term)
        clauses.append(sql)
        params.extend(args)
    return " AND ".join(clauses), params
