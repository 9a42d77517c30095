"""search --saved NAME: the tenant's shared saved search, by name, through the real CLI."""

from __future__ import annotations

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import Actor
from sealtrail.saved_searches import SavedSearchRequest
from sealtrail.settings import Settings

from .conftest import Cli
from .test_events import ev, lines


def _save(cli: Cli, principal: Principal, name: str, phrase: str, shared: bool) -> None:
    log = AuditLog.open(settings=Settings(database_url=cli.database))
    try:
        log.save_search(principal, SavedSearchRequest.of(name, phrase, shared))
    finally:
        log.close()


def test_search_runs_the_tenants_shared_saved_search(cli: Cli) -> None:
    data = lines(ev("a"), ev("b", outcome="failure", action="auth.login"), ev("c"))
    cli.json("ingest", "-", "--tenant", "acme", stdin=data)
    _save(cli, Principal.operator("acme"), "Failures", "outcome:failure", shared=True)
    owner = Principal(
        "acme",
        "viewer",
        Actor("user", "usr_ann", role="owner"),
        frozenset({"events:read"}),
        role="owner",
    )
    _save(cli, owner, "Ann's invites", "action:member.invited", shared=False)
    found = cli.json("search", "--saved", "Failures", "--tenant", "acme")
    assert [e["id"] for e in found["events"]] == ["b"]
    plain = cli.run("search", "--saved", "Failures", "--tenant", "acme").stdout.decode()
    assert "auth.login" in plain and "member.invited" not in plain
    # a viewer's private search is theirs alone: the operator finds only shared ones
    missing = cli.run("search", "--saved", "Ann's invites", "--tenant", "acme", check=False)
    assert missing.returncode == 1
    assert missing.stderr.decode() == (
        "error: no saved search named \"Ann's invites\" (there are: 'Failures')\n"
    )


def test_a_phrase_and_saved_together_are_a_usage_error(cli: Cli) -> None:
    both = cli.run("search", "kind:create", "--saved", "x", "--tenant", "acme", check=False)
    assert both.returncode == 2
    assert "give a PHRASE or --saved NAME, not both" in both.stderr.decode()
    none = cli.run("search", "--saved", "x", "--tenant", "acme", check=False)
    assert none.returncode == 1
    assert none.stderr.decode() == "error: no saved search named 'x' (there are: none)\n"
