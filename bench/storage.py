"""Bytes per event on SQLite: each table and index of the cached dataset (``bench.dataset``).

Sizes come from SQLite's ``dbstat`` virtual table (``aggregate=1``: the pages
of each b-tree, with their unused space and overflow pages, so the sum is the
file less its free list). The divisor is every event in the file: the big
tenant's and the four smaller tenants' (``Dataset.total``), since each table
holds all of them.

What each index serves is read from the plan tests themselves
(``tests/store/plan_cases.py``: the cases whose SQLite plan must use it), so it
cannot drift from them; objects the cases do not cover carry the plan test that
names them, or "no plan test names it". PostgreSQL is not measured here: its
corpus (``bench.postgres_bench``) is built in a scratch database per run and
dropped, so ``python -m bench.postgres_bench --only storage`` measures it there
with ``postgres_footprint`` below (the cases' PostgreSQL plans name its indexes).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.dataset import Dataset
from bench.report import REPO, Figure, Run

SECTION: Final = "storage"
MIB: Final = 1024 * 1024
PLAN_TESTS: Final = REPO / "tests" / "store"
FTS_TABLES: Final = ("events_fts_data", "events_fts_idx", "events_fts_docsize", "events_fts_config")
# What the objects that are not an index of events are for, and the plan test that
# holds them to it (checked against the test's text before it is claimed).
OTHERS: Final = {
    "events_fts": ("free text (q=, quoted phrases)", "plan_cases.py"),
    "tree_nodes": ("the Merkle tree: proofs, leaf hashes of pruned events", "test_query_plans.py"),
    "event_counts": ("the timeline's whole hours (migration 0011)", "test_histogram_plans.py"),
    "event_day_counts": ("the timeline's whole days (migration 0012)", "test_histogram_plans.py"),
    "actor_day_counts": (
        "exact counts of one actor, per day (migration 0014)",
        "test_histogram_plans.py",
    ),
}
SHOWN_CASES: Final = 4


@dataclass(frozen=True, slots=True)
class Part:
    """One line of the footprint: a table, an index, or several objects summed."""

    name: str
    kind: str
    pages_bytes: int
    serves: str


def object_bytes(path: Path) -> dict[str, int]:
    """Bytes of every b-tree in the file, by name, from ``dbstat``."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT name, pgsize FROM dbstat WHERE aggregate = 1").fetchall()
        except sqlite3.OperationalError as error:
            raise SystemExit(
                f"storage: this Python's SQLite has no dbstat table ({error}); "
                "it needs SQLITE_ENABLE_DBSTAT_VTAB"
            ) from None
    return {name: int(size) for name, size in rows}


def _events_indexes(path: Path) -> dict[str, str]:
    """Each index of events, by name, with its key as the migration wrote it."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' "
            "ORDER BY name"
        ).fetchall()
    return {name: sql[sql.index("(") :] for name, sql in rows}


def proof_bytes(path: Path) -> tuple[float, float]:
    """Average bytes per event of the salts and the leaf hash (column values only)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        salts, leaf = db.execute(
            "SELECT avg(length(salts)), avg(length(leaf_hash)) FROM events"
        ).fetchone()
    return float(salts or 0), float(leaf or 0)


def plan_readers(engine: str = "sqlite") -> dict[str, list[str]]:
    """Index name -> the plan cases whose plan on ``engine`` must read through it."""
    from tests.store.plan_cases import CASES, POINT_READS  # the plan tests' own table

    readers: dict[str, list[str]] = defaultdict(list)
    for case in CASES:
        for index in (case.sqlite if engine == "sqlite" else case.postgres).indexes:
            readers[index].append(case.name)
    for read, indexes in POINT_READS[engine].items():
        for index in indexes:
            readers[index].append(read)
    return readers


def _named_in(test_file: str, name: str) -> bool:
    path = PLAN_TESTS / test_file
    return path.exists() and name in path.read_text()


def _serves(name: str, readers: dict[str, list[str]]) -> str:
    if name in OTHERS:
        what, test_file = OTHERS[name]
        if _named_in(test_file, name):
            return f"{what}; {test_file}"
        return f"{what}; no plan test names it"
    cases = readers.get(name, [])
    if not cases:
        return "no plan test names it"
    shown = ", ".join(cases[:SHOWN_CASES])
    more = f" +{len(cases) - SHOWN_CASES} more" if len(cases) > SHOWN_CASES else ""
    plural = "s" if len(cases) > 1 else ""
    return f"{len(cases)} plan case{plural}: {shown}{more}"


def footprint(path: Path) -> list[Part]:
    """The file's bytes in parts, largest events structures first, the rest summed."""
    sizes = object_bytes(path)
    readers = plan_readers()
    parts = [Part("events", "table", sizes.pop("events", 0), "the events themselves")]
    indexes = [
        Part(name, "index", sizes.pop(name, 0), f"{key}, {_serves(name, readers)}")
        for name, key in _events_indexes(path).items()
    ]
    parts += sorted(indexes, key=lambda p: -p.pages_bytes)
    fts = sum(sizes.pop(name, 0) for name in FTS_TABLES)
    parts.append(Part("events_fts", "text index", fts, _serves("events_fts", readers)))
    for name in ("tree_nodes", "event_counts", "event_day_counts", "actor_day_counts"):
        parts.append(Part(name, "table", sizes.pop(name, 0), _serves(name, readers)))
    rest = sorted(sizes)
    parts.append(Part("others", "tables", sum(sizes.values()), f"{len(rest)} b-trees"))
    return parts


