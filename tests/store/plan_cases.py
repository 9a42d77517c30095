"""The plan tests' cases: each query a caller can send, and the index that must read it.

Queries are built the way the edges build them: ``api`` as ``GET /v1/events``
parses its query string, ``seed_endpoint`` as the seed product's endpoint does,
``parse_phrase`` for search phrases and ``viewer`` as the ``/ui`` page does
(with a viewer session's account scope where given). Values come from the
skewed history in plans.py (``V``): "common" values match hundreds to thousands
of acme's rows, "rare" ones three.

``case(name, query, index, keyed=..., pg=..., pg_keyed=...)``: ``index`` is the
index (``a+b`` for several, as an OR or a bitmap AND reads) that reads the page
on SQLite and, unless ``pg`` says otherwise, on PostgreSQL. ``keyed`` says that
index reads the matches in page order, so the page must not sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from sealtrail.auth import Principal
from sealtrail.events import Actor
from sealtrail.query import (
    EventQuery,
    parse_phrase,
    query_from_params,
    seed_query_from_params,
)
from sealtrail.web.filters import Filters

from .plans import TENANT, V


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
# With several terms SQLite reads through the index of the one that matches fewest rows
# (each counted, capped, through its own index); an equality's index then reads the page
# in order ("keyed"), the other terms tested on each row (SQLiteStore._driver).
# SQLite has no statistics (no sqlite_stat1): it takes "tenant_id = ?" on any index
# for a few rows, so an id-or-email OR never becomes a MULTI-INDEX OR by itself. The
# store reads it as the union of the rowids each index finds where they are few
# (filters.compile_where, SQLiteStore._by_rowid): the cases below name both indexes.
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
    case("resource_type_rare", api(resource_type=V.rare_resource_type), "events_by_resource_type"),
    case(
        "resource_type_common",
        api(resource_type="workspace"),
        "events_by_resource_type",
        pg=f"{TIME}+events_by_resource_type",
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
        "events_by_target_id",  # ~1,200 rows of a target, where member.* is a range of ~3,600
        pg="events_by_target_id+events_by_action_group",
        pg_keyed=False,
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
    ),
    case(
        "phrase_target_email",
        parse_phrase(f"target:{V.rare_target_email}"),
        "events_by_target_id+events_by_target_email",
        keyed=False,
    ),
    case(
        "phrase_resource",
        parse_phrase(f"resource:workspace/{V.rare_resource_id}"),
        "events_by_resource_id",
        pg="events_by_resource_type+events_by_resource_id",
    ),
    case(
        "phrase_resource_common",
        parse_phrase(f"resource:workspace/{V.common_resource_id}"),
        "events_by_resource_id",
        pg="events_by_resource_type+events_by_resource_id",
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
        "events_by_action",  # both match thousands: the first of the two equalities
        pg="events_by_actor_id",
    ),
    case(
        "phrase_rare_and_common",
        parse_phrase(f"action:{V.rare_action} account:{V.rare_account}"),
        "events_by_action",  # three rows each: the first of the two equalities
        pg="events_by_account",
        pg_keyed=False,
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
    ),
    case(
        "viewer_kind_resource",
        viewer(kind="update", resource_type="app"),
        "events_by_kind+events_by_resource_type",
        pg="events_by_resource_type",
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
        # Kept rows' hashes, then pruned ones' (kept as level-0 tree nodes; issue 13).
        "leaf_hashes": {"event_ids_tenant_id_seq_key", "tree_nodes_pkey"},
        "scan": {"events_pkey"},
    },
}


# Indexes no query reads through, and why they stay.
UNREAD: dict[str, set[str]] = {
    "sqlite": set(),
    "postgres": set(),
}
