"""Every filter a caller can send is read through the index that serves it (issue 14).

A skewed history (plans.py: values matching 60 % of the tenant next to values
matching three rows, and a second tenant) is loaded once per engine. Each case
is a query as the API, the seed endpoint, a search phrase or the viewer builds
it; the test runs it through ``EventStore.search``/``count`` and explains every
statement the store sent:

* the page is read through the named index;
* no statement reads the table (or an index) whole, and every index read is
  bounded by the tenant;
* where an index reads the matches in page order ("keyed"), nothing sorts more
  than a page; elsewhere a sort takes at most SORT_BOUND rows;
* a deep cursor page starts its index read at the cursor;
* a count that needs only a few rows reads them through the page's indexes.

The expected index is the same on both engines except where PostgreSQL has an
index SQLite lacks (``events_by_action_group``, the ``events_search`` tsvector).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

import pytest

from sealtrail.auth import Principal
from sealtrail.events import Actor
from sealtrail.query import (
    Cursor,
    EventQuery,
    Page,
    parse_phrase,
    query_from_params,
    seed_query_from_params,
)
from sealtrail.store import open_store
from sealtrail.store.base import COUNT_CAP, EventStore, SearchResult
from sealtrail.web.filters import Filters

from ..conftest import fresh_postgres_database
from .plans import (
    MONTHS,
    SIZE,
    TENANT,
    Captured,
    Plan,
    PostgresExplainer,
    SQLiteExplainer,
    V,
    capture_postgres,
    capture_sqlite,
    load_history,
)

pytestmark = pytest.mark.xdist_group("query_plans")

LIMIT = 50
# PostgreSQL may sort a rare value's few rows (a bitmap read) rather than walk in order.
FEW = 4 * LIMIT
# Where no index reads the matches in page order, a page may sort this many.
SORT_BOUND = 4000
# A count of at least this share of the tenant may read it in any order, whole.
BROAD = SIZE // 5


class Explainer(Protocol):
    def __call__(self, sql: str, params: Any) -> Plan: ...

    def schema_indexes(self) -> set[str]: ...


T = TypeVar("T")


@dataclass(frozen=True)
class Expect:
    """The index (or, for a combination, indexes) that reads the page."""

    indexes: frozenset[str]
    keyed: bool


def expect(spec: str, keyed: bool) -> Expect:
    return Expect(frozenset(spec.split("+")), keyed)


@dataclass(frozen=True)
class Case:
    name: str
    query: EventQuery
    sqlite: Expect
    postgres: Expect
    seed: bool = False  # the seed endpoint: a page without total, then an exact count
    sqlite_gap: str | None = None  # why SQLite's plan still misses (a strict xfail)

    def on(self, engine: str, request: pytest.FixtureRequest) -> Expect:
        if engine == "sqlite" and self.sqlite_gap:
            request.applymarker(pytest.mark.xfail(reason=self.sqlite_gap, strict=True))
        return self.sqlite if engine == "sqlite" else self.postgres


def case(
    name: str,
    query: EventQuery,
    index: str,
    *,
    keyed: bool = True,
    pg: str | None = None,
    pg_keyed: bool | None = None,
    seed: bool = False,
    sqlite_gap: str | None = None,
) -> Case:
    pg_keyed = keyed if pg_keyed is None else pg_keyed
    sqlite, postgres = expect(index, keyed), expect(pg or index, pg_keyed)
    return Case(name, query, sqlite, postgres, seed, sqlite_gap)


def api(**params: str) -> EventQuery:
    return query_from_params({k: [v] for k, v in params.items()})[0]


def seed_endpoint(**params: str) -> EventQuery:
    return seed_query_from_params({k: [v] for k, v in params.items()})[0]


def viewer(accounts: frozenset[str] | None = None, **fields: str) -> EventQuery:
    """What the viewer page asks for: its form fields, 30 days back from the data's end."""
    params = {"since": "", **fields} if "since" in fields else fields
    query = Filters.from_params(params, today=date(2026, 4, 1)).query()
    principal = Principal(TENANT, "viewer", Actor("user", "u_viewer"), accounts=accounts)
    return principal.scoped(query)


