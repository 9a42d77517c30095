"""Query plans of what a store really runs: a skewed history, the SQL captured, plans read.

The plan tests (test_query_plans.py) search through the public ``EventStore``
API only. Every statement the store sends is captured on its way to the
driver — SQLite's trace callback hands over the SQL with its values bound,
psycopg's cursor is wrapped — and each read of ``events`` is explained on a
connection of the test's own. So the tests hold whatever shape the SQL
builders take, and fail when the plan changes, not when the code does.

Both engines explain into one small ``Plan``: the indexes that read
``events`` (PostgreSQL partition indexes are named by the index they were
cloned from), whether anything reads the table or an index whole, and the
sorts with how many rows each is estimated to sort.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sealtrail.events import Actor, Event, Resource, Target, parse_timestamp
from sealtrail.store.base import EventStore

from .factory import add_tenant, append, make_event

# -- the history ---------------------------------------------------------------
# Three calendar months; on PostgreSQL each gets its own partition, as it would
# in production. Under 30,000 rows per partition, ANALYZE reads every row, so
# the statistics (and so the plans) do not depend on a random sample.
START = parse_timestamp("2026-01-01T00:00:00Z")
DAY = 86_400_000_000
SPAN = 90 * DAY
MONTHS = ("2026-01-01", "2026-02-01", "2026-03-01")
TENANT = "acme"
OTHER = "globex"
SIZE = 12_000  # acme's events: more than the SPARSE_MATCHES plan threshold per common value
OTHER_SIZE = 3_000
RARE = frozenset({977, 5_311, 11_204})  # acme's rare values appear on these rows only


@dataclass(frozen=True)
class Values:
    """Values of each filter by how common they are in acme (what the tests query for)."""

    common_action = "auth.login"  # 60 %
    rare_action = "tenant.exported"  # 3 rows
    common_actor = "svc_sync"  # 50 %
    rare_actor = "u_rare"
    rare_actor_email = "Rare.Person@Example.com"
    common_actor_email = "u1@example.com"  # 1 row in 300 (hundreds of matches)
    common_target = "u_hot"  # ~10 %
    rare_target = "u_rare_target"
    rare_target_email = "rare.target@example.com"
    common_resource_id = "ws_main"  # ~30 %
    rare_resource_id = "ws_rare"
    rare_resource_type = "report"
    common_account = "acc_main"  # 75 %
    rare_account = "acc_rare"
    rare_ip = "203.0.113.9"
    common_word = "login"
    rare_word = "quarantine"


V = Values()


def _event(tenant: str, i: int, *, rare: bool) -> Event:
    at = START + i * (SPAN // SIZE)
    common: dict[str, Any] = {"occurred_at": at, "received_at": at}
    if rare:
        return make_event(
            tenant,
            f"e{i}",
            action=V.rare_action,
            category="organization",
            kind="access",
            outcome="failure",
            actor=Actor("user", V.rare_actor, "owner", "Rare Person", V.rare_actor_email),
            target=Target("user", V.rare_target, "Rare Target", V.rare_target_email),
            resource=Resource(V.rare_resource_type, V.rare_resource_id, "Rare report"),
            account_id=V.rare_account,
            ip=V.rare_ip,
            description="Quarantine lifted after the export",
            **common,
        )
    bucket = i % 100
    if i % 2 == 0:
        actor = Actor("service", V.common_actor, None, "Sync", None)
    else:
        n = i % 300
        actor = Actor("user", f"u{n}", "member", f"User {n}", f"u{n}@example.com")
    fields: dict[str, Any] = {
        "actor": actor,
        "outcome": "failure" if i % 50 == 7 else "success",
        "account_id": V.common_account if i % 4 != 3 else f"acc_{i % 20}",
        "ip": f"10.0.{i % 250}.{i % 200}" if i % 10 else f"192.168.1.{i % 250}",
    }
    if bucket < 60:
        fields.update(
            action=V.common_action,
            category="auth",
            kind="access",
            description="Login from a desktop browser",
        )
    elif bucket < 90:
        target_id = V.common_target if i % 3 == 0 else f"u{i % 500}"
        fields.update(
            action="member.invited" if bucket < 80 else "member.role_changed",
            category="members",
            kind="create" if bucket < 80 else "update",
            target=Target("user", target_id, f"Member {target_id}", f"{target_id}@example.com"),
            resource=Resource("workspace", V.common_resource_id if i % 4 else f"ws_{i % 40}"),
            description=f"Member {target_id} changed",
        )
    else:
        fields.update(
            action="app.published" if bucket < 99 else "workspace.deleted",
            category="apps" if bucket < 99 else "organization",
            kind="update" if bucket < 99 else "delete",
            resource=Resource("app", f"app_{i % 7}", "Support bot")
            if bucket < 99
            else Resource("workspace", V.common_resource_id),
            description="Published a new version",
        )
    return make_event(tenant, f"e{i}", **fields, **common)


def load_history(store: EventStore) -> None:
    """acme: SIZE events, the rare values on three of them. globex: OTHER_SIZE events
    of acme's common shape, so a tenant's rows are never the whole table."""
    for tenant, size in ((TENANT, SIZE), (OTHER, OTHER_SIZE)):
        add_tenant(store, tenant)
        for start in range(0, size, 2000):
            batch = range(start, min(size, start + 2000))
            append(
                store,
                tenant,
                *(_event(tenant, i, rare=tenant == TENANT and i in RARE) for i in batch),
            )


def acme_events() -> list[Event]:
    return [_event(TENANT, i, rare=i in RARE) for i in range(SIZE)]


# -- capturing what a store sends ------------------------------------------------
@dataclass
class Captured:
    """Statements a store sent, in order: (SQL, parameters or None when bound in the text)."""

    statements: list[tuple[str, Sequence[Any] | None]] = field(default_factory=list)
    # Statements psycopg may prepare, and so run on a generic plan no EXPLAIN here shows.
    preparable: set[str] = field(default_factory=set)

    def clear(self) -> None:
        self.statements.clear()
        self.preparable.clear()

    def reads(self) -> list[tuple[str, Sequence[Any] | None]]:
        """The SELECTs (a WITH too) that read the events table (or, on PostgreSQL, event_ids)."""
        return [
            (sql, params)
            for sql, params in self.statements
            if re.match(r"\s*(SELECT|WITH)\b", sql, re.I)
            and re.search(r"\b(FROM|JOIN) (events|event_ids)\b", sql)
        ]


@contextlib.contextmanager
def capture_sqlite() -> Iterator[Captured]:
    """Trace every connection opened meanwhile (the SQL comes with its values bound)."""
    captured = Captured()
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = original(*args, **kwargs)
        connection.set_trace_callback(lambda sql: captured.statements.append((sql, None)))
        return connection

    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        yield captured
    finally:
        sqlite3.connect = original


@contextlib.contextmanager
def capture_postgres() -> Iterator[Captured]:
    """Record each statement psycopg sends, with its parameters."""
    import psycopg

    captured = Captured()
    originals = {cls: cls.execute for cls in (psycopg.Cursor, psycopg.ServerCursor)}

    def wrap(original: Any) -> Any:
        def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            captured.statements.append((str(query), params))
            never = kwargs.get("prepare") is False or self.connection.prepare_threshold is None
            if not never and not isinstance(self, psycopg.ServerCursor):
                captured.preparable.add(str(query))
            return original(self, query, params, **kwargs)

        return execute

    for cls, original in originals.items():
        cls.execute = wrap(original)  # type: ignore[method-assign]
    try:
        yield captured
    finally:
        for cls, original in originals.items():
            cls.execute = original  # type: ignore[method-assign]


# -- plans -------------------------------------------------------------------------
@dataclass
class Plan:
    """What one statement's plan does to the events table."""

    engine: str
    sql: str
    text: str  # the plan as the engine printed it, for failure messages
    indexes: list[str] = field(default_factory=list)  # read events, in plan order
    whole: list[str] = field(default_factory=list)  # a table or index read whole
    untenanted: list[str] = field(default_factory=list)  # an index read without tenant_id
    sorts: list[float] = field(default_factory=list)  # rows each sort takes (inf: unknown)
    conds: list[str] = field(default_factory=list)  # what each index read is bounded by
    tables: list[str] = field(default_factory=list)  # PostgreSQL: the partitions read
    reads_nothing: bool = False  # PostgreSQL: every partition it reads is empty

    def __str__(self) -> str:
        return f"{self.sql}\n{self.text}"


