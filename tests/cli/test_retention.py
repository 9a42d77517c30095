"""``sealtrail retention``, ``holds`` and ``prune`` through the entry point."""

from __future__ import annotations

import json

from sealtrail.events import format_timestamp, now_micros

from .conftest import Cli

DAY = 86_400_000_000


def _ingest(cli: Cli, days_ago: list[int]) -> None:
    now = now_micros()
    lines = [
        {
            "action": "auth.login" if i % 2 else "member.invited",
            "actor": {"type": "user", "id": f"u{i}"},
            "occurred_at": format_timestamp(now - days * DAY),
            "account_id": "acc_x" if i == 3 else "acc_y",
        }
        for i, days in enumerate(days_ago)
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    cli.run("ingest", "-", "--tenant", "acme", stdin=body)


def test_retention_set_and_show(cli: Cli) -> None:
    shown = cli.json("retention", "show", "--tenant", "acme")
    assert (shown["days"], shown["rules"], shown["holds"], shown["prunes"]) == (None, [], [], [])
    text = cli.run(
        "retention",
        "set",
        "--tenant",
        "acme",
        "--days",
        "365",
        "--action-prefix",
        "auth.",
        "--days",
        "30",
    ).stdout.decode()
    assert text.strip() == "acme: keep 365 days (auth.* 30 days)"
    only_rule = cli.json(
        "retention", "set", "--tenant", "acme", "--action-prefix", "auth.", "--days", "7"
    )
    assert only_rule == {
        "tenant_id": "acme",
        "days": None,
        "rules": [{"action_prefix": "auth.", "days": 7}],
    }
    assert cli.json("retention", "set", "--tenant", "acme", "--forever")["rules"] == []
    unpaired = cli.run(
        "retention",
        "set",
        "--tenant",
        "acme",
        "--action-prefix",
        "a.",
        "--action-prefix",
        "b.",
        "--days",
        "3",
        check=False,
    )
    assert unpaired.returncode == 2
    bad = cli.run("retention", "set", "--tenant", "acme", "--days", "0", check=False)
    assert bad.returncode == 1 and bad.stderr.decode().startswith("error: days must be")
    assert b"Traceback" not in bad.stderr


def test_holds_add_list_release(cli: Cli) -> None:
    placed = cli.json(
        "holds",
        "add",
        "--tenant",
        "acme",
        "--reason",
        "case 7",
        "--account",
        "acc_x",
        "--since",
        "2026-01-01",
    )
    assert placed["account_id"] == "acc_x" and placed["since"] == "2026-01-01T00:00:00.000000Z"
    listed = cli.run("holds", "list", "--tenant", "acme").stdout.decode()
    assert placed["id"] in listed and "active" in listed
    released = cli.json("holds", "release", placed["id"], "--tenant", "acme")
    assert released["released_at"] is not None
    assert cli.json("holds", "list", "--tenant", "acme") == []
    assert len(cli.json("holds", "list", "--tenant", "acme", "--all")) == 1
    again = cli.run("holds", "release", placed["id"], "--tenant", "acme", check=False)
    assert again.returncode == 1 and b"no active legal hold" in again.stderr


def test_prune_dry_run_then_archive_then_verify(cli: Cli) -> None:
    _ingest(cli, [400, 300, 200, 100, 10, 1])
    cli.run("retention", "set", "--tenant", "acme", "--days", "150")
    hold = cli.json("holds", "add", "--tenant", "acme", "--reason", "audit", "--account", "acc_x")
    dry = cli.json("prune", "--dry-run")
    (found,) = dry["tenants"]
    assert (dry["dry_run"], found["events"], found["kept_from"]["seq"]) == (True, 3, 3)
    assert "legal hold" in found["kept_from"]["why"]
    cli.run("holds", "release", hold["id"], "--tenant", "acme")
    text = cli.run("prune", "--tenant", "acme", "--archive", "old.bundle.ndjson").stdout.decode()
    assert "acme: events 0..2 (3) pruned (keep 150 days); kept from seq 3: auth.login" in text
    assert "pruned 3 events in 1 tenants" in text
    verified = cli.run("verify").stdout.decode()
    assert "PRUNED acme: events 0..2 pruned on" in verified and "OK:" in verified
    archive = cli.json("verify", "old.bundle.ndjson", "--key", _vkey(cli))
    assert archive["ok"] and archive["events"] == 3
    assert cli.json("retention", "show", "--tenant", "acme")["prunes"][0]["last_seq"] == 2


def test_an_archive_needs_one_tenant(cli: Cli) -> None:
    refused = cli.run("prune", "--archive", "x.ndjson", check=False)
    assert refused.returncode == 2 and b"--tenant" in refused.stderr


def _vkey(cli: Cli) -> str:
    from sealtrail.ledger.checkpoint import load_signer_key

    path = cli.cwd / "sealtrail.vkey"
    path.write_text(load_signer_key(cli.cwd / "signing.key").vkey)
    return str(path)
