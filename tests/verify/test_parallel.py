"""``verify_store`` in worker processes gives the single process's report, problem for problem.

A log on each engine with a pruned prefix, an erased subject, checkpoints on
and off range boundaries, then tampering planted in several ranges and across
their boundaries; the report of ``workers=2`` at several range sizes must equal
the serial one exactly (every problem, its order, every statement), and the
workers must have taken ranges (not all fallen back to the serial pass).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import format_timestamp, now_micros
from sealtrail.privacy import Subject
from sealtrail.retention import RetentionPolicy
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.verify import parallel, rows, verify_store

from .conftest import Fixture, _events
from .test_database_mutations import CASES

OPERATOR = Principal.operator("acme")
DAY = 86_400_000_000
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Built:
    log: AuditLog
    url: str
    engine: str

    def sql(self, *statements: str) -> None:
        """Tamper with the tables directly, the engine's guards switched off."""
        if self.engine == "sqlite":
            connection = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            try:
                for name in ("events", "tree_nodes"):
                    for verb in ("update", "delete"):
                        connection.execute(f"DROP TRIGGER IF EXISTS {name}_refuse_{verb}")
                for statement in statements:
                    connection.execute(statement)
            finally:
                connection.close()
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            for table in ("events", "event_ids", "tree_nodes"):
                db.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            for statement in statements:
                db.execute(statement.replace("zeroblob(32)", "'\\x" + "00" * 32 + "'::bytea"))


