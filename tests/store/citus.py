"""The rules Citus needs to route every statement to one shard, as code the tests run.

docs/operations.md says Sealtrail can be distributed by ``tenant_id`` with Citus.
Citus cannot be installed here, so the claim is kept true by checking what it needs:

* **schema** (``schema_violations``): every table holding tenant data has its tenant
  column (``tenant_id``; ``tenants.id``) leading its primary key and every unique
  index, and every foreign key carries the tenant column to the referenced table's
  tenant column — so no key and no reference crosses tenants;
* **statements** (``statement_violation``): every statement the store sends that
  touches a table of tenant data names exactly one tenant — by ``tenant_id = %s``
  (``id = %s`` on ``tenants``), by the tenant column of the row it inserts, or by the
  rows it COPYs — so Citus routes it to the one shard holding that tenant.

The statements are captured by a cursor wrapper (``record``, installed on every
connection of a store's pools) while the store contract suite runs
(tests/store/conftest.py).

Exceptions, each for a stated reason (``REFERENCE_TABLES``, ``CROSS_TENANT``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

REFERENCE_TABLES = {
    "api_keys": (
        "an API key is found by its id before its tenant is known (authentication), so "
        "under Citus it is a reference table, copied to every node; it is small and "
        "changes only when keys are created or revoked. Its foreign key to tenants is "
        "dropped when distributing: Citus refuses one from a reference table to a "
        "distributed table"
    ),
}
NOT_TENANT_DATA = {"alembic_version": "the schema revision"}

CROSS_TENANT = {
    # statement pattern → why it may read every tenant (Citus runs it on every shard)
    r"^SELECT [\w, ]+ FROM tenants ORDER BY id$": (
        "lists every tenant: the operator's `tenants list` and the signer's first check "
        "after a start"
    ),
    r"^SELECT [\w, ]+ FROM erasures WHERE status <> 'done' ORDER BY created_at, id$": (
        "a starting server's look for erasures left unfinished in any tenant"
    ),
    r"^SELECT [\w, ]+ FROM log_consumers ORDER BY tenant_id, name$": (
        "the operator's list of every tenant's consumers"
    ),
    r"^SELECT [\w, ]+ FROM streams ORDER BY tenant_id, created_at, id$": (
        "a starting server's list of every tenant's streams, to deliver them"
    ),
}

_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|COPY)\s+(?:ONLY\s+)?\"?(\w+)\"?", re.I)
_PLACEHOLDER = r"%(?:\((\w+)\))?s"
_TENANT_PREDICATE = re.compile(r"(?:\b\w+\.)?\btenant_id\s*=\s*" + _PLACEHOLDER)
_TENANTS_PREDICATE = re.compile(r"\bWHERE\s+id\s*=\s*" + _PLACEHOLDER)
_INSERT = re.compile(
    r"^INSERT INTO (\w+)(?:\s+AS\s+\w+)?\s*\(([^)]*)\)\s*(?:VALUES\s*\(|SELECT\s)", re.I
)
_ANY_PLACEHOLDER = re.compile(_PLACEHOLDER)
_COPY = re.compile(r"^COPY (\w+)\s*\(([^)]*)\)\s*FROM STDIN", re.I)
_FUNCTION = re.compile(r"^SELECT sealtrail_erase\(%s,")


@dataclass
class Statement:
    sql: str
    params: Any = ()  # a sequence, or a mapping for named placeholders
    copied: list[Any] = field(default_factory=list)  # the tenant value of each COPYed row


RECORDED: list[Statement] = []


def _text(query: Any) -> str:
    if isinstance(query, str | bytes):
        return query.decode() if isinstance(query, bytes) else query
    return str(query.as_string(None)) if hasattr(query, "as_string") else str(query)


class _RecordingCopy:
    def __init__(self, copy: Any, statement: Statement, column: int | None) -> None:
        self._copy = copy
        self._statement = statement
        self._column = column

    def set_types(self, types: Sequence[str]) -> None:
        self._copy.set_types(types)

    def write_row(self, row: Sequence[Any]) -> None:
        if self._column is not None:
            self._statement.copied.append(row[self._column])
        self._copy.write_row(row)


def _params(params: Any) -> Any:
    return dict(params) if isinstance(params, dict) else tuple(params or ())


class RecordingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        RECORDED.append(Statement(_text(query), _params(params)))
        return super().execute(query, params, **kwargs)

    @contextlib.contextmanager
    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Iterator[Any]:
        recorded = Statement(_text(statement), tuple(params or ()))
        RECORDED.append(recorded)
        match = _COPY.match(recorded.sql)
        column = None
        if match:
            columns = [c.strip() for c in match.group(2).split(",")]
            column = columns.index("tenant_id") if "tenant_id" in columns else None
        with super().copy(statement, params, **kwargs) as copy:
            yield _RecordingCopy(copy, recorded, column)


class RecordingServerCursor(psycopg.ServerCursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        RECORDED.append(Statement(_text(query), _params(params)))
        return super().execute(query, params, **kwargs)


def record(connection: psycopg.Connection[Any]) -> None:
    """The pools' ``configure`` hook: every statement of ``connection`` is recorded."""
    connection.cursor_factory = RecordingCursor
    connection.server_cursor_factory = RecordingServerCursor