TIME, TEXT = "events_by_time", "events_fts"
# SQLite has no statistics (no sqlite_stat1): it takes "tenant_id = ?" on any index
# for a few rows, so an id-or-email OR never becomes a MULTI-INDEX OR and the page
# walks the tenant (or the 30 days) instead. ANALYZE fixes the plan; not done yet.
NO_OR_UNION = "SQLite without statistics walks the tenant for an id-or-email OR"
CASES = [
    # -- no filter, time only: the newest page every viewer load runs ------------------
    case("newest", EventQuery(), TIME),
    case("oldest", api(order="asc"), TIME),
    case("since_until", api(since="2026-02-01", until="2026-02-14"), TIME),
    # -- SPEC §6 parameters, one common and one rare value each -----------------------
    case("action_common", api(action=V.common_action), "events_by_action"),
    case("action_rare", api(action=V.rare_action), "events_by_action"),
    case(
        "action_prefix",
        api(action="member.*"),
        "events_by_action",
        keyed=False,
        pg="events_by_action_group",
        pg_keyed=True,
    ),
    case("category_common", api(category="auth"), "events_by_category"),
    case("category_rare", api(category="organization"), "events_by_category"),
    case("kind_rare", api(kind="delete"), "events_by_kind"),
    case("actor_id_common", api(actor_id=V.common_actor), "events_by_actor_id"),
    case("actor_id_rare", api(actor_id=V.rare_actor), "events_by_actor_id"),
    case("actor_email_rare", api(actor_email=V.rare_actor_email), "events_by_actor_email"),
    case("actor_email_common", api(actor_email=V.common_actor_email), "events_by_actor_email"),
    case("target_id_common", api(target_id=V.common_target), "events_by_target_id"),
    case("target_id_rare", api(target_id=V.rare_target), "events_by_target_id"),
    case(
        "resource_type_rare",
        api(resource_type=V.rare_resource_type),
        "events_by_resource",
        keyed=False,
    ),
    case(
        "resource_type_common",
        api(resource_type="workspace"),
        "events_by_resource",
        keyed=False,
        pg=TIME,
    ),
    case("resource_id_common", api(resource_id=V.common_resource_id), "events_by_resource_id"),
    case("resource_id_rare", api(resource_id=V.rare_resource_id), "events_by_resource_id"),
    case("account_common", api(account_id=V.common_account), "events_by_account"),
    case("account_rare", api(account_id=V.rare_account), "events_by_account"),
    case("outcome_failure", api(outcome="failure"), "events_by_outcome"),
    case("ip_address", api(ip=V.rare_ip), "events_by_ip", keyed=False),
    case("ip_network_common", api(ip="10.0.0.0/8"), TIME, keyed=False),
    case("q_rare", api(q=V.rare_word), TEXT, keyed=False, pg="events_search"),
    case("q_common", api(q=V.common_word), f"{TIME}+{TEXT}", keyed=False, pg=TIME),
    case(
        "target_id_rare_range",
        api(target_id=V.rare_target, since="2026-02-01"),
        "events_by_target_id",
    ),
    # -- the seed endpoint ----------------------------------------------------------------
    case(
        "seed_target_rare",
        seed_endpoint(targetUserId=V.rare_target),
        "events_by_target_id",
        seed=True,
    ),
    case(
        "seed_target_common",
        seed_endpoint(targetUserId=V.common_target),
        "events_by_target_id",
        seed=True,
    ),
    case("seed_since", seed_endpoint(since="2026-03-01"), TIME, seed=True),
    case(
        "seed_members_of_target",
        seed_endpoint(action="member.*", targetUserId=V.common_target),
        "events_by_action",
        keyed=False,
        pg="events_by_target_id+events_by_action_group",
        seed=True,
    ),
    # -- search-phrase keys ----------------------------------------------------------------
    case(
        "phrase_actor_id",
        parse_phrase(f"actor:{V.rare_actor}"),
        "events_by_actor_id",
    ),
    case(
        "phrase_actor_id_common",
        parse_phrase(f"actor:{V.common_actor}"),
        "events_by_actor_id",
    ),
    case(
        "phrase_actor_email",
        parse_phrase(f"actor:{V.rare_actor_email}"),
        "events_by_actor_id+events_by_actor_email",
        keyed=False,
        sqlite_gap=NO_OR_UNION,
    ),
    case(
        "phrase_target_email",
        parse_phrase(f"target:{V.rare_target_email}"),
        "events_by_target_id+events_by_target_email",
        keyed=False,
        sqlite_gap=NO_OR_UNION,
    ),
    case(
        "phrase_resource",
        parse_phrase(f"resource:workspace/{V.rare_resource_id}"),
        "events_by_resource",
        pg="events_by_resource+events_by_resource_id",
    ),
    case(
        "phrase_resource_common",
        parse_phrase(f"resource:workspace/{V.common_resource_id}"),
        "events_by_resource",
        pg="events_by_resource+events_by_resource_id",
    ),
    case("phrase_account", parse_phrase(f"account:{V.rare_account}"), "events_by_account"),
    case("phrase_created", parse_phrase("created:2026-02-01..2026-02-10"), TIME),
    case("phrase_negated", parse_phrase(f"-action:{V.common_action}"), TIME, keyed=False),
    case(
        "phrase_two_actions",
        parse_phrase(f"action:{V.rare_action} action:workspace.deleted"),
        "events_by_action",
        keyed=False,
    ),
    case("phrase_quoted", parse_phrase('"lifted after"'), TEXT, keyed=False, pg="events_search"),
    case(
        "phrase_two_keys_common",
        parse_phrase(f"action:{V.common_action} actor:{V.common_actor}"),
        "events_by_actor_id",
        keyed=False,
        pg_keyed=True,
    ),
    case(
        "phrase_rare_and_common",
        parse_phrase(f"action:{V.rare_action} account:{V.rare_account}"),
        "events_by_account",
        keyed=False,
    ),
    case(
        "phrase_word_and_key",
        parse_phrase(f"{V.rare_word} outcome:failure"),
        TEXT,
        keyed=False,
        pg="events_by_outcome+events_search",
    ),
    # -- what the viewer sends (30 days back unless the link says otherwise) ----------
    case("viewer_default", viewer(), TIME),
    case("viewer_action", viewer(action=V.common_action), "events_by_action"),
    case(
        "viewer_actor_email",
        viewer(actor=V.rare_actor_email),
        "events_by_actor_id+events_by_actor_email",
        keyed=False,
        sqlite_gap=NO_OR_UNION,
    ),
    case(
        "viewer_kind_resource",
        viewer(kind="update", resource_type="app"),
        "events_by_kind",
        keyed=False,
        pg="events_by_resource",
    ),
    case("viewer_text", viewer(q=V.rare_word), TEXT, keyed=False, pg="events_search"),
    case(
        "viewer_accounts",
        viewer(frozenset({V.common_account, "acc_3"})),
        "events_by_account",
        keyed=False,
        pg=TIME,
    ),
    case(
        "viewer_all_time_target",
        viewer(since="", phrase=f"target:{V.rare_target}"),
        "events_by_target_id",
    ),
]