@pytest.fixture(params=ENGINES)
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Built]:
    """acme: 40 old events pruned, 300 more (one subject erased), checkpoints at 100, 205, end."""
    engine = request.param
    url = (
        f"sqlite:///{tmp_path / 'log.db'}"
        if engine == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    log = AuditLog.open(
        settings=Settings(database_url=url, signing_key_file=str(tmp_path / "k.key"))
    )
    log.migrate()
    log.create_tenant("acme")
    log.create_tenant("globex")
    rng = random.Random(14)
    recent = now_micros() - DAY
    events = _events(rng, 340)
    for index, body in enumerate(events[40:]):
        body["occurred_at"] = format_timestamp(recent + index * 1_000_000)
    for start in range(0, len(events), 50):
        log.ingest(OPERATOR, {"events": events[start : start + 50]})
        if start == 50:
            log.checkpoint(OPERATOR)
    log.ingest(Principal.operator("globex"), {"events": _events(rng, 30)})
    log.set_retention(OPERATOR, RetentionPolicy(70))
    assert log.prune().events > 0
    erasure = log.erase(OPERATOR, Subject("email", "user77@example.com"), "request 14")
    if erasure.status == "running" and erasure.erasure_id is not None:
        log.run_erasure("acme", erasure.erasure_id)
    log.checkpoint(OPERATOR)
    try:
        yield Built(log, url, engine)
    finally:
        log.close()


def _taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, per range, whether the parent took a worker's result (not a re-read)."""
    taken: list[bool] = []
    original = parallel.Pool.ranges

    def counting(
        self: parallel.Pool, tenant_id: str, jobs: Any
    ) -> Iterator[parallel.RangeFound | None]:
        for found in original(self, tenant_id, jobs):
            taken.append(found is not None)
            yield found

    monkeypatch.setattr(parallel.Pool, "ranges", counting)
    return taken


def _same_reports(built: Built, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    store = open_store(built.url)
    try:
        serial = verify_store(store, built.log.verifier_key).to_dict()
        for size in (8, 16, 64):
            taken = _taken(monkeypatch)
            found = verify_store(store, built.log.verifier_key, workers=2, range_size=size)
            assert found.to_dict() == serial, size
            assert any(taken) and not all(taken), (size, taken)  # both ways were exercised
            monkeypatch.undo()
    finally:
        store.close()
    return serial


def test_an_untouched_log_gives_the_same_report(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _same_reports(built, monkeypatch)
    assert report["ok"], report["problems"]
    assert any("pruned" in s["message"] for s in report["pruned"])


TAMPERING = (
    "UPDATE events SET actor_id = 'x' WHERE tenant_id = 'acme' AND seq IN (70, 133, 300)",
    "UPDATE events SET leaf_hash = zeroblob(32) WHERE tenant_id = 'acme' AND seq = 181",
    "DELETE FROM events WHERE tenant_id = 'acme' AND seq IN (95, 96, 97)",
    "DELETE FROM events WHERE tenant_id = 'acme' AND seq = 255",
    "DELETE FROM tree_nodes WHERE tenant_id = 'acme' AND level = 1 AND idx = 60",
    "UPDATE tree_nodes SET hash = zeroblob(32) WHERE tenant_id = 'acme' AND level = 3 AND idx = 20",
    "UPDATE tree_nodes SET hash = zeroblob(32) WHERE tenant_id = 'acme' AND level = 7 AND idx = 1",
    "UPDATE events SET occurred_at = -5 WHERE tenant_id = 'acme' AND seq = 222",
    "UPDATE events SET actor_email = 'y@example.com' WHERE tenant_id = 'globex' AND seq = 20",
)


def test_tampering_in_several_ranges_gives_the_same_report(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    built.sql(*TAMPERING)
    report = _same_reports(built, monkeypatch)
    named = {p["seq"] for p in report["problems"] if p["tenant_id"] == "acme"}
    assert {70, 133, 300, 181, 95, 255, 222} <= named, report["problems"]
    assert any(p["tenant_id"] == "globex" for p in report["problems"])


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = module.from_row

    def counted(row: Any) -> Any:
        calls[0] += 1
        return original(row)

    monkeypatch.setattr(module, "from_row", counted)
    return calls


def test_plain_rows_are_verified_without_building_events(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the erased rows and the prune's announcement are read as Event objects."""
    built.log.checkpoint(OPERATOR)
    in_rows, in_parallel = _counting(monkeypatch, rows), _counting(monkeypatch, parallel)
    store = open_store(built.url)
    try:
        report = verify_store(store, built.log.verifier_key)
        erased = sum(1 for chunk in store.scan_rows("acme") for row in chunk if row[-2])
    finally:
        store.close()
    assert report.ok and report.events > 300
    assert 0 < erased < 10
    assert (in_rows[0], in_parallel[0]) == (erased, 1)


def test_the_cli_hands_its_workers_to_verify_store(
    signed_log: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from sealtrail import verify
    from sealtrail.cli import cli

    asked: list[int] = []
    original = verify.verify_store

    def recording(*args: Any, workers: int = 1, **kwargs: Any) -> Any:
        asked.append(workers)
        return original(*args, workers=workers, range_size=64, **kwargs)

    monkeypatch.setattr(verify, "verify_store", recording)
    database = ["--database", f"sqlite:///{signed_log.path}"]
    vkey = str(Path(signed_log.path).parent / "log.vkey")
    runner = CliRunner()
    one = runner.invoke(cli, ["verify", *database, "--key", vkey, "--workers", "1", "--json"])
    two = runner.invoke(cli, ["verify", *database, "--key", vkey, "--workers", "2", "--json"])
    assert asked == [1, 2]
    assert (one.exit_code, two.exit_code) == (0, 0), one.output
    assert one.output == two.output and '"ok": true' in one.output
    refused = runner.invoke(cli, ["verify", *database, "--workers", "0"])
    assert refused.exit_code == 2 and "--workers" in refused.output


@pytest.mark.parametrize("case", list(CASES))
def test_each_mutation_case_gives_the_same_report(signed_log: Fixture, case: str) -> None:
    """The database mutation suite's tamperings (truncations, re-signed ones, rewritten
    trees, swapped and forged rows), in ranges of 16: the serial report, unchanged."""
    mutate, _ = CASES[case]
    mutate(signed_log)
    serial = verify_store(signed_log.store, signed_log.vkey)
    found = verify_store(signed_log.store, signed_log.vkey, workers=2, range_size=16)
    assert not serial.ok
    assert found.to_dict() == serial.to_dict()
