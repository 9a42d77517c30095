"""The timeline's plans (issue 15): a histogram without filters never reads the table.

On the skewed history of plans.py, on both engines: ``EventStore.histogram``
over the whole span with no filter (the tenant admin's default timeline) is
counted from ``events_by_kind`` and ``events_by_outcome`` alone — index-only
reads (SQLite's COVERING INDEX, PostgreSQL's Index Only Scan), each bounded by
tenant, kind or outcome and time, nothing read whole and nothing sorted. With
kinds only, the kinds are still counted in the index and only failed rows are
looked up (for their kind). With any other filter it reads the matches once,
through the indexes that count them for ``count`` (the plan_cases.py
expectations).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sealtrail.query import EventQuery, Field, Term, parse_phrase
from sealtrail.store.base import EventStore
from sealtrail.timeline import Counts, Grid

from .plan_cases import CASES, Case
from .plans import DAY, SPAN, START, TENANT, Plan, V
from .test_query_plans import Engine, check_count, engine

__all__ = ["engine"]  # the module-scoped history on each engine

pytestmark = pytest.mark.xdist_group("query_plans")

GRID = Grid.over(START, START + SPAN + DAY, 60)
KIND_INDEXES = {"events_by_kind", "events_by_outcome"}


def histogram(query: EventQuery) -> Callable[[EventStore], list[Counts]]:
    def run(store: EventStore) -> list[Counts]:
        return store.histogram(TENANT, query, GRID)

    return run


def table_reads(plan: Plan) -> list[str]:
    """The indexes whose entries lead to rows of the table (an index-only read leads nowhere)."""
    if plan.engine == "sqlite":
        lines = [line for line in plan.text.splitlines() if " events USING " in line]
        assert lines, plan
        return [line.split(" INDEX ")[1].split()[0] for line in lines if "COVERING" not in line]
    nodes = _nodes(json.loads(plan.text))
    reads = [n for n in nodes if n.get("Index Name") or str(n["Node Type"]).endswith("Heap Scan")]
    assert reads, plan
    return [
        str(n.get("Index Name", n["Node Type"]))
        for n in reads
        if n["Node Type"] != "Index Only Scan"
    ]


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    children = node.get("Plans", [])
    assert isinstance(children, list)
    return [node, *(n for child in children for n in _nodes(child))]


@pytest.mark.parametrize("phrase", ["", "kind:delete", "-kind:access"])
def test_the_unfiltered_timeline_is_counted_from_indexes_alone(engine: Engine, phrase: str) -> None:
    query = parse_phrase(phrase) if phrase else EventQuery()
    counts, plans = engine.run_search(histogram(query))
    assert sum(c.count for c in counts) == engine.matches(query)
    assert len(plans) == 1
    plan = plans[0]
    assert not plan.whole, f"reads {plan.whole} whole:\n{plan}"
    assert not plan.untenanted, f"reads {plan.untenanted} across tenants:\n{plan}"
    assert set(plan.indexes) == KIND_INDEXES, plan
    assert all("occurred_at" in cond for cond in plan.conds), plan
    assert not plan.sorts, plan
    looked_up = table_reads(plan)
    if not phrase:
        assert not looked_up, f"reads the table:\n{plan}"
    else:  # the kinds are counted in the index; only failed rows are looked up for their kind
        assert all("outcome" in name for name in looked_up), f"reads the table:\n{plan}"


def test_the_viewers_default_timeline_counts_its_hidden_reads_through_their_index(
    engine: Engine,
) -> None:
    """The viewer leaves out Sealtrail's own reads (``-action:audit_log.viewed,…``): the
    kinds are still counted from the indexes alone, less those actions' few events,
    read through the action index."""
    hidden = Term(Field.ACTION, (V.rare_action, "audit_log.viewed"), negate=True)
    query = EventQuery((hidden,))
    counts, plans = engine.run_search(histogram(query))
    assert sum(c.count for c in counts) == engine.matches(query)
    counted = [p for p in plans if p.sql.lstrip().startswith("WITH")]
    less = [p for p in plans if "GROUP BY" in p.sql]
    assert len(counted) == 1 and len(less) == 1, [p.sql for p in plans]
    assert not table_reads(counted[0]), counted[0]
    for plan in plans:
        assert not plan.whole, f"reads {plan.whole} whole:\n{plan}"
        assert not plan.untenanted, plan
    assert set(less[0].indexes) - {"rowid"} == {"events_by_action"}, less[0]


FILTERED = [
    c
    for c in CASES
    if c.name.endswith("_rare")
    and not c.seed
    and c.sqlite_gap is None
    and any(t.field is not Field.KIND for t in c.query.terms)
]


@pytest.mark.parametrize("case", FILTERED, ids=[c.name for c in FILTERED])
def test_a_filtered_timeline_reads_through_the_filters_index(
    engine: Engine, case: Case, request: pytest.FixtureRequest
) -> None:
    want = case.on(engine.name, request)
    found = engine.matches(EventQuery(case.query.terms))
    counts, plans = engine.run_search(histogram(case.query))
    assert sum(c.count for c in counts) == found
    grouped = [p for p in plans if "GROUP BY" in p.sql]
    assert len(grouped) == 1, [p.sql for p in plans]  # beside it, SQLite's capped count
    for plan in plans:
        check_count(plan, want, found)
