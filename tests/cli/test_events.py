"""ingest, search, export, checkpoint, verify."""

from __future__ import annotations

import json

import orjson

from .conftest import Cli


def lines(*events: dict[str, object]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def ev(ident: str, **fields: object) -> dict[str, object]:
    return {
        "id": ident,
        "action": "member.invited",
        "actor": {"type": "user", "id": "u1", "email": "ann@x.com"},
        **fields,
    }


def test_ingest_search_and_resend(cli: Cli) -> None:
    data = lines(ev("a"), ev("b", outcome="failure", action="auth.login"), ev("c"))
    summary = cli.json("ingest", "-", "--tenant", "acme", stdin=data)
    assert summary == {
        "lines": 3,
        "stored": 3,
        "duplicates": 0,
        "rejected_batches": 0,
        "errors": [],
    }
    again = cli.json("ingest", "-", "--tenant", "acme", stdin=data)
    assert (again["stored"], again["duplicates"]) == (0, 3)
    found = cli.json("search", "outcome:failure", "--tenant", "acme")
    assert [e["id"] for e in found["events"]] == ["b"]
    plain = cli.run("search", "action:member.*", "--tenant", "acme").stdout.decode()
    assert plain.count("member.invited") == 2


def test_a_bad_line_is_reported_by_number_and_its_batch_is_not_stored(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.ndjson"
    path.write_bytes(
        lines(ev("a"), ev("b")) + b"\n" + b'{"action": NaN}\n' + lines(ev("c", ip="nope"))
    )
    result = cli.run("ingest", str(path), "--tenant", "acme", check=False)
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "line 4:" in err
    assert "line 5: ip" in err
    assert cli.json("search", "--tenant", "acme")["events"] == []


def test_search_phrase_errors_point_at_the_token(cli: Cli) -> None:
    result = cli.run("search", "colour:red", "--tenant", "acme", check=False)
    assert result.returncode == 1
    assert b"colour" in result.stderr


def test_export_bundle_verifies_offline_and_tampering_is_caught(cli: Cli) -> None:
    cli.run("ingest", "-", "--tenant", "acme", stdin=lines(*(ev(f"e{i}") for i in range(25))))
    first = cli.json("checkpoint")
    older = cli.cwd / "older.txt"
    older.write_text(first["checkpoints"][0]["checkpoint"])
    (cli.cwd / "sealtrail.vkey").write_text(first["verifier_key"] + "\n")
    cli.run("ingest", "-", "--tenant", "acme", stdin=lines(ev("late")))
    bundle = cli.cwd / "acme.bundle"
    cli.run("export", "--tenant", "acme", "--format", "bundle", "-o", str(bundle))
    report = cli.json("verify", str(bundle), "--key", "sealtrail.vkey")
    assert report["ok"], report
    assert report["events"] == 27  # 25 + late + the export's own audit_log.exported
    # Tamper with one event: caught at its seq, exit status 1.
    text = bundle.read_text().splitlines()
    record = json.loads(text[5])
    record["event"]["actor"]["email"] = "mallory@x.com"
    text[5] = json.dumps(record)
    bundle.write_text("\n".join(text) + "\n")
    result = cli.run("verify", str(bundle), "--key", "sealtrail.vkey", "--json", check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert {p["seq"] for p in problems} >= {record["event"]["seq"]}


def test_verify_database_and_checkpoint(cli: Cli) -> None:
    cli.run("ingest", "-", "--tenant", "acme", stdin=lines(*(ev(f"e{i}") for i in range(10))))
    signed = cli.json("checkpoint")
    assert signed["checkpoints"][0]["tree_size"] == 10
    report = cli.json("verify")
    assert report["ok"]
    assert report["events"] == 10


def test_export_csv_and_ndjson(cli: Cli) -> None:
    cli.run("ingest", "-", "--tenant", "acme", stdin=lines(ev("a", description="=2+2"), ev("b")))
    csv_text = cli.run(
        "export", "--tenant", "acme", "--format", "csv", "--phrase", "=2+2"
    ).stdout.decode()
    assert '"\'=2+2"' in csv_text
    ndjson = cli.run("export", "--tenant", "acme", "--format", "ndjson").stdout
    assert len(ndjson.splitlines()) == 4  # two events and the two exports themselves