# Every relation of the store's schema that is not a partition: a partitioned table or
# index is the sum of its partitions (pg_partition_tree, empty for a plain one). Tables
# count TOAST, free space and visibility maps (pg_table_size); indexes their main fork
# (pg_relation_size).
_PG_SIZES: Final = """
SELECT c.relname, t.relname, pg_get_indexdef(c.oid),
       (SELECT sum(CASE WHEN c.relkind IN ('i', 'I') THEN pg_relation_size(tree.relid)
                        ELSE pg_table_size(tree.relid) END)
          FROM (SELECT relid FROM pg_partition_tree(c.oid) UNION SELECT c.oid::regclass)
            AS tree (relid))
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN pg_index AS i ON i.indexrelid = c.oid
  LEFT JOIN pg_class AS t ON t.oid = i.indrelid
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'I')
   AND NOT c.relispartition
"""


def postgres_sizes(connection: Any) -> dict[str, tuple[str | None, int]]:
    """Every table and index of the schema by name: the table an index is on (None for a
    table) and its bytes, partitions summed."""
    return {
        name: (table, int(size or 0))
        for name, table, _, size in connection.execute(_PG_SIZES).fetchall()
    }


def postgres_footprint(connection: Any) -> list[Part]:
    """Each table of the schema, then each index (with the plan cases that read through
    it on PostgreSQL), largest first; those under 0.1 % that no plan case reads summed."""
    readers = plan_readers("postgres")
    tables: list[Part] = []
    indexes: list[Part] = []
    for name, table, definition, size in connection.execute(_PG_SIZES).fetchall():
        if table is None:
            serves = OTHERS[name][0] if name in OTHERS else ""
            tables.append(Part(name, "table", int(size or 0), serves))
        else:
            key = definition[definition.index(" USING ") + 1 :]
            serves = f"{key}, {_serves(name, readers)}"
            indexes.append(Part(name, f"index on {table}", int(size or 0), serves))
    total = sum(p.pages_bytes for p in tables + indexes)

    def shown(part: Part) -> bool:
        return part.pages_bytes * 1000 >= total or part.name in readers or part.name in OTHERS

    rest = [p for p in tables + indexes if not shown(p)]
    small_tables = sum(1 for p in rest if p.kind == "table")
    others = Part(
        "others",
        f"{small_tables} tables, {len(rest) - small_tables} indexes",
        sum(p.pages_bytes for p in rest),
        "each under 0.1 % and read by no plan case",
    )
    by_size = sorted((p for p in tables if shown(p)), key=lambda p: -p.pages_bytes)
    by_size += sorted((p for p in indexes if shown(p)), key=lambda p: -p.pages_bytes)
    return [*by_size, others]


def share(part: Part, total: int) -> str:
    return f"{part.pages_bytes / MIB:,.1f} MiB, {part.pages_bytes / total * 100:.1f} %"


def run(run: Run, dataset: Dataset, *, section: str = SECTION) -> None:
    parts = footprint(dataset.path)
    total = sum(p.pages_bytes for p in parts)
    events = dataset.total
    file_bytes = dataset.path.stat().st_size
    figures = [
        Figure(
            section,
            f"{p.name} ({p.kind})",
            p.pages_bytes / events,
            "B/event",
            detail=share(p, total),
        )
        for p in parts
    ]
    figures.append(
        Figure(
            section,
            "total (dbstat)",
            total / events,
            "B/event",
            detail=f"{total / MIB:,.1f} MiB; file {file_bytes / MIB:,.1f} MiB",
        )
    )
    run.add(figures)
    indexes = [p for p in parts if p.kind == "index"]
    index_bytes = sum(p.pages_bytes for p in indexes)
    run.note(
        section,
        f"{events:,} events in the file ({dataset.big.events:,} in the big tenant "
        f"{dataset.big.tenant_id}); sizes from dbstat (aggregate, with each b-tree's unused "
        f"space); the {len(indexes)} indexes of events together {index_bytes / events:,.0f} "
        f"B/event, {index_bytes / total * 100:.0f} % of the file",
    )
    salts, leaf = proof_bytes(dataset.path)
    run.note(
        section,
        f"of the events table, the per-event salts take {salts:.0f} B/event and the leaf "
        f"hash {leaf:.0f} B/event (column values; tree_nodes above holds the rest of the tree)",
    )
    for part in parts:
        if part.kind != "index" and part.name not in OTHERS:
            continue
        run.note(section, f"{part.name}: {part.serves}")
    run.note(section, "PostgreSQL: python -m bench.postgres_bench --only storage")
