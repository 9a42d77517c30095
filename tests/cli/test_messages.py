"""What the CLI prints reads as English: counted nouns, unknown tenants named."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli


def test_keys_list_for_an_unknown_tenant_says_so(cli: Cli) -> None:
    result = cli.run("keys", "list", "--tenant", "ghost", check=False)
    assert result.returncode == 1
    assert result.stderr.decode() == "error: no tenant 'ghost'\n"
    assert result.stdout == b""


def test_one_of_each_is_singular(cli: Cli) -> None:
    line = json.dumps({"action": "member.invited", "actor": {"type": "user", "id": "u_1"}})
    ingested = cli.run("ingest", "-", "--tenant", "acme", stdin=line.encode() + b"\n")
    assert ingested.stdout.decode().strip() == (
        "1 event stored, 0 already present, 0 batches rejected, from 1 line"
    )
    rejected = cli.run("ingest", "-", "--tenant", "acme", stdin=b'{"action": "x"}\n', check=False)
    assert "1 batch rejected, from 1 line" in rejected.stdout.decode()
    signed = cli.run("checkpoint").stdout.decode().splitlines()
    assert signed[1].startswith("acme: 1 event, root ")
    verified = cli.run("verify").stdout.decode().strip().splitlines()[-1]
    assert verified == "OK: 1 event and 1 checkpoint checked in 1 tenant (acme)"
