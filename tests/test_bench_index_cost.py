"""The index-cost benchmark (``python -m bench --only indexes``) on a few batches of SQLite.

It drops indexes by the names the migrations give them and swaps the text index for a
table that ignores inserts; this holds it to the schema as it changes, and holds its
replayed sealing to the seqs the store asks for.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bench import index_cost

from sealtrail.store.base import TreeHead


@pytest.fixture(scope="module")
def load() -> index_cost.Workload:
    return index_cost.workload(prefill=1000, events=3000)


def test_every_filter_index_and_the_text_index_is_measured_once(
    tmp_path: Path, load: index_cost.Workload
) -> None:
    costs = {cost.variant: cost for cost in index_cost.measure_sqlite(tmp_path, load)}

    with sqlite3.connect(tmp_path / "schema" / "sealtrail.db") as db:
        indexes = {
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' "
                "AND sql IS NOT NULL"
            )
        }
    measured = set(costs) - {index_cost.EVERY_INDEX, index_cost.NONE_OF_THEM, "events_fts"}
    assert measured == indexes - index_cost.SQLITE_KEPT
    assert all(len(cost.batches) == 2 for cost in costs.values())  # 3 batches, 1 warm-up
    assert all(costs[name].bytes > 0 and costs[name].rebuilt > 0 for name in measured)
    assert costs[index_cost.NONE_OF_THEM].bytes == sum(
        costs[name].bytes for name in [*measured, "events_fts"]
    )


def test_each_copy_holds_every_event_and_lacks_only_its_index(tmp_path: Path) -> None:
    load = index_cost.workload(prefill=1000, events=2000)
    index_cost.measure_sqlite(tmp_path, load)

    copies = sorted(tmp_path.glob("copy-*/sealtrail.db"), key=lambda p: int(p.parent.name[5:]))
    variants = list(index_cost.sqlite_variants(tmp_path / "schema" / "sealtrail.db"))
    assert len(copies) == len(variants)
    dropped = set(variants) - {index_cost.EVERY_INDEX, index_cost.NONE_OF_THEM, "events_fts"}
    for path, variant in zip(copies, variants, strict=True):
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT count(*), max(seq) FROM events").fetchone() == (3000, 2999)
            names = {n for (n,) in db.execute("SELECT name FROM sqlite_schema")}
            text_rows = db.execute("SELECT count(*) FROM events_fts").fetchone()[0]
        lacking = {variant} & dropped if variant != index_cost.NONE_OF_THEM else dropped
        assert names & dropped == dropped - lacking, variant
        without_text = variant in ("events_fts", index_cost.NONE_OF_THEM)
        assert text_rows == (0 if without_text else 3000), variant


def test_a_batch_offered_at_another_seq_is_refused(load: index_cost.Workload) -> None:
    second = load.timed[1]
    sealer = index_cost.replaying(second)

    with pytest.raises(RuntimeError, match="sealed for seq"):
        sealer(TreeHead(), second.events)
