"""migrate, tenants, keys."""

from __future__ import annotations

from sealtrail.store.migrations import revisions

from .conftest import Cli


def test_migrate_is_idempotent_and_reports_the_revision(cli: Cli) -> None:
    assert cli.json("migrate") == {"applied": [], "revision": revisions("sqlite")[-1]}


def test_tenants_create_and_list_print_json(cli: Cli) -> None:
    created = cli.json("tenants", "create", "globex")
    assert created["id"] == "globex"
    assert created["name"] == "globex"
    assert [t["id"] for t in cli.json("tenants", "list")["tenants"]] == ["acme", "globex"]
    again = cli.run("tenants", "create", "acme", check=False)
    assert again.returncode == 1
    assert b"already exists" in again.stderr
    bad = cli.run("tenants", "create", "no spaces", check=False)
    assert bad.returncode == 1


def test_keys_are_shown_once_and_stored_as_hashes(cli: Cli) -> None:
    key = cli.json("keys", "create", "--tenant", "acme", "--scopes", "events:write,viewer:mint")
    assert set(key) == {"id", "key", "tenant_id", "scopes", "expires_at"}
    assert key["expires_at"] is None
    assert key["scopes"] == ["events:write", "viewer:mint"]
    assert key["key"].startswith("st_")
    listed = cli.json("keys", "list")["keys"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert key["key"] not in cli.run("keys", "list", "--json").stdout.decode()
    assert key["key"].encode() not in (cli.cwd / "cli.db").read_bytes()
    assert cli.json("keys", "revoke", key["id"]) == {"id": key["id"], "revoked": True}
    assert cli.run("keys", "revoke", key["id"], check=False).returncode == 1


def test_unknown_scope_and_tenant_are_errors(cli: Cli) -> None:
    result = cli.run("keys", "create", "--tenant", "acme", "--scopes", "admin", check=False)
    assert result.returncode == 1
    assert b"unknown scope admin" in result.stderr
    result = cli.run("keys", "create", "--tenant", "nobody", check=False)
    assert result.returncode == 1
    assert b"no tenant" in result.stderr


def test_every_command_has_help(cli: Cli) -> None:
    for command in (
        "serve",
        "demo",
        "migrate",
        "tenants",
        "keys",
        "ingest",
        "search",
        "export",
        "verify",
        "checkpoint",
    ):
        result = cli.run(command, "--help")
        assert b"Usage:" in result.stdout
        assert b"--database" in result.stdout or command in ("tenants", "keys")
