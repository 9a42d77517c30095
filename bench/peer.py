"""``python -m bench --only peer``: django-auditlog beside Sealtrail on the same PostgreSQL.

The peer runs as its users run it: Django with ``auditlog`` installed, its
``LogEntry`` table and indexes made by its own migrations, read through the
ORM with the admin's ordering (``-timestamp, -pk``), ``list_select_related``
and, for free text, ``LogEntryAdmin.get_search_results`` itself.

Both sides hold the same facts. ``bench.postgres_bench.load_corpus`` builds
Sealtrail's 1 M-event corpus in one scratch database (COPY, then ``VACUUM
ANALYZE``); each of those events is then mapped onto one ``LogEntry`` row in
a second scratch database on the same server, streamed in time order (as an
application writes it) through COPY, then ``VACUUM ANALYZE`` too:

* ``actor`` → an ``auth_user`` row per person (``username`` = the actor id,
  first and last name, email; one per tenant, as user pks are unique in one
  database), ``actor_email`` too; the ``system`` actor → NULL, as a change made
  outside a request is.
* the object → the event's resource (a ``ContentType`` per resource type,
  ``object_pk`` = the resource id, ``object_repr`` = its name), else its target
  user, else its actor's user (``object_pk``/``object_id`` = the user's pk),
  else the tenant. Resource ids of the tenants other than ``acme`` are prefixed
  with the tenant: one database holds one object per pk.
* ``kind`` → ``action``: create 0, update 1, delete 2, access and other 3.
* ``context``'s ``previous``/``new`` → ``changes`` as ``{field: [old, new]}``
  (NULL when an event has none, as an access entry's is); ``request_id`` →
  ``cid`` (the correlation id); ``ip`` → ``remote_addr``; ``occurred_at`` →
  ``timestamp``.
* everything else the event says → ``additional_data``: the action name,
  outcome, description, account, user agent, the target when the object is a
  resource, the rest of ``context``.

Then, over ``repeats`` values of each filter drawn from tenant ``acme``'s
events (90 % of the corpus; the peer's queries see all 1 M rows, as it has no
tenants), each Sealtrail query through ``PostgresStore.search`` (first page of
50, no total) or ``count(cap=None)`` and its peer equivalent are timed in
turns, in alternating order. CSV export: Sealtrail's ``AuditLog.export`` CSV
path from the store (``store.export_body``: the server writes the lines; the corpus is
COPYed, so its one recorded ``audit_log.exported`` append cannot run) against
the peer's queryset ``.iterator()`` into ``csv.writer``, over the same 30 days.
Storage: bytes per event of each database's relations (``bench.storage``) as loaded
(indexes grown row by row, as appends grow them), then again with both databases'
indexes rebuilt (``REINDEX``, which docs/operations.md has an operator run on a past
month). The rebuild comes last: it changes what the queries above would read.

Needs the ``bench`` dependency group (``uv sync --group bench``; the dev
group includes it) and a PostgreSQL superuser URL; skips with a note otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from bench import storage
from bench.report import Figure, Run
from sealtrail.events import format_timestamp
from sealtrail.query import EventQuery, Page, query_from_params
from sealtrail.store.postgres import PostgresStore

SECTION: Final = "peer"
INSTALL: Final = "uv sync --group bench (make .venv/.synced installs it with the dev group)"
TENANT: Final = "acme"
PAGE: Final = 50
DEEP_OFFSET: Final = 100_000
EXPORT_DAYS: Final = 30
DAY_US: Final = 86_400_000_000
STORAGE_TARGET: Final = 1.5
ACTIONS: Final = {"create": 0, "update": 1, "delete": 2, "access": 3, "other": 3}
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_PAGE: Final = Page(limit=PAGE)

# The admin's changelist: LogEntry.Meta.ordering made total by Django ("-pk"), with
# LogEntryAdmin.list_select_related.
_ORDER: Final = ("-timestamp", "-pk")
_RELATED: Final = ("content_type", "actor")


def missing() -> str | None:
    """Why the peer cannot run here, or None."""
    try:
        import auditlog  # noqa: F401
        import django  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed; {INSTALL}"
    return None


# -- the peer's Django, configured in code -------------------------------------------------


def configure_django(url: str) -> None:
    """Settings for one database, then ``django.setup()`` and the apps' own migrations."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    info = conninfo_to_dict(url)
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": info["dbname"],
                "USER": info.get("user", "postgres"),
                "HOST": info.get("host", "127.0.0.1"),
                "PORT": info.get("port", "5432"),
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.admin",  # LogEntryAdmin: its search is the admin's
            "auditlog",
        ],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SECRET_KEY="bench",  # a throwaway settings module
    )
    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


