"""``sealtrail proof``: the standard file, through the entry point."""

from __future__ import annotations

from tests.independent.tlog_proof_verifier import verify

from .conftest import Cli


def test_the_cli_writes_the_same_standard_file(cli: Cli) -> None:
    cli.run(
        "ingest",
        "-",
        "--tenant",
        "acme",
        stdin=b'{"id": "x1", "action": "a.b", "actor": {"type": "user", "id": "u"}}\n',
    )
    vkey = cli.json("checkpoint")["verifier_key"]
    out = cli.cwd / "x1.tlog-proof"
    cli.run("proof", "x1", "--tenant", "acme", "-o", str(out))
    checked = verify(out.read_text(), origin="sealtrail/acme", log_vkey=vkey)
    assert checked.leaf["id"] == "x1"
    missing = cli.run("proof", "nope", "--tenant", "acme", check=False)
    assert missing.returncode == 1
    assert b"no event" in missing.stderr