# -- the history on each engine -----------------------------------------------------------
@dataclass
class Engine:
    name: str
    store: EventStore
    captured: Captured  # everything the store sends while the module runs
    explain: Explainer

    def run(self, action: Callable[[EventStore], T]) -> tuple[T, list[Plan]]:
        """Do ``action`` on the store and explain every read of events it sent."""
        self.captured.clear()
        result = action(self.store)
        reads = self.captured.reads()
        assert reads, "the store sent no SELECT on events"
        return result, [self.explain(sql, params) for sql, params in reads]

    def run_search(self, action: Callable[[EventStore], T]) -> tuple[T, list[Plan]]:
        """``run`` for searches and counts, which must be planned with their values:
        a prepared statement would soon run one generic plan for every value."""
        result, plans = self.run(action)
        prepared = [p.sql for p in plans if p.sql in self.captured.preparable]
        assert not prepared, f"may run on a generic plan: {prepared}"
        return result, plans

    def matches(self, query: EventQuery) -> int:
        total = self.store.count(TENANT, query, cap=None)
        assert total is not None
        return total


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("plans") / "plans.db"
        loader = open_store(f"sqlite:///{path}")
        loader.migrate()
        load_history(loader)
        loader.close()
        with capture_sqlite() as captured:
            store = open_store(f"sqlite:///{path}")
            try:
                yield Engine("sqlite", store, captured, SQLiteExplainer(str(path)))
            finally:
                store.close()
        return
    import psycopg

    from sealtrail.store.postgres_admin import libpq_url

    server = request.getfixturevalue("postgres_server")
    with fresh_postgres_database(server) as url:
        store = open_store(url)
        store.migrate()
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            for month in MONTHS:  # the data's months get partitions, as in production
                connection.execute("SELECT sealtrail_add_partition(%s)", (month,))
            load_history(store)
            # What autovacuum does to an append-only table: statistics, the visibility
            # map (index-only counts) and the full-text index's pending list merged.
            connection.execute("VACUUM ANALYZE")
            try:
                with capture_postgres() as captured:
                    yield Engine("postgres", store, captured, PostgresExplainer(connection))
            finally:
                store.close()


