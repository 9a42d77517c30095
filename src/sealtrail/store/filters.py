"""EventQuery → a WHERE clause for either engine (parameters bound, never interpolated).

One reading of each field (see ``query.model``), one builder table; the
``Dialect`` supplies what the engines spell differently: case-insensitive
email equality, an action prefix, free text, boolean literals and the
escaping of stored text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection
from typing import Any

from sealtrail.events import to_micros
from sealtrail.query import EventQuery, Field, ResourceRef, Term
from sealtrail.store.codec import network_range
from sealtrail.store.dialect import Clause, Dialect

Builder = Callable[[Dialect, object, str], Clause]
"""A value's clause; the ``str`` goes before each column (``dialect.unindexed`` keeps
the term's index out of the plan, ``compile_where``'s ``kept_off``)."""


def _equals(column: str) -> Builder:
    def build(_dialect: Dialect, value: object, off: str) -> Clause:
        return f"{off}{column} = ?", [value]

    return build


def _nocase_equals(column: str) -> Builder:
    def build(dialect: Dialect, value: object, off: str) -> Clause:
        return dialect.nocase_equals(off + column), [value]

    return build


def _action(dialect: Dialect, value: object, off: str) -> Clause:
    text = str(value)
    if text.endswith(".*"):
        return dialect.action_prefix(text[:-1], off + "action")  # "member."
    return f"{off}action = ?", [text]


def _either(id_column: str, email_column: str) -> Builder:
    def build(dialect: Dialect, value: object, off: str) -> Clause:
        if "@" not in str(value):  # emails always hold an "@": only the id can match
            return f"{off}{id_column} = ?", [value]
        return (
            f"({off}{id_column} = ? OR {dialect.nocase_equals(off + email_column)})",
            [value, value],
        )

    return build


def _resource(dialect: Dialect, value: object, off: str) -> Clause:
    assert isinstance(value, ResourceRef)
    kind = dialect.escape(value.type)
    if value.id is None:
        return f"{off}resource_type = ?", [kind]
    # One resource's events, in time order, are a range of events_by_resource_id; its
    # type is tested on each (a type's index would read every event of that type).
    return (
        f"({dialect.unindexed}resource_type = ? AND {off}resource_id = ?)",
        [kind, dialect.escape(value.id)],
    )


def _ip(_dialect: Dialect, value: object, off: str) -> Clause:
    assert isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    low, high = network_range(value)
    return f"{off}ip_key BETWEEN ? AND ?", [low, high]


def _text(dialect: Dialect, value: object, _off: str) -> Clause:
    return dialect.text_match(str(value))


_BUILDERS: dict[Field, Builder] = {
    Field.ACTION: _action,
    Field.CATEGORY: _equals("category"),
    Field.KIND: _equals("kind"),
    Field.OUTCOME: _equals("outcome"),
    Field.ACTOR: _either("actor_id", "actor_email"),
    Field.ACTOR_ID: _equals("actor_id"),
    Field.ACTOR_EMAIL: _nocase_equals("actor_email"),
    Field.TARGET: _either("target_id", "target_email"),
    Field.TARGET_ID: _equals("target_id"),
    Field.RESOURCE_TYPE: _equals("resource_type"),
    Field.RESOURCE_ID: _equals("resource_id"),
    Field.RESOURCE: _resource,
    Field.ACCOUNT_ID: _equals("account_id"),
    Field.IP: _ip,
    Field.TEXT: _text,
}


def term_clause(dialect: Dialect, term: Term, *, kept_off: bool = False) -> Clause:
    """One term's test (``kept_off``: with its columns kept out of the plan)."""
    parts: list[str] = []
    params: list[Any] = []
    build = _BUILDERS[term.field]
    off = dialect.unindexed if kept_off else ""
    for value in term.values:
        # Stored text is escaped (see the dialect); so is every string compared with it.
        value = dialect.escape(value) if isinstance(value, str) else value
        sql, args = build(dialect, value, off)
        parts.append(sql)
        params.extend(args)
    if not parts:
        return (dialect.true if term.negate else dialect.false), []
    joined = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if term.negate:
        # IS NOT TRUE keeps rows where the column is NULL (no actor email, no ip, …).
        return f"({joined}) IS NOT {dialect.true}", params
    return joined, params


