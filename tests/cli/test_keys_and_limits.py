"""Keys an operator can live with, and a tenant's rate limits, through `sealtrail`."""

from __future__ import annotations

from sealtrail.audit_log import AuditLog
from sealtrail.events import parse_timestamp
from sealtrail.settings import Settings

from .conftest import Cli

DAY = 86_400_000_000


def _actions(cli: Cli) -> list[str]:
    found = cli.json("search", "--tenant", "acme", "action:audit_log.*")["events"]
    return [e["action"] for e in reversed(found)]


def test_a_key_with_an_expiry_is_rotated_with_an_overlap_and_listed(cli: Cli) -> None:
    old = cli.json("keys", "create", "--tenant", "acme", "--expires-in", "90d", "--name", "ci")
    made = parse_timestamp(old["expires_at"])
    rotated = cli.json("keys", "rotate", old["id"], "--overlap", "2h")
    assert rotated["replaces"] == old["id"] and rotated["key"].startswith("st_")
    assert rotated["scopes"] == old["scopes"]
    # The new key lives 90 days too; the old one ends when the overlap does.
    assert abs(parse_timestamp(rotated["expires_at"]) - made - 0) < DAY
    ends = parse_timestamp(rotated["old_key_expires_at"])
    assert ends < made and ends <= parse_timestamp(rotated["expires_at"]) - 89 * DAY
    listed = {k["id"]: k for k in cli.json("keys", "list", "--tenant", "acme")["keys"]}
    assert listed[old["id"]]["state"] == "rotated"
    assert listed[old["id"]]["replaced_by"] == rotated["id"]
    assert listed[rotated["id"]]["state"] == "active"
    assert listed[rotated["id"]]["last_used_at"] is None
    again = cli.run("keys", "rotate", old["id"], check=False)
    assert again.returncode == 1
    assert again.stderr.decode().strip() == (
        f"error: API key {old['id']} was already rotated to {rotated['id']}"
    )
    cli.run("keys", "revoke", rotated["id"])
    assert _actions(cli) == [
        "audit_log.api_key_created",
        "audit_log.api_key_rotated",
        "audit_log.api_key_revoked",
    ]
    table = cli.run("keys", "list").stdout.decode().splitlines()
    assert table[0].split("\t") == [
        "ID", "TENANT", "SCOPES", "STATE", "EXPIRES", "LAST USED", "NAME"
    ]  # fmt: skip
    assert any(line.startswith(rotated["id"]) and "\trevoked\t" in line for line in table)


def test_last_use_shows_in_the_list(cli: Cli) -> None:
    key = cli.json("keys", "create", "--tenant", "acme")
    log = AuditLog.open(settings=Settings(database_url=cli.database))
    try:
        log.authenticate_api_key(key["key"])  # what every API request does first
    finally:
        log.close()
    (listed,) = cli.json("keys", "list", "--tenant", "acme")["keys"]
    assert listed["last_used_at"] is not None and listed["expires_at"] is None
    assert listed["state"] == "active"


def test_bad_durations_are_one_line(cli: Cli) -> None:
    for args in (
        ("keys", "create", "--tenant", "acme", "--expires-in", "soon"),
        ("keys", "create", "--tenant", "acme", "--expires-in", "0d"),
        ("keys", "rotate", "0123456789abcdef", "--overlap", "-1h"),
    ):
        result = cli.run(*args, check=False)
        assert result.returncode == 1, args
        message = result.stderr.decode().strip()
        assert message.startswith("error: --") and "\n" not in message, message
        assert "Traceback" not in message


def test_a_tenants_rate_limits_are_set_shown_and_recorded(cli: Cli) -> None:
    shown = cli.json("tenants", "limits", "show", "--tenant", "acme")
    assert shown["limits"] == {
        "key_writes": 2000,
        "tenant_writes": 5000,
        "key_reads": 100,
        "tenant_reads": 200,
    }
    assert set(shown["tenant"].values()) == {None}
    changed = cli.json(
        "tenants", "limits", "set", "--tenant", "acme", "--key-writes", "300", "--key-reads", "9"
    )
    assert changed["limits"]["key_writes"] == 300 and changed["tenant"]["key_reads"] == 9
    kept = cli.json("tenants", "limits", "set", "--tenant", "acme", "--key-reads", "default")
    assert kept["tenant"] == {
        "key_writes": 300,
        "tenant_writes": None,
        "key_reads": None,
        "tenant_reads": None,
    }
    assert kept["limits"]["key_reads"] == 100
    text = cli.run("tenants", "limits", "show", "--tenant", "acme").stdout.decode()
    assert "key writes" in text and "(tenant)" in text and "(default)" in text
    assert _actions(cli) == ["audit_log.rate_limits_changed"] * 2


def test_bad_rate_limits_are_one_line(cli: Cli) -> None:
    for args, expected in (
        (("--key-writes", "10"), "error: key_writes must be 100.."),
        (("--key-reads", "lots"), "error: --key-reads must be a whole number"),
    ):
        result = cli.run("tenants", "limits", "set", "--tenant", "acme", *args, check=False)
        assert result.returncode == 1
        assert result.stderr.decode().startswith(expected), result.stderr
    unknown = cli.run("tenants", "limits", "show", "--tenant", "nobody", check=False)
    assert unknown.returncode == 1 and b"no tenant" in unknown.stderr
    nothing = cli.run("tenants", "limits", "set", "--tenant", "acme", check=False)
    assert nothing.returncode == 2 and b"name at least one of" in nothing.stderr
