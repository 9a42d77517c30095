"""``sealtrail erase`` and ``sealtrail tenants masking`` through the entry point."""

from __future__ import annotations

import json

from .conftest import Cli

ANN = {"type": "user", "id": "u_ann", "name": "Ann Example", "email": "ann@example.com"}


def _ingest(cli: Cli) -> None:
    lines = [
        {"action": "auth.login", "actor": ANN, "ip": "10.1.1.1"},
        {"action": "member.invited", "actor": {"type": "user", "id": "u_bo"}, "target": ANN},
        {"action": "auth.login", "actor": {"type": "user", "id": "u_bo", "email": "bo@x.com"}},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    cli.run("ingest", "-", "--tenant", "acme", stdin=body)


def test_erase_counts_erases_then_does_nothing(cli: Cli) -> None:
    _ingest(cli)
    dry = cli.json("erase", "--tenant", "acme", "--email", "ANN@example.com", "--dry-run")
    assert dry == {"erasure_id": None, "events_matched": 2, "status": "dry_run"}
    done = cli.json("erase", "--tenant", "acme", "--email", "ann@example.com")
    assert (done["status"], done["events_matched"], done["events_erased"]) == ("done", 2, 2)
    assert done["subject"] == "email" and "ann@" not in json.dumps(done)
    again = cli.json("erase", "--tenant", "acme", "--target-id", "u_ann")
    assert (again["status"], again["events_matched"]) == ("done", 0)
    exported = cli.run("export", "--tenant", "acme", "--format", "ndjson").stdout
    assert b"ann@example.com" not in exported and b"Ann Example" not in exported
    # by Ann: name, email, ip, description ("Ann Example signed in"); of Ann: name, email,
    # description — the catalog's descriptions name her
    assert exported.count(b"[erased]") == 7
    recorded = cli.json("search", "action:audit_log.subject_erased", "--tenant", "acme")
    assert len(recorded["events"]) == 1
    report = cli.json("verify")
    assert report["ok"], report


def test_erase_wants_one_subject_and_a_reason_without_it(cli: Cli) -> None:
    none = cli.run("erase", "--tenant", "acme", check=False)
    two = cli.run("erase", "--tenant", "acme", "--email", "a@x.com", "--actor-id", "u", check=False)
    assert (none.returncode, two.returncode) == (2, 2)
    named = cli.run(
        "erase", "--tenant", "acme", "--email", "a@x.com", "--reason", "a@x.com asked", check=False
    )
    assert named.returncode == 1 and b"must not name the subject" in named.stderr


def test_tenant_masking_is_shown_and_set(cli: Cli) -> None:
    shown = cli.json("tenants", "masking", "show", "--tenant", "acme")
    assert shown["tenant"] == [] and "password" in shown["global"] and shown["card_numbers"]
    changed = cli.json("tenants", "masking", "set", "--tenant", "acme", "ssn*", "pin")
    assert changed["tenant"] == ["ssn*", "pin"]
    line = {
        "action": "user.updated",
        "actor": {"type": "user", "id": "u"},
        "context": {"ssn_last4": "1234", "password": "p", "plan": "pro"},
    }
    cli.run("ingest", "-", "--tenant", "acme", stdin=json.dumps(line).encode())
    lines = cli.run("export", "--tenant", "acme", "--format", "ndjson").stdout.splitlines()
    (exported,) = [e for e in map(json.loads, lines) if e["action"] == "user.updated"]
    assert exported["context"] == {"ssn_last4": "[masked]", "password": "[masked]", "plan": "pro"}
    cleared = cli.json("tenants", "masking", "set", "--tenant", "acme")
    assert cleared["tenant"] == []