_SQLITE_ACCESS = re.compile(
    r"^(?P<op>SCAN|SEARCH) events(?: USING (?:(?:COVERING )?INDEX (?P<index>\w+)"
    r"|(?P<pk>INTEGER PRIMARY KEY))(?: \((?P<cond>.*)\))?)?$"
)


class SQLiteExplainer:
    """EXPLAIN QUERY PLAN on a connection of the test's own (the SQL has its values bound)."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path)

    def __call__(self, sql: str, params: Sequence[Any] | None) -> Plan:
        return explain_sqlite(self.connection, sql)

    def schema_indexes(self) -> set[str]:
        """Every index that reads events: the schema's own and the full-text table."""
        rows = self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
        ).fetchall()
        return {name for (name,) in rows} | {"events_fts"}


def explain_sqlite(connection: sqlite3.Connection, sql: str) -> Plan:
    rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    plan = Plan("sqlite", sql, "\n".join(f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in rows))
    for row in rows:
        detail: str = row[3]
        if detail.startswith(("USE TEMP B-TREE FOR ORDER BY", "USE TEMP B-TREE FOR RIGHT PART")):
            plan.sorts.append(float("inf"))
        if detail.startswith("SCAN events_fts"):
            plan.indexes.append("events_fts")
            plan.conds.append(detail)
        found = _SQLITE_ACCESS.match(detail)
        if found is None:
            continue
        name = found["index"] or ("rowid" if found["pk"] else "events")
        if found["op"] == "SCAN":
            plan.whole.append(name)
            continue
        plan.indexes.append(name)
        plan.conds.append(found["cond"] or "")
        if found["index"] and "tenant_id=" not in (found["cond"] or ""):
            plan.untenanted.append(name)
    return plan


