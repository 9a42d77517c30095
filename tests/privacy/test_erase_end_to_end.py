"""Done when (issue 13): erase a subject from a 10 k-event tenant, on each engine.

Afterwards no byte of the erased values is in the database (SQLite: the file
and its WAL, and the full-text index's vocabulary; PostgreSQL: every row of
every table, the tsvectors, and every page of the events relations), in a CSV,
NDJSON or bundle export, the API or the viewer — and every erased event's
inclusion proof verifies against checkpoints signed before and after, checked
by ``independent`` (rfc8785 and a few lines of RFC 6962, no Sealtrail code).
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import Actor
from sealtrail.privacy import Subject
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.server.app import create_app
from sealtrail.settings import Settings

from . import independent

EMAIL = "zelda.quux@subject.example"
NAME = "Zelda Quuxworth"
AGENT = "ZeldaAgent/9.9"
IP = "203.0.113.77"
SECRETS = [EMAIL, NAME, "Quuxworth", AGENT, IP]
WORDS = {"zelda", "quux", "quuxworth", "zeldaagent"}  # the full-text index's words for them
SIZE = 10_000


def _event(i: int) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"ev{i:05d}",
        "action": "member.role_changed",
        "occurred_at": f"2026-03-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
        "actor": {
            "type": "user",
            "id": f"u{i % 40}",
            "name": f"User {i % 40}",
            "email": f"user{i % 40}@acme.example",
        },
        "ip": f"10.0.{i % 200}.{i % 250}",
        "description": f"event number {i}",
    }
    if i % 50 == 7:  # the subject acts
        event["actor"] = {"type": "user", "id": "u_zelda", "name": NAME, "email": EMAIL}
        event["ip"], event["user_agent"] = IP, AGENT
        event["description"] = f"{NAME} changed a role"
    if i % 70 == 3:  # the subject is acted on
        event["target"] = {"type": "user", "id": "u_zelda", "name": NAME, "email": EMAIL}
        event["context"] = {"previous_role": "member", "new_role": "admin", "who": EMAIL.upper()}
    return event


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    url = (
        f"sqlite:///{tmp_path / 'erase.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = Settings(database_url=url, signing_key_file=str(tmp_path / "signing.key"))
    audit_log = AuditLog.open(settings=settings)
    audit_log.migrate()
    audit_log.create_tenant("acme")
    operator = Principal.operator("acme")
    for start in range(0, SIZE, 1000):
        audit_log.ingest(operator, {"events": [_event(i) for i in range(start, start + 1000)]})
    try:
        yield audit_log
    finally:
        audit_log.close()


def _database_holds(log: AuditLog, value: str) -> list[str]:
    """Where the database still holds ``value``: files, FTS vocabulary, rows, pages."""
    url = log.database_url
    found: list[str] = []
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for file in (path, Path(f"{path}-wal")):
            if file.exists() and value.encode() in file.read_bytes():
                found.append(file.name)
        with sqlite3.connect(path) as connection:
            connection.execute(
                "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'events_fts', 'row')"
            )
            words = {w for (w,) in connection.execute("SELECT term FROM temp.vocab")}
        if words & WORDS:
            found.append(f"fts vocabulary: {sorted(words & WORDS)}")
        return found
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        tables = [
            t
            for (t,) in connection.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            )
        ]
        for table in tables:
            hit = connection.execute(
                f'SELECT count(*) FROM "{table}" t WHERE strpos(lower(t::text), lower(%s)) > 0',
                (value,),
            ).fetchone()
            if hit and hit[0]:
                found.append(f"rows of {table}")
        connection.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        relations = connection.execute(
            "SELECT r.oid::regclass::text, pg_relation_size(r.oid) / 8192"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_class r ON r.oid IN (c.oid, c.reltoastrelid)"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
        ).fetchall()
        needle = value.encode()
        for relation, blocks in relations:
            for block in range(blocks):
                page = connection.execute("SELECT get_raw_page(%s, %s)", (relation, block))
                row = page.fetchone()
                if row and needle in bytes(row[0]):
                    found.append(f"page {block} of {relation}")
                    break
    return found


def _verify_independently(event: dict[str, Any], proof: dict[str, Any], note: str) -> None:
    size, root = independent.note_root(note)
    assert proof["tree_size"] == size
    leaf = independent.leaf_hash(event)
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"], event["id"]
    path = [base64.b64decode(p) for p in proof["proof"]]
    assert independent.root_from_inclusion(event["seq"], size, leaf, path) == root


def test_erasing_a_subject_leaves_no_byte_and_every_proof(log: AuditLog, tmp_path: Path) -> None:
    operator = Principal.operator("acme")
    viewer = Principal(
        "acme", "viewer", Actor("user", "usr_admin", name="Admin"), frozenset({"events:read"})
    )
    log.search(viewer, parse_phrase(f"actor:{EMAIL}"), Page())  # recorded, with the email
    before = log.checkpoint(operator)
    subject_events = log.search(operator, parse_phrase("actor:u_zelda"), Page(limit=200)).events
    subject_events += log.search(operator, parse_phrase("target:u_zelda"), Page(limit=200)).events
    seqs = sorted({e.seq for e in subject_events})
    assert len(seqs) == 200 + 143  # the subject acts in 200 events and is acted on in 143
    for value in SECRETS:
        assert _database_holds(log, value), f"{value} should be stored before the erasure"

    app = create_app(log, log.settings)
    key = log.create_api_key("acme", "events:read,events:erase,viewer:mint").plain
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    dry = client.post(
        "/v1/erasures",
        json={"subject": {"email": EMAIL}, "reason": "GDPR Art. 17", "dry_run": True},
    )
    assert dry.status_code == 200 and dry.json()["status"] == "dry_run"
    assert dry.json()["events_matched"] == len(seqs) + 1  # and the viewer's search
    accepted = client.post(
        "/v1/erasures", json={"subject": {"email": EMAIL}, "reason": "GDPR Art. 17"}
    )
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["events_matched"] == len(seqs) + 1
    status = client.get(f"/v1/erasures/{body['erasure_id']}").json()
    assert status["status"] == "done" and status["events_erased"] == len(seqs) + 1
    by_id = log.erase(operator, Subject("id", "u_zelda"), "GDPR Art. 17 (ids)")
    assert by_id.events_matched == 0 and by_id.status == "done"  # nothing left: a no-op
    after = log.checkpoint(operator)
    assert after.tree_size == before.tree_size + 2  # the key's creation, the erasure's record

    for value in SECRETS:
        assert _database_holds(log, value) == [], value
    for fmt in ("csv", "ndjson", "bundle"):
        exported = b"".join(log.export(operator, EventQuery(), fmt).chunks)
        for value in SECRETS:
            assert value.encode() not in exported, (fmt, value)
    assert log.verify_database(log.verifier_key).ok

    minted = client.post(
        "/v1/viewer-sessions",
        json={"user": {"id": "usr_o", "email": "o@acme.example"}, "role": "owner"},
    )
    browser = TestClient(app)
    assert browser.get(minted.json()["url"], follow_redirects=False).status_code == 303
    # Every list page that holds the subject's events (all time, access records shown).
    page: str | None = "/ui?" + urlencode({"since": "", "access": "shown", "limit": "200"})
    listed = 0
    while page is not None:
        html = browser.get(page).text
        listed += html.count('<tr class="event"')
        for value in SECRETS:
            assert value not in html and value.replace("@", "&#64;") not in html
        older = re.search(r'<a class="button" href="([^"]+)" rel="next">', html)
        page = unescape(older.group(1)) if older else None
    assert listed >= len(subject_events)
    for found in subject_events[:20]:
        html = browser.get(f"/ui/events/{found.id}").text
        assert "[erased]" in html and "verified" in html.lower()
        for value in SECRETS:
            assert value not in html and value.replace("@", "&#64;") not in html
    for found in subject_events:
        shown = client.get(f"/v1/events/{found.id}", params={"include": "salts"})
        assert shown.status_code == 200
        event = shown.json()
        assert "[erased]" in shown.text
        for value in SECRETS:
            assert value not in shown.text
        for checkpoint in (before, after):
            proof = log.inclusion_proof(operator, event["seq"], checkpoint.tree_size)
            _verify_independently(event, proof, checkpoint.note)
