"""The rollback attack against a real server, restarted on a real database.

An attacker with database access truncates the newest events, rewrites the
tree state and deletes the later checkpoint rows — or restores last night's
copy of the database file. The restarted server must refuse to sign, say so on
/readyz and /metrics, and keep refusing after more events arrive.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sealtrail.ledger import tree
from tests.client.live_server import SEALTRAIL, LiveServer, missing_cli, wait_until

pytestmark = pytest.mark.slow


class RestartableServer(LiveServer):
    """``sealtrail serve`` that counts as up once it answers, ready or not."""

    def __init__(self, workdir: Path, database: str | None = None) -> None:
        super().__init__(workdir)
        if database is not None:
            self.database = database

    def _ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"sealtrail serve exited: {self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=30)
        self._process = None

    def record(self, key: str, count: int, tag: str) -> None:
        events = [
            {"action": "member.invited", "actor": {"type": "user", "id": f"{tag}{i}"}}
            for i in range(count)
        ]
        response = httpx.post(
            f"{self.url}/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    def checkpoint(self, key: str) -> httpx.Response:
        return httpx.get(
            f"{self.url}/v1/checkpoint", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestartableServer]:
    reason = missing_cli()
    if reason:
        pytest.fail(reason)
    live = RestartableServer(tmp_path)
    yield live
    live.kill()


def assert_refuses(server: RestartableServer, key: str, signed: int) -> None:
    ready = httpx.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503, ready.text
    refused = ready.json()["signer_refused"]
    assert list(refused) == ["acme"]
    assert f"already signed {signed} events" in refused["acme"]
    answer = server.checkpoint(key)
    assert answer.status_code == 500, answer.text
    assert answer.json()["error"]["code"] == "inconsistent_tree"
    metrics = httpx.get(f"{server.url}/metrics", timeout=30).text
    assert "sealtrail_signer_refused_tenants 1.0" in metrics
    assert "sealtrail_signer_refusals_total" in metrics
    # More events do not launder the forked tree into a signature.
    server.record(key, 60, "after")
    assert server.checkpoint(key).status_code == 500


def test_restoring_an_older_copy_of_the_database_file_is_refused(
    server: RestartableServer, tmp_path: Path
) -> None:
    key = server.create_key("acme")  # its creation is the log's first event
    server.start()
    server.record(key, 49, "a")
    assert server.checkpoint(key).json()["tree_size"] == 50
    server.stop()
    backup = tmp_path / "last-night.db"
    with (
        sqlite3.connect(tmp_path / "sealtrail.db") as live,
        sqlite3.connect(backup) as copy,
    ):
        live.backup(copy)
    server.start()
    server.record(key, 50, "b")
    assert server.checkpoint(key).json()["tree_size"] == 100
    assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 200
    server.stop()
    for leftover in tmp_path.glob("sealtrail.db-*"):
        leftover.unlink()
    shutil.copyfile(backup, tmp_path / "sealtrail.db")
    server.start()
    assert_refuses(server, key, 100)


def _truncate_postgres(url: str, keep: int) -> None:
    """Drop every event from seq ``keep`` on, rewrite the tree state, delete later checkpoints."""
    import psycopg

    tables = ("events", "event_ids", "tree_nodes", "checkpoints", "tenants")
    with psycopg.connect(url, autocommit=True) as db:
        for table in tables:
            db.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        leaves = [
            bytes(row[0])
            for row in db.execute(
                "SELECT leaf_hash FROM events WHERE tenant_id = 'acme' AND seq < %s ORDER BY seq",
                (keep,),
            )
        ]
        grown = tree.append([], 0, leaves)
        db.execute("DELETE FROM events WHERE tenant_id = 'acme' AND seq >= %s", (keep,))
        db.execute(
            "DELETE FROM event_ids WHERE tenant_id = 'acme'"
            " AND id NOT IN (SELECT id FROM events WHERE tenant_id = 'acme')"
        )
        db.execute(
            "DELETE FROM tree_nodes WHERE tenant_id = 'acme' AND ((idx + 1) << level) > %s",
            (keep,),
        )
        db.execute("DELETE FROM checkpoints WHERE tenant_id = 'acme' AND tree_size > %s", (keep,))
        db.execute(
            "UPDATE tenants SET tree_size = %s, frontier = %s WHERE id = 'acme'",
            (keep, b"".join(grown.frontier)),
        )
        for table in tables:
            db.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")


@pytest.mark.postgres
def test_truncating_postgres_and_deleting_later_checkpoints_is_refused(
    postgres_url: str, tmp_path: Path
) -> None:
    reason = missing_cli()
    if reason:
        pytest.fail(reason)
    server = RestartableServer(tmp_path, postgres_url)
    try:
        key = server.create_key("acme")  # its creation is the log's first event
        server.start()
        server.record(key, 39, "a")
        assert server.checkpoint(key).json()["tree_size"] == 40
        server.record(key, 50, "b")
        assert server.checkpoint(key).json()["tree_size"] == 90
        server.stop()
        _truncate_postgres(postgres_url, 40)
        verify = subprocess.run(
            [SEALTRAIL, "checkpoint", "--tenant", "acme", "--database", postgres_url],
            capture_output=True,
            text=True,
            env=server.env,
            cwd=tmp_path,
            check=False,
        )
        assert verify.returncode == 1
        assert "already signed 90 events" in verify.stderr
        server.start()
        wait_until(lambda: server.checkpoint(key).status_code == 500, 10, "a refusal")
        assert_refuses(server, key, 90)
    finally:
        server.kill()
