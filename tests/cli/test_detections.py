"""``sealtrail detections``: rules, hours, a replay of history, alerts — through the CLI."""

from __future__ import annotations

import json

from ..detections.scenario import build
from .conftest import Cli


def test_replaying_history_shows_what_each_rule_would_have_opened(cli: Cli) -> None:
    history = build()
    ndjson = "".join(json.dumps(e) + "\n" for e in history.events).encode()
    cli.run("ingest", "-", "--tenant", "acme", stdin=ndjson)
    for expected in history.expected[:2]:
        found = cli.json("detections", "test", expected.rule, "--tenant", "acme", "--since", "30d")
        assert [tuple(a["event_ids"]) for a in found["alerts"]] == [expected.event_ids]
    plain = cli.run("detections", "test", "mass-deletion", "--tenant", "acme").stdout.decode()
    assert "Many deletions by one actor (actor u1@acme.test): 25 events" in plain
    assert plain.endswith("1 alert would have opened\n")
    # Nothing was stored: the replay opens no alert.
    assert cli.json("detections", "alerts", "--tenant", "acme") == {"alerts": []}


def test_rules_are_listed_added_tuned_disabled_and_reset(cli: Cli) -> None:
    rules = cli.json("detections", "list", "--tenant", "acme")
    assert len(rules["rules"]) == 9
    assert rules["settings"] == {"timezone": "UTC", "business_hours": "Mon-Fri 08:00-18:00"}
    added = cli.json(
        "detections",
        "add",
        "big-exports",
        "--tenant",
        "acme",
        "--phrase",
        "action:audit_log.exported",
        "--severity",
        "high",
        "--condition",
        "count >= 3 within 1h by actor",
        "--context",
        "format=csv,ndjson",
    )
    assert added["condition"] == "count >= 3 within 1h by actor"
    assert added["context"] == {"format": ["csv", "ndjson"]}
    tuned = cli.json(
        "detections",
        "set",
        "mass-deletion",
        "--tenant",
        "acme",
        "--condition",
        "count >= 50 within 15m by actor",
    )
    assert (tuned["condition"], tuned["builtin"]) == ("count >= 50 within 15m by actor", True)
    assert (
        cli.json("detections", "disable", "login-from-new-ip", "--tenant", "acme")["enabled"]
        is False
    )
    reset = cli.json("detections", "remove", "mass-deletion", "--tenant", "acme")
    assert reset["reset"]["condition"] == "count >= 20 within 10m by actor"
    hours = cli.json(
        "detections",
        "hours",
        "--tenant",
        "acme",
        "--timezone",
        "Europe/Berlin",
        "--business-hours",
        "Mon-Thu 09:00-17:30",
    )
    assert hours == {"timezone": "Europe/Berlin", "business_hours": "Mon-Thu 09:00-17:30"}
    listed = cli.run("detections", "list", "--tenant", "acme").stdout.decode()
    assert "off login-from-new-ip" in listed and "on  big-exports" in listed
    assert "business hours: Mon-Thu 09:00-17:30 (Europe/Berlin)" in listed


def test_bad_rules_are_one_line(cli: Cli) -> None:
    for args, message in [
        (("--condition", "first time (actor, country)"), "GeoIP"),
        (("--phrase", "action:"), "phrase:"),
    ]:
        base = ["detections", "add", "r", "--tenant", "acme", "--severity", "low"]
        if "--phrase" not in args:
            base += ["--phrase", "kind:delete"]
        done = cli.run(*base, *args, check=False)
        assert done.returncode == 1
        lines = done.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
    missing = cli.run("detections", "ack", "nope", "--tenant", "acme", check=False)
    assert missing.stderr.decode().strip() == "error: no alert 'nope'"