# -- what every plan must do ---------------------------------------------------------------
def check_page(plan: Plan, want: Expect, found: int) -> None:
    assert not plan.whole, f"reads {plan.whole} whole:\n{plan}"
    assert not plan.untenanted, f"reads {plan.untenanted} across tenants:\n{plan}"
    used = set(plan.indexes) - {"rowid"}
    assert used and used <= want.indexes, (
        f"page read through {sorted(used)}, not {sorted(want.indexes)}:\n{plan}"
    )
    bound = FEW if want.keyed else SORT_BOUND
    sorted_rows = [found if rows == float("inf") else rows for rows in plan.sorts]
    if want.keyed and plan.engine == "sqlite":
        assert not plan.sorts, f"sorts, though {sorted(want.indexes)} reads in page order:\n{plan}"
    assert all(rows <= bound for rows in sorted_rows), f"sorts {sorted_rows} rows:\n{plan}"


def check_count(plan: Plan, want: Expect, found: int) -> None:
    assert not plan.untenanted, f"counts across tenants through {plan.untenanted}:\n{plan}"
    if min(found, COUNT_CAP) >= BROAD:
        return  # a count of much of the tenant reads much of it, in any order
    assert not plan.whole, f"reads {plan.whole} whole to count {found} rows:\n{plan}"
    used = set(plan.indexes) - {"rowid"}
    allowed = want.indexes | {TEXT, "events_search"}
    assert used and used <= allowed, (
        f"counts through {sorted(used)}, not {sorted(allowed)}:\n{plan}"
    )


def split(plans: list[Plan]) -> tuple[list[Plan], list[Plan]]:
    pages = [p for p in plans if "ORDER BY" in p.sql]
    counts = [p for p in plans if "count(" in p.sql]
    assert len(pages) == 1 and len(pages) + len(counts) == len(plans), [p.sql for p in plans]
    return pages, counts


def first_page(query: EventQuery, with_total: bool) -> Callable[[EventStore], SearchResult]:
    def search(store: EventStore) -> SearchResult:
        return store.search(TENANT, query, Page(LIMIT), with_total=with_total)

    return search


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_first_page(engine: Engine, case: Case, request: pytest.FixtureRequest) -> None:
    """Page 1 without the total, then with the capped total (what /v1/events adds)."""
    want = case.on(engine.name, request)
    found = engine.matches(case.query)
    for with_total in (False, True):
        result, plans = engine.run_search(first_page(case.query, with_total))
        pages, counts = split(plans)
        check_page(pages[0], want, found)
        for plan in counts:
            check_count(plan, want, found)
        assert result.total == (found if with_total and found <= COUNT_CAP else None)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.seed], ids=[c.name for c in CASES if c.seed]
)
def test_seed_exact_total(engine: Engine, case: Case, request: pytest.FixtureRequest) -> None:
    """The seed endpoint counts without a cap: through the filter's index, never the table."""
    want = case.on(engine.name, request)
    found = engine.matches(case.query)
    total, plans = engine.run_search(lambda s: s.count(TENANT, case.query, cap=None))
    assert total == found
    for plan in plans:
        check_count(plan, want, found)