class PostgresExplainer:
    """EXPLAIN (FORMAT JSON) on a connection of the test's own, with the values the store sent."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        # Each partition's index → the events index it was cloned from.
        self.parents: dict[str, str] = dict(
            connection.execute(
                "WITH RECURSIVE up(child, parent) AS ("
                " SELECT inhrelid, inhparent FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'i'"
                " UNION SELECT up.child, i.inhparent"
                " FROM up JOIN pg_inherits i ON i.inhrelid = up.parent)"
                " SELECT c.relname, p.relname FROM up"
                " JOIN pg_class c ON c.oid = up.child JOIN pg_class p ON p.oid = up.parent"
                " WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = up.parent)"
            ).fetchall()
        )
        # A sequential scan of an empty partition (a month ahead) reads nothing.
        self.populated = {
            str(name)
            for (name,) in connection.execute(
                "SELECT DISTINCT tableoid::regclass::text FROM events"
            ).fetchall()
        }

    def schema_indexes(self) -> set[str]:
        """Every index of events and event_ids (as declared on the partitioned table)."""
        rows = self.connection.execute(
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename IN ('events', 'event_ids')"
        ).fetchall()
        return {name for (name,) in rows}

    def __call__(self, sql: str, params: Sequence[Any] | None) -> Plan:
        row = self.connection.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
        document = json.loads(row[0]) if isinstance(row[0], str) else row[0]
        root = document[0]["Plan"]
        plan = Plan("postgres", sql, json.dumps(_summary(root), indent=1))
        self._walk(root, plan)
        plan.reads_nothing = bool(plan.tables) and not set(plan.tables) & self.populated
        return plan

    def _walk(self, node: dict[str, Any], plan: Plan) -> None:
        kind = node["Node Type"]
        if kind in ("Sort", "Incremental Sort"):
            plan.sorts.append(float(node["Plans"][0]["Plan Rows"]))
        if kind == "Seq Scan" and node.get("Relation Name") in self.populated:
            plan.whole.append(node["Relation Name"])
        relation = node.get("Relation Name")
        if relation is not None and relation.startswith("events"):
            plan.tables.append(relation)
        index = node.get("Index Name")
        if index is not None:
            name = self.parents.get(index, index)
            if _POINT_LOOKUP.search(node.get("Index Cond", "")):
                name = "rowid"  # one row by its key (a page's rows read last), as SQLite's
            plan.indexes.append(name)
            cond = node.get("Index Cond", "")
            plan.conds.append(cond)
            if name != "events_search" and "tenant_id" not in cond:
                plan.untenanted.append(name)
        for child in node.get("Plans", []):
            self._walk(child, plan)


# A row found by its whole key, joined from a page's sorted keys (``Plan.rows_last``).
_POINT_LOOKUP = re.compile(r"\(occurred_at = matches\.occurred_at\) AND \(seq = matches\.seq\)")


def _summary(node: dict[str, Any]) -> Any:
    """The plan tree, trimmed to what a reader needs to see why a test failed."""
    keys = ("Node Type", "Relation Name", "Index Name", "Index Cond", "Filter", "Plan Rows")
    out: dict[str, Any] = {k: node[k] for k in keys if k in node}
    if "Plans" in node:
        out["Plans"] = [_summary(child) for child in node["Plans"]]
    return out