_EITHER_COLUMNS: dict[Field, tuple[str, str]] = {
    Field.ACTOR: ("actor_id", "actor_email"),
    Field.TARGET: ("target_id", "target_email"),
}


def either_arms(dialect: Dialect, tenant_id: str, query: EventQuery) -> list[Clause]:
    """What each index of a positive id-or-email term reads: one ``WHERE`` per column
    and value (an id-only value has one), with the query's time bounds, which the
    indexes (tenant_id, column, occurred_at, seq) read as a range."""
    bound, bound_params = _time_bounds(query)
    bounds = [bound] if bound else []
    arms: list[Clause] = []
    for term in query.terms:
        if not _has_either(term):
            continue
        id_column, email_column = _EITHER_COLUMNS[term.field]
        for raw in term.values:
            value = dialect.escape(raw) if isinstance(raw, str) else raw
            columns = [f"{id_column} = ?"]
            if "@" in str(value):  # emails always hold an "@": only the id can match
                columns.append(dialect.nocase_equals(email_column))
            for column in columns:
                where = " AND ".join(["tenant_id = ?", column, *bounds])
                arms.append((where, [tenant_id, value, *bound_params]))
    return arms


def _union_of_rowids(dialect: Dialect, tenant_id: str, term: Term, query: EventQuery) -> Clause:
    """An id-or-email term as the rowids each column's own index finds:
    ``rowid IN (… UNION ALL …)``."""
    arms = either_arms(dialect, tenant_id, EventQuery((term,), query.time))
    sql = " UNION ALL ".join(f"SELECT rowid FROM events WHERE {where}" for where, _ in arms)
    return f"rowid IN ({sql})", [p for _, params in arms for p in params]


def _time_bounds(query: EventQuery) -> Clause:
    clauses: list[str] = []
    params: list[Any] = []
    if query.time.since is not None:
        clauses.append("occurred_at >= ?")
        params.append(to_micros(query.time.since))
    if query.time.until is not None:
        clauses.append("occurred_at < ?")
        params.append(to_micros(query.time.until))
    return " AND ".join(clauses), params


def has_either(query: EventQuery) -> bool:
    """Whether the query has a positive id-or-email term (an OR of two indexes)."""
    return any(_has_either(t) for t in query.terms)


def _has_either(term: Term) -> bool:
    return (
        term.field in _EITHER_COLUMNS
        and not term.negate
        and any("@" in str(value) for value in term.values)
    )


def compile_where(
    dialect: Dialect,
    tenant_id: str,
    query: EventQuery,
    *,
    text_first: bool = False,
    by_rowid: bool = False,
    kept_off: Collection[Term] = (),
) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters.

    ``text_first`` keeps the tenant's index out of the plan when the query has
    free text (``dialect.unindexed``), so SQLite reads the few full-text
    matches by rowid instead of walking the tenant's index and testing each
    row against the match list. ``by_rowid`` does the same for an id-or-email
    term where the dialect asks for it (``union_ors``): SQLite without
    statistics reads ``tenant_id = ?`` through any index and tests the OR on
    every row of the tenant; as the union of what ``(tenant_id, actor_id, …)``
    and ``(tenant_id, actor_email, …)`` find, each arm reads its own index
    entries. It reads every one of them before the page, so the caller asks for
    it only where they are few (``SQLiteStore._by_rowid``). The columns of the
    ``kept_off`` terms are kept out of the plan too (``SQLiteStore._driver``: the
    page and the count are read through the most selective term's index).
    """
    drive_by_text = text_first and any(t.field is Field.TEXT and not t.negate for t in query.terms)
    unions = by_rowid and dialect.union_ors
    drive_by_union = unions and has_either(query)
    unindexed = dialect.unindexed if drive_by_text or drive_by_union else ""
    clauses = [f"{unindexed}tenant_id = ?"]
    params: list[Any] = [tenant_id]
    bound, bound_params = _time_bounds(query)
    if bound:
        clauses.append(bound)
        params.extend(bound_params)
    for term in query.terms:
        sql, args = (
            _union_of_rowids(dialect, tenant_id, term, query)
            if unions and _has_either(term)
            else term_clause(dialect, term, kept_off=term in kept_off)
        )
        clauses.append(sql)
        params.extend(args)
    return " AND ".join(clauses), params