DEEP = (
    "newest",
    "oldest",
    "action_common",
    "target_id_common",
    "resource_id_common",
    "phrase_two_keys_common",
    "ip_network_common",
    "viewer_default",
)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name in DEEP], ids=[c.name for c in CASES if c.name in DEEP]
)
def test_deep_cursor_page(engine: Engine, case: Case, request: pytest.FixtureRequest) -> None:
    """A page far down the matches starts its index read at the cursor: as fast as page 1."""
    want = case.on(engine.name, request)
    found = engine.matches(case.query)
    middle = engine.store.search(TENANT, case.query, Page(1, offset=found // 2), with_total=False)
    row = middle.events[0]
    cursor = Cursor(row.occurred_at, row.seq, case.query.order)
    _, plans = engine.run_search(lambda s: s.search(TENANT, case.query, Page(LIMIT, cursor=cursor)))
    pages, _counts = split(plans)
    check_page(pages[0], want, found)
    reads = [
        cond for name, cond in zip(pages[0].indexes, pages[0].conds, strict=True) if name != TEXT
    ]
    assert reads and all("occurred_at" in cond for cond in reads), pages[0]


# -- reads by id and seq (proofs, exports, verification) ----------------------------------
def point_reads(store: EventStore) -> dict[str, Callable[[], object]]:
    return {
        "get_event": lambda: store.get_event(TENANT, "e5"),
        "get_events_by_seq": lambda: store.get_events_by_seq(TENANT, [5, 6, 7]),
        "leaf_hashes": lambda: store.leaf_hashes(TENANT, 100, 120),
        "scan": lambda: next(iter(store.scan(TENANT, SIZE - 10))),
    }


POINT_READS = {
    "sqlite": {
        "get_event": {"events_id"},
        "get_events_by_seq": {"events_seq"},
        "leaf_hashes": {"events_seq"},
        "scan": {"events_seq"},
    },
    "postgres": {
        # event_ids finds (occurred_at, seq); events_by_time then finds the row.
        "get_event": {"event_ids_pkey", "events_by_time"},
        "get_events_by_seq": {"event_ids_tenant_id_seq_key", "events_by_time"},
        "leaf_hashes": {"event_ids_tenant_id_seq_key"},
        "scan": {"events_pkey"},
    },
}


@pytest.mark.parametrize("read", sorted(POINT_READS["sqlite"]))
def test_point_read(engine: Engine, read: str) -> None:
    _, plans = engine.run(lambda s: point_reads(s)[read]())
    for plan in plans:
        assert not plan.whole and not plan.untenanted, plan
        assert set(plan.indexes) - {"rowid"} == POINT_READS[engine.name][read], plan


# Indexes no query reads through, and why they stay.
UNREAD = {
    # Only target:<email> reads it, and SQLite without statistics never does (NO_OR_UNION).
    "sqlite": {"events_by_target_email"},
    "postgres": set(),
}


def test_every_index_is_named_by_a_plan_test(engine: Engine) -> None:
    """Each index earns its place through a query that reads through it (issue 14)."""
    named = set().union(*POINT_READS[engine.name].values())
    for c in CASES:
        if not (engine.name == "sqlite" and c.sqlite_gap):
            named |= c.sqlite.indexes if engine.name == "sqlite" else c.postgres.indexes
    schema = engine.explain.schema_indexes()
    assert named - {"rowid"} <= schema, "a plan test names an index the schema lacks"
    assert schema - named == UNREAD[engine.name]