def _value(statement: Statement, sql: str, match: re.Match[str] | None, start: int) -> Any:
    """The value bound to the placeholder at ``start`` (positional or named)."""
    if match is not None and match.group(1) is not None:
        return statement.params[match.group(1)]
    return statement.params[len(_ANY_PLACEHOLDER.findall(sql[:start]))]


def statement_violation(statement: Statement, tenant_tables: set[str]) -> str | None:
    """Why ``statement`` would not go to exactly one shard, or None when it would."""
    sql = " ".join(statement.sql.split())
    tables = {t for t in _TABLE.findall(sql) if t in tenant_tables or t == "tenants"}
    if not tables:
        return None  # no tenant data: the schema revision, SELECT 1, settings, functions
    if tables <= set(REFERENCE_TABLES):
        return None
    if any(re.match(pattern, sql) for pattern in CROSS_TENANT):
        return None
    values: list[Any] = []
    if (match := _INSERT.match(sql)) is not None:
        columns = [c.strip() for c in match.group(2).split(",")]
        key = "id" if match.group(1) == "tenants" else "tenant_id"
        if key in columns:
            holders = list(_ANY_PLACEHOLDER.finditer(sql, match.end()))
            holder = holders[columns.index(key)]
            values.append(_value(statement, sql, holder, holder.start()))
    elif (match := _COPY.match(sql)) is not None:
        values.extend(statement.copied)
    elif _FUNCTION.match(sql):
        values.append(statement.params[0])
    predicates = list(_TENANT_PREDICATE.finditer(sql))
    if tables == {"tenants"}:
        predicates += list(_TENANTS_PREDICATE.finditer(sql))
    for m in predicates:
        found = _ANY_PLACEHOLDER.search(sql, m.start() + m.group(0).index("%"))
        values.append(_value(statement, sql, found, found.start() if found else m.end()))
    distinct = set(values)
    if len(distinct) == 1:
        return None
    if not distinct:
        return f"names no tenant: {sql}"
    return f"names {len(distinct)} tenants {sorted(map(str, distinct))}: {sql}"


@dataclass(frozen=True)
class Table:
    name: str
    columns: frozenset[str]


def tenant_tables(connection: psycopg.Connection[Any]) -> dict[str, str]:
    """Every table (not partition) of the schema holding tenant data → its tenant column."""
    rows = connection.execute(
        "SELECT c.relname, array_agg(a.attname::text) FROM pg_class c"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')"
        " AND NOT c.relispartition GROUP BY c.relname"
    ).fetchall()
    out: dict[str, str] = {}
    for name, columns in rows:
        if name in NOT_TENANT_DATA:
            continue
        out[name] = "id" if name == "tenants" else ("tenant_id" if "tenant_id" in columns else "")
    return out


def schema_violations(connection: psycopg.Connection[Any]) -> list[str]:
    """Every break of the schema rules, one line each (empty when Citus can distribute)."""
    tables = tenant_tables(connection)
    problems: list[str] = []
    for table, column in sorted(tables.items()):
        if table in REFERENCE_TABLES:
            continue
        if not column:
            problems.append(f"{table}: holds no tenant_id")
            continue
        for name, unique, primary, first in connection.execute(
            "SELECT i.relname, x.indisunique, x.indisprimary,"
            " (SELECT attname FROM pg_attribute WHERE attrelid = x.indrelid"
            "  AND attnum = x.indkey[0]) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = %s::regclass",
            (table,),
        ).fetchall():
            if (unique or primary) and first != column:
                kind = "primary key" if primary else "unique index"
                problems.append(f"{table}: {kind} {name} does not lead with {column}")
        has_primary = connection.execute(
            "SELECT 1 FROM pg_index WHERE indrelid = %s::regclass AND indisprimary", (table,)
        ).fetchone()
        if has_primary is None:
            problems.append(f"{table}: no primary key")
        for name, columns, target, target_columns in connection.execute(
            "SELECT con.conname,"
            " ARRAY(SELECT attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)"
            "  JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY o),"
            " con.confrelid::regclass::text,"
            " ARRAY(SELECT attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)"
            "  JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY o)"
            " FROM pg_constraint con WHERE con.contype = 'f' AND con.conrelid = %s::regclass",
            (table,),
        ).fetchall():
            target_column = tables.get(target, "")
            pairs = list(zip(columns, target_columns, strict=True))
            if (column, target_column) not in pairs:
                problems.append(
                    f"{table}: foreign key {name} to {target} does not carry {column} to"
                    f" {target}.{target_column or '(no tenant column)'}"
                )
    return problems
