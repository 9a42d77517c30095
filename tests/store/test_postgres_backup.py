"""PostgreSQL: a pg_dump / pg_restore round trip keeps a log that verifies and grows.

The procedure is the one docs/operations.md gives: ``pg_dump --format=custom``
of the live database, ``pg_restore`` into an empty one, then ``sealtrail
verify`` (here ``verify_store``) against the restored copy.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.settings import Settings

from ..conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/lib/postgresql/15/bin")
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def restored_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


def _events(count: int, offset: int = 0) -> dict[str, object]:
    return {
        "events": [
            {
                "id": f"ev-{offset + i}",
                "action": "member.role_changed" if i % 2 else "auth.login",
                "actor": {
                    "type": "user",
                    "id": f"u{i % 7}",
                    "name": f"Zoë {i}\u0000",
                    "email": f"user{i}@example.com",
                },
                "target": {"type": "user", "id": "u_bob", "name": "Bob", "email": "bob@x.io"},
                "occurred_at": f"20{26 + i % 3}-0{1 + i % 9}-1{i % 10}T10:00:00Z",
                "context": {"previous_role": "member", "new_role": "admin", "n": i},
                "ip": f"10.0.0.{i % 250}",
                "description": f"Promoted Bob, step {offset + i}",
            }
            for i in range(count)
        ]
    }


FUTURE_ALLOWED = 3 * 366 * 86_400


def test_dump_and_restore_keep_a_verifiable_log(
    postgres_url: str, restored_url: str, tmp_path: Path
) -> None:
    # The events spread over 2026-2028 to land in several month partitions, so the
    # clock-skew allowance is widened to take the future ones.
    settings = Settings(
        database_url=postgres_url,
        signing_key_file=str(tmp_path / "k.key"),
        max_clock_skew=FUTURE_ALLOWED,
    )
    source = AuditLog.open(settings=settings)
    try:
        source.migrate()
        for tenant in ("acme", "globex"):
            source.create_tenant(tenant)
            source.ingest(Principal.operator(tenant), _events(60))
            source.checkpoint(Principal.operator(tenant))
            source.ingest(Principal.operator(tenant), _events(15, offset=60))
            source.checkpoint(Principal.operator(tenant))
        vkey = source.signer().vkey
        before = {
            t: [
                e.to_dict(include_salts=True)
                for c in source.stream(Principal.operator(t), EventQuery(order="asc"))
                for e in c
            ]
            for t in ("acme", "globex")
        }
        assert source.verify_database(vkey).ok
    finally:
        source.close()

    dump = tmp_path / "sealtrail.dump"
    subprocess.run(
        [_tool("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={postgres_url}"],
        check=True,
    )
    subprocess.run(
        [
            _tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={restored_url}",
            str(dump),
        ],
        check=True,
    )

    copy = AuditLog.open(
        settings=Settings(
            database_url=restored_url,
            signing_key_file=str(tmp_path / "k.key"),
            max_clock_skew=FUTURE_ALLOWED,
        )
    )
    try:
        report = copy.verify_database(vkey)
        assert report.ok, report.problems
        assert report.events == 150 and report.checkpoints == 4
        after = {
            t: [
                e.to_dict(include_salts=True)
                for c in copy.stream(Principal.operator(t), EventQuery(order="asc"))
                for e in c
            ]
            for t in ("acme", "globex")
        }
        assert after == before
        hits = copy.search(Principal.operator("acme"), parse_phrase('"step 7"'), Page())
        assert [e.id for e in hits.events] == ["ev-7"]
        # The restored database keeps working: it grows, and still refuses rewrites.
        copy.ingest(Principal.operator("acme"), _events(5, offset=75))
        copy.checkpoint(Principal.operator("acme"))
        assert copy.verify_database(vkey).ok
        with (
            psycopg.connect(restored_url) as owner,
            pytest.raises(psycopg.errors.RestrictViolation),
        ):
            owner.execute("DELETE FROM events WHERE id = 'ev-1'")
    finally:
        copy.close()