# -- loading the peer from Sealtrail's corpus ------------------------------------------------

_EVENTS: Final = (
    "SELECT tenant_id, action, kind, occurred_at, outcome, actor_type, actor_id, actor_name,"
    " actor_email, target_type, target_id, target_name, target_email, resource_type,"
    " resource_id, resource_name, account_id, description, context, ip, user_agent, request_id"
    " FROM events ORDER BY occurred_at, tenant_id, seq"
)
_PEOPLE: Final = (
    "SELECT DISTINCT tenant_id, actor_id, actor_name, actor_email FROM events"
    " WHERE actor_type = 'user'"
    " UNION SELECT DISTINCT tenant_id, target_id, target_name, target_email FROM events"
    " WHERE target_type = 'user'"
)
_LOGENTRY_COLUMNS: Final = (
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "action",
    "changes_text",
    "changes",
    "actor_id",
    "cid",
    "remote_addr",
    "timestamp",
    "additional_data",
    "actor_email",
)


@dataclass(frozen=True, slots=True)
class PeerKeys:
    """What the peer's rows point at: user pks and content type ids."""

    users: dict[tuple[str, str], int]
    names: dict[int, str]
    content_types: dict[str, int]
    user_type: int


def _micros_to_datetime(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _make_people(sealtrail: psycopg.Connection[Any], peer: psycopg.Connection[Any]) -> PeerKeys:
    users: dict[tuple[str, str], int] = {}
    names: dict[int, str] = {}
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    with (
        peer.cursor() as cursor,
        cursor.copy(
            "COPY auth_user (id, password, is_superuser, username, first_name, last_name, email,"
            " is_staff, is_active, date_joined) FROM STDIN"
        ) as copy,
    ):
        for tenant, person, name, email in sealtrail.execute(_PEOPLE):
            key = (str(tenant), str(person))
            if key in users:
                continue
            pk = len(users) + 1
            users[key] = pk
            first, _, last = (name or "").partition(" ")
            names[pk] = name or person
            username = person if tenant == TENANT else f"{tenant}:{person}"
            copy.write_row(
                (pk, "!", False, username, first, last, email or "", False, True, joined)
            )
    peer.execute("SELECT setval('auth_user_id_seq', %s)", (len(users) + 1,))
    types = [
        str(row[0])
        for row in sealtrail.execute(
            "SELECT DISTINCT resource_type FROM events WHERE resource_type IS NOT NULL"
        )
    ]
    content_types: dict[str, int] = {}
    for model in [*types, "tenant"]:
        row = peer.execute(
            "INSERT INTO django_content_type (app_label, model) VALUES ('product', %s)"
            " RETURNING id",
            (model,),
        ).fetchone()
        assert row is not None
        content_types[model] = int(row[0])
    user_row = peer.execute(
        "SELECT id FROM django_content_type WHERE app_label = 'auth' AND model = 'user'"
    ).fetchone()
    assert user_row is not None
    return PeerKeys(users, names, content_types, int(user_row[0]))


def log_entry(row: Sequence[Any], keys: PeerKeys) -> tuple[Any, ...]:
    """One Sealtrail event (``_EVENTS``' columns) as the LogEntry row its app would write."""
    (tenant, action, kind, occurred, outcome, actor_type, actor_id, _actor_name, actor_email,
     target_type, target_id, target_name, target_email, resource_type, resource_id,
     resource_name, account_id, description, context, ip, user_agent, request_id) = row  # fmt: skip
    actor = keys.users.get((tenant, actor_id)) if actor_type == "user" else None
    target = keys.users.get((tenant, target_id)) if target_type == "user" else None
    extra: dict[str, Any] = {"action": action, "outcome": outcome, "description": description}
    object_id: int | None = None
    if resource_type is not None:
        content_type = keys.content_types[resource_type]
        object_pk = resource_id if tenant == TENANT else f"{tenant}:{resource_id}"
        object_repr = resource_name or resource_id
        if target_type is not None:
            extra["target"] = {
                k: v
                for k, v in (
                    ("type", target_type),
                    ("id", target_id),
                    ("name", target_name),
                    ("email", target_email),
                )
                if v is not None
            }
    elif target is not None or actor is not None:
        object_id = target if target is not None else actor
        assert object_id is not None
        content_type, object_pk, object_repr = keys.user_type, str(object_id), keys.names[object_id]
    else:
        content_type, object_pk, object_repr = keys.content_types["tenant"], tenant, tenant
    changes: dict[str, list[Any]] | None = None
    if context:
        facts = json.loads(context)
        before, after = facts.pop("previous", None), facts.pop("new", None)
        if isinstance(before, dict) and isinstance(after, dict):
            changes = {f: [before.get(f), after.get(f)] for f in sorted({*before, *after})}
        if facts:
            extra["context"] = facts
    if account_id is not None:
        extra["account_id"] = account_id
    if user_agent is not None:
        extra["user_agent"] = user_agent
    return (
        content_type,
        object_pk,
        object_id,
        object_repr,
        ACTIONS[kind],
        "",
        None if changes is None else Jsonb(changes),
        actor,
        request_id,
        ip,
        _micros_to_datetime(occurred),
        Jsonb(extra),
        actor_email if actor is not None else None,
    )


def load_peer(sealtrail_url: str, peer_url: str) -> tuple[dict[str, float], PeerKeys]:
    """Every event of the Sealtrail corpus as a LogEntry, COPYed in time order."""
    began = time.perf_counter()
    with (
        psycopg.connect(sealtrail_url) as source,
        psycopg.connect(peer_url, autocommit=True) as peer,
    ):
        keys = _make_people(source, peer)
        rows = 0
        with (
            source.cursor(name="peer_rows") as events,
            peer.cursor() as cursor,
            cursor.copy(
                f"COPY auditlog_logentry ({', '.join(_LOGENTRY_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            events.itersize = 5000
            events.execute(_EVENTS)
            for row in events:
                copy.write_row(log_entry(row, keys))
                rows += 1
        loaded = time.perf_counter() - began
        peer.execute("VACUUM ANALYZE")
    return {"rows": rows, "load_s": loaded, "load_rows_per_s": rows / loaded}, keys


# -- the cases, side by side ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    """One like-for-like query: Sealtrail's and the peer's, for ``repeats`` values."""

    name: str
    like_for_like: bool
    sealtrail: list[Callable[[], object]]
    peer: list[Callable[[], object]]
    detail: str


def _sample(connection: psycopg.Connection[Any], column: str, repeats: int) -> list[Any]:
    rows = connection.execute(
        f"SELECT {column} FROM events TABLESAMPLE SYSTEM (1)"
        f" WHERE tenant_id = %s AND {column} IS NOT NULL LIMIT 2000",
        (TENANT,),
    ).fetchall()
    picked = [r[0] for r in rows]
    random.Random(f"peer:{column}").shuffle(picked)
    return (picked * repeats)[:repeats]


def pairs(sealtrail_url: str, store: PostgresStore, keys: PeerKeys, repeats: int) -> list[Pair]:
    """The cases of the issue, each value drawn from ``acme``'s events."""
    from auditlog.admin import LogEntryAdmin
    from auditlog.models import LogEntry
    from django.contrib import admin

    entries = LogEntry.objects.select_related(*_RELATED).order_by(*_ORDER)
    search_admin = LogEntryAdmin(LogEntry, admin.site)

    def page(query: EventQuery, at: Page = FIRST_PAGE) -> Callable[[], object]:
        return lambda: store.search(TENANT, query, at, with_total=False).events

    def count(query: EventQuery) -> Callable[[], object]:
        return lambda: store.count(TENANT, query, cap=None)

    def first(queryset: Any, offset: int = 0) -> Callable[[], object]:
        return lambda: list(queryset[offset : offset + PAGE])

    def params(**values: str) -> EventQuery:
        return query_from_params({k: [v] for k, v in values.items()})[0]

    with psycopg.connect(sealtrail_url) as connection:
        actors = [a for a in _sample(connection, "actor_id", repeats * 2) if a != "system"]
        actors = (actors * repeats)[:repeats]
        resources = connection.execute(
            "SELECT resource_type, resource_id FROM events TABLESAMPLE SYSTEM (1)"
            " WHERE tenant_id = %s AND resource_id IS NOT NULL LIMIT 2000",
            (TENANT,),
        ).fetchall()
        random.Random("peer:resources").shuffle(resources)
        resources = (resources * repeats)[:repeats]
        actions = [str(a) for a in _sample(connection, "action", repeats)]
        kinds = [("create", "update", "delete")[i % 3] for i in range(repeats)]
        times = [int(t) for t in _sample(connection, "occurred_at", repeats)]
        names = [str(n) for n in _sample(connection, "actor_name", repeats)]
        bounds = connection.execute(
            "SELECT min(occurred_at), max(occurred_at) FROM events WHERE tenant_id = %s",
            (TENANT,),
        ).fetchone()
    assert bounds is not None
    earliest, latest = int(bounds[0]), int(bounds[1])
    window = 30 * DAY_US
    starts = [earliest + (t - earliest) % max(latest - earliest - window, 1) for t in times]
    # Free text: a person's last name and a first + last name pair (both words must match).
    words = [n.split()[-1] for n in names]
    pairs_of_words = [n for n in names if " " in n]

    def search(term: str) -> Any:
        queryset, _ = search_admin.get_search_results(None, entries, term)
        return queryset

    def since_until(start: int) -> tuple[str, str]:
        return format_timestamp(start), format_timestamp(start + window)

    cases = [
        Pair(
            "newest page",
            True,
            [page(EventQuery())] * repeats,
            [first(entries)] * repeats,
            "no filter",
        ),
        Pair(
            "by actor",
            True,
            [page(params(actor_id=a)) for a in actors],
            [first(entries.filter(actor_id=keys.users[(TENANT, a)])) for a in actors],
            "actor_id ↔ actor (auth_user pk)",
        ),
        Pair(
            "by object",
            True,
            [page(params(resource_id=r)) for _, r in resources],
            [
                first(entries.filter(content_type_id=keys.content_types[t], object_pk=r))
                for t, r in resources
            ],
            "resource_id ↔ get_for_object (content_type, object_pk)",
        ),
        Pair(
            "by kind",
            True,
            [page(params(kind=k)) for k in kinds],
            [first(entries.filter(action=ACTIONS[k])) for k in kinds],
            "kind create/update/delete ↔ action 0/1/2",
        ),
        Pair(
            "date range, 30 days",
            True,
            [page(params(since=s, until=u)) for s, u in map(since_until, starts)],
            [
                first(
                    entries.filter(
                        timestamp__gte=_micros_to_datetime(s),
                        timestamp__lt=_micros_to_datetime(s + window),
                    )
                )
                for s in starts
            ],
            "30-day windows across the year",
        ),
        Pair(
            f"offset {DEEP_OFFSET // 1000} k",
            True,
            [page(EventQuery(), Page(limit=PAGE, offset=DEEP_OFFSET))] * repeats,
            [first(entries, DEEP_OFFSET)] * repeats,
            f"page of {PAGE} after {DEEP_OFFSET:,} rows, no filter",
        ),
        Pair(
            "count, one actor",
            True,
            [count(params(actor_id=a)) for a in actors],
            [
                (lambda q: lambda: q.count())(
                    LogEntry.objects.filter(actor_id=keys.users[(TENANT, a)])
                )
                for a in actors
            ],
            "exact count(*) of one actor's events",
        ),
        Pair(
            "count, 30 days",
            True,
            [count(params(since=s, until=u)) for s, u in map(since_until, starts)],
            [
                (lambda q: lambda: q.count())(
                    LogEntry.objects.filter(
                        timestamp__gte=_micros_to_datetime(s),
                        timestamp__lt=_micros_to_datetime(s + window),
                    )
                )
                for s in starts
            ],
            "exact count(*) of a 30-day window",
        ),
        Pair(
            "count, everything",
            True,
            [count(EventQuery())] * repeats,
            [LogEntry.objects.count] * repeats,
            "the admin changelist's count(*) of the unfiltered list",
        ),
        Pair(
            "by action",
            False,
            [page(params(action=a)) for a in actions],
            [first(entries.filter(additional_data__action=a)) for a in actions],
            "action name ↔ additional_data->'action' (the peer has 4 actions)",
        ),
        Pair(
            "free text, one word",
            False,
            [page(params(q=w)) for w in words],
            [first(search(w)) for w in words],
            "q ↔ the admin's search (icontains on timestamp, object_repr, changes, actor names)",
        ),
        Pair(
            "free text, two words",
            False,
            [page(params(q=p)) for p in pairs_of_words[:repeats]],
            [first(search(p)) for p in pairs_of_words[:repeats]],
            "a person's first and last name: every word must match",
        ),
    ]
    return cases


def _p(values: Sequence[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[
        round(fraction * 100) - 1
    ]


def time_pair(pair: Pair, *, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Each value's Sealtrail query and peer query in turn, the order swapped every value."""
    for work in [*pair.sealtrail[:warmup], *pair.peer[:warmup]]:
        work()
    ours: list[float] = []
    theirs: list[float] = []
    for index, (mine, peer) in enumerate(zip(pair.sealtrail, pair.peer, strict=True)):
        turns = [(mine, ours), (peer, theirs)]
        for work, into in turns if index % 2 == 0 else reversed(turns):
            began = time.perf_counter()
            work()
            into.append((time.perf_counter() - began) * 1000)
    return ours, theirs


# -- CSV export ---------------------------------------------------------------------------------


def sealtrail_csv(store: PostgresStore, since_us: int) -> int:
    """AuditLog.export's CSV path (``store.export_body``: the server writes each row's
    line), the count of rows."""
    query = query_from_params(
        {"since": [format_timestamp(since_us)], "until": [format_timestamp(since_us + 30 * DAY_US)]}
    )[0]
    # A row ends in CRLF; the generated events hold no CRLF of their own.
    return sum(chunk.count(b"\r\n") for chunk in store.export_body(TENANT, query, "csv"))


def peer_csv(since_us: int) -> int:
    """What a Django user writes: the queryset's ``.iterator()`` into ``csv.writer``."""
    from auditlog.models import LogEntry

    entries = (
        LogEntry.objects.select_related(*_RELATED)
        .filter(
            timestamp__gte=_micros_to_datetime(since_us),
            timestamp__lt=_micros_to_datetime(since_us + EXPORT_DAYS * DAY_US),
        )
        .order_by(*_ORDER)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["timestamp", "action", "actor", "resource type", "object pk", "object", "changes",
         "remote address", "correlation id", "additional data"]
    )  # fmt: skip
    counted = 0
    for entry in entries.iterator(chunk_size=2000):
        writer.writerow(
            [
                entry.timestamp.isoformat(),
                entry.get_action_display(),
                entry.actor.email if entry.actor else "",
                entry.content_type.model,
                entry.object_pk,
                entry.object_repr,
                json.dumps(entry.changes) if entry.changes is not None else "",
                entry.remote_addr or "",
                entry.cid or "",
                json.dumps(entry.additional_data),
            ]
        )
        counted += 1
        if counted % 1000 == 0:  # as a streamed response hands each chunk on
            buffer.seek(0)
            buffer.truncate()
    return counted


# -- storage ------------------------------------------------------------------------------------


PEER_TABLES: Final = frozenset({"auditlog_logentry", "auth_user"})


def footprint(url: str) -> tuple[list[storage.Part], int]:
    with psycopg.connect(url) as connection:
        parts = storage.postgres_footprint(connection)
    return parts, sum(p.pages_bytes for p in parts)


def sealtrail_only_bytes(url: str) -> dict[str, float]:
    """Average bytes per event of what only a verifiable log stores."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT avg(pg_column_size(salts)), avg(coalesce(pg_column_size(commitments), 0)),"
            " avg(pg_column_size(leaf_hash)), avg(pg_column_size(search)),"
            " avg(coalesce(pg_column_size(ip_key), 0)) FROM events"
        ).fetchone()
    assert row is not None
    salts, commitments, leaf_hash, search, ip_key = (float(v or 0) for v in row)
    return {
        "salts": salts,
        "commitments": commitments,
        "leaf_hash": leaf_hash,
        "search": search,
        "ip_key": ip_key,
    }


# -- the section ----------------------------------------------------------------------------------


def run(run: Run, *, admin_url: str, rows: int, repeats: int, keep: bool = False) -> None:
    """The section: both corpora loaded, the pairs timed, export, storage; ``keep`` leaves
    both scratch databases for EXPLAIN (their names are printed)."""
    from bench import external, postgres_bench

    reason = missing() or external.postgres_reason(admin_url)
    if reason is not None:
        run.note(SECTION, f"skipped: {reason}")
        print(f"peer: SKIPPED — {reason}", flush=True)
        return
    with (
        postgres_bench.scratch_database(admin_url, keep=keep) as ours,
        postgres_bench.scratch_database(admin_url, keep=keep) as theirs,
    ):
        if keep:
            print(f"  kept: Sealtrail {ours}, django-auditlog {theirs}", flush=True)
        print(f"  loading Sealtrail's corpus of {rows:,} events", flush=True)
        loaded = postgres_bench.load_corpus(ours, rows)
        print(f"  {loaded['load_s']:.0f} s; django-auditlog's migrations", flush=True)
        configure_django(theirs)
        peer_loaded, keys = load_peer(ours, theirs)
        print(f"  peer loaded in {peer_loaded['load_s']:.0f} s", flush=True)
        store = PostgresStore(ours)
        try:
            _measure(run, ours, theirs, store, keys, repeats, loaded, peer_loaded)
        finally:
            store.close()
            from django.db import connections

            connections.close_all()


def _measure(
    run: Run,
    ours: str,
    theirs: str,
    store: PostgresStore,
    keys: PeerKeys,
    repeats: int,
    loaded: dict[str, float],
    peer_loaded: dict[str, float],
) -> None:
    loads: list[float] = []
    for pair in pairs(ours, store, keys, repeats):
        mine, peer = time_pair(pair)
        loads.append(os.getloadavg()[0])
        ours95, theirs95 = _p(mine, 0.95), _p(peer, 0.95)
        passed = ours95 <= theirs95 if pair.like_for_like else ours95 < theirs95
        run.add(
            [
                Figure(
                    SECTION,
                    f"{pair.name}, p95",
                    ours95,
                    "ms",
                    baseline=theirs95,
                    baseline_name="django-auditlog",
                    detail=(
                        f"p50 {statistics.median(mine):.2f} vs {statistics.median(peer):.2f} ms,"
                        f" {len(mine)} values; {pair.detail}; load {loads[-1]:.2f}"
                    ),
                    target="≤ peer" if pair.like_for_like else "< peer",
                    passed=passed,
                )
            ]
        )
    # Export: the same 30 days, rounds in turn, the order swapped each round.
    with psycopg.connect(ours) as connection:
        row = connection.execute(
            "SELECT max(occurred_at) FROM events WHERE tenant_id = %s", (TENANT,)
        ).fetchone()
    assert row is not None
    since = int(row[0]) - (EXPORT_DAYS + 15) * DAY_US
    rates: dict[str, list[float]] = {"sealtrail": [], "peer": []}
    exported = 0
    work = {"sealtrail": lambda: sealtrail_csv(store, since), "peer": lambda: peer_csv(since)}
    for round_ in range(3):
        for name in ("sealtrail", "peer") if round_ % 2 == 0 else ("peer", "sealtrail"):
            began = time.perf_counter()
            exported = work[name]()
            rates[name].append(exported / (time.perf_counter() - began))
    loads.append(os.getloadavg()[0])
    ours_rate, theirs_rate = statistics.median(rates["sealtrail"]), statistics.median(rates["peer"])
    run.add(
        [
            Figure(
                SECTION,
                f"CSV export, {EXPORT_DAYS} days",
                ours_rate,
                "rows/s",
                baseline=theirs_rate,
                baseline_name="django-auditlog .iterator() + csv.writer",
                detail=f"{exported:,} rows, median of 3 rounds each; load {loads[-1]:.2f}",
                target="> peer",
                passed=ours_rate > theirs_rate,
            )
        ]
    )
    _storage(run, ours, theirs)
    run.note(
        SECTION,
        f"Sealtrail's corpus COPYed at {loaded['load_rows_per_s']:,.0f} rows/s "
        f"({loaded['load_s']:.0f} s); the peer's {int(peer_loaded['rows']):,} LogEntry rows "
        f"mapped and COPYed at {peer_loaded['load_rows_per_s']:,.0f} rows/s "
        f"({peer_loaded['load_s']:.0f} s); both VACUUM ANALYZEd. Load average (1 min) "
        f"while timing {min(loads):.2f}–{max(loads):.2f}.",
    )


def _sizes(ours: str, theirs: str) -> tuple[list[storage.Part], int, dict[str, tuple[Any, int]]]:
    """Sealtrail's parts and total, and the peer's facts: LogEntry and its indexes, and the
    users its actor column points at."""
    parts, total = footprint(ours)
    with psycopg.connect(theirs) as connection:
        sizes = storage.postgres_sizes(connection)
    facts = {
        name: (table, size)
        for name, (table, size) in sizes.items()
        if name in PEER_TABLES or table in PEER_TABLES
    }
    return parts, total, facts


def _storage_figure(
    name: str, parts: list[storage.Part], total: int, facts: dict[str, Any], events: int
) -> Figure:
    peer_total = sum(size for _, size in facts.values())
    peer_indexes = sum(size for table, size in facts.values() if table is not None)
    indexes = sum(p.pages_bytes for p in parts if p.kind.startswith("index"))
    ours_b, theirs_b = total / events, peer_total / events
    return Figure(
        SECTION,
        name,
        ours_b,
        "B/event",
        baseline=theirs_b,
        baseline_name="django-auditlog: LogEntry, auth_user and their indexes",
        detail=(
            f"tables {(total - indexes) / events:,.0f} + indexes {indexes / events:,.0f}"
            f" vs {(peer_total - peer_indexes) / events:,.0f} + {peer_indexes / events:,.0f}"
        ),
        target=f"≤ {STORAGE_TARGET}× peer",
        passed=ours_b <= STORAGE_TARGET * theirs_b,
    )


def _rebuild(ours: str, theirs: str) -> None:
    """Both databases' indexes rebuilt, as docs/operations.md has a past month's rebuilt
    (``REINDEX TABLE CONCURRENTLY`` there; plain here, nothing else runs)."""
    with psycopg.connect(ours, autocommit=True) as connection:
        for table in ("events", "event_ids", "event_counts", "event_day_counts"):
            connection.execute(f"REINDEX TABLE {table}")
    with psycopg.connect(theirs, autocommit=True) as connection:
        for table in sorted(PEER_TABLES):
            connection.execute(f"REINDEX TABLE {table}")


def _storage(run: Run, ours: str, theirs: str) -> None:
    with psycopg.connect(ours) as connection:
        row = connection.execute("SELECT count(*) FROM events").fetchone()
    events = int(row[0]) if row else 1
    parts, total, facts = _sizes(ours, theirs)
    with psycopg.connect(theirs) as connection:
        whole = sum(size for _, size in storage.postgres_sizes(connection).values())
    run.add([_storage_figure("storage, bytes per event", parts, total, facts, events)])
    _rebuild(ours, theirs)
    rebuilt_parts, rebuilt_total, rebuilt_facts = _sizes(ours, theirs)
    run.add(
        [
            _storage_figure(
                "storage, bytes per event, indexes rebuilt",
                rebuilt_parts,
                rebuilt_total,
                rebuilt_facts,
                events,
            )
        ]
    )
    only = sealtrail_only_bytes(ours)
    event_ids = sum(p.pages_bytes for p in parts if "event_ids" in p.name + p.kind)
    shown = sorted(parts, key=lambda p: -p.pages_bytes)[:8]
    run.note(
        SECTION,
        "Sealtrail per event (largest): "
        + ", ".join(f"{p.name} {p.pages_bytes / events:,.0f}" for p in shown)
        + f" B (all {total / events:,.0f} B). Of that, what the peer has no counterpart "
        f"for: salts {only['salts']:.0f} B, commitments {only['commitments']:.0f} B and IP "
        f"key {only['ip_key']:.0f} B per events row, the full-text tsvector column "
        f"{only['search']:.0f} B, event_ids (ids, seq, leaf hash {only['leaf_hash']:.0f} B) "
        f"with its indexes {event_ids / events:,.0f} B; the Merkle tree's nodes are not in a "
        "COPYed corpus.",
    )
    run.note(
        SECTION,
        "django-auditlog per event: "
        + ", ".join(
            f"{name} {size / events:,.1f}"
            for name, (_, size) in sorted(facts.items(), key=lambda item: -item[1][1])
        )
        + f" B (the whole database with Django's own tables {whole / events:,.0f} B).",
    )
    rebuilt = {p.name: p.pages_bytes for p in rebuilt_parts}
    shrunk = sorted(
        ((p.name, p.pages_bytes, rebuilt.get(p.name, 0)) for p in parts if p.kind != "table"),
        key=lambda item: item[2] - item[1],
    )[:8]
    run.note(
        SECTION,
        "Indexes rebuilt (REINDEX TABLE events, event_ids, the count tables; the peer's "
        "auditlog_logentry and auth_user), as docs/operations.md has a past month's packed: "
        "largest changes per event "
        + ", ".join(f"{n} {a / events:,.0f} → {b / events:,.0f}" for n, a, b in shrunk)
        + f" B; Sealtrail {total / events:,.0f} → {rebuilt_total / events:,.0f} B, the peer "
        f"{sum(x for _, x in facts.values()) / events:,.0f} → "
        f"{sum(x for _, x in rebuilt_facts.values()) / events:,.0f} B. The corpus's newest "
        "month, still written to in a live log, would stay as appended.",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.peer``: the section alone (``--keep`` for EXPLAIN afterwards)."""
    import argparse
    import shlex
    import sys

    from bench.report import record, table

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=1_000_000, help="events in the corpus")
    parser.add_argument("--repeats", type=int, default=50, help="values per query")
    parser.add_argument("--keep", action="store_true", help="keep both databases")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)
    shown = sys.argv[1:] if argv is None else list(argv)
    report = Run(command=shlex.join(["python", "-m", "bench.peer", *shown]))
    run(report, admin_url=args.admin_url, rows=args.rows, repeats=args.repeats, keep=args.keep)
    print(f"\n{table(report.figures)}\n")
    for note in report.notes.get(SECTION, []):
        print(f"[{SECTION}] {note}")
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
