"""Bundles: complete and partial, growth from an older checkpoint, tampering caught by seq."""

from __future__ import annotations

import orjson
import pytest

from sealtrail.auth import Principal
from sealtrail.ledger.checkpoint import Checkpoint, CheckpointSigner, origin_for_tenant
from sealtrail.ledger.note import Signer, parse_vkey
from sealtrail.query import parse_phrase
from sealtrail.verify import verify_bundle

from .conftest import Fixture


def export(fixture: Fixture, phrase: str = "", tenant: str = "acme") -> list[bytes]:
    chunks = fixture.log.export(Principal.operator(tenant), parse_phrase(phrase), "bundle")
    return b"".join(chunks.chunks).splitlines()


def check(
    fixture: Fixture, lines: list[bytes], older: str | None = None
) -> set[tuple[str, int | None]]:
    report = verify_bundle(iter(lines), parse_vkey(fixture.vkey), older_checkpoint=older)
    return {(p.tenant_id, p.seq) for p in report.problems}


@pytest.fixture
def older(signed_log: Fixture) -> str:
    """A checkpoint the auditor kept, then more events arrive."""
    kept = signed_log.log.checkpoint(Principal.operator("acme")).note
    signed_log.log.ingest(
        Principal.operator("acme"),
        {"events": [{"action": "auth.login", "actor": {"type": "user", "id": "late"}}] * 3},
    )
    return kept


def test_complete_and_partial_bundles_verify(signed_log: Fixture, older: str) -> None:
    complete = export(signed_log)
    assert orjson.loads(complete[0])["complete"] is True
    assert check(signed_log, complete, older) == set()
    partial = export(signed_log, "action:auth.login")
    header = orjson.loads(partial[0])
    assert header["complete"] is False
    assert header["consistency_proofs"]
    assert check(signed_log, partial, older) == set()


def test_an_older_checkpoint_of_another_history_is_caught(signed_log: Fixture, older: str) -> None:
    forged_root = bytes(32)
    size = int(older.split("\n")[1])
    signer = CheckpointSigner(signed_log.log.signer()._signer)
    fork = signer.sign(Checkpoint(origin_for_tenant("acme"), size, forged_root), previous=None)
    assert ("acme", None) in check(signed_log, export(signed_log), fork)
    assert ("acme", None) in check(signed_log, export(signed_log, "kind:access"), fork)


def test_a_checkpoint_from_another_key_is_refused(signed_log: Fixture) -> None:
    lines = export(signed_log)
    header = orjson.loads(lines[0])
    stranger = Signer.generate("sealtrail")
    text = header["checkpoint"].split("\n\n")[0] + "\n"
    from sealtrail.ledger.note import sign_note

    header["checkpoint"] = sign_note(text, stranger)
    lines[0] = orjson.dumps(header)
    assert check(signed_log, lines) == {("acme", None)}


def _mutate(lines: list[bytes], index: int, change: dict[str, object]) -> list[bytes]:
    out = list(lines)
    record = orjson.loads(out[index])
    record["event"].update(change)
    out[index] = orjson.dumps(record)
    return out


@pytest.mark.parametrize(
    "change",
    [
        {"action": "app.deleted"},
        {"description": "nothing to see"},
        {"occurred_at": "2020-01-01T00:00:00.000000Z"},
        {"ip": "10.6.6.6"},
        {"actor": {"type": "user", "id": "mallory"}},
        {"context": {"forged": True}},
        {"outcome": "success"},
    ],
)
def test_a_changed_event_is_caught_at_its_seq(
    signed_log: Fixture, change: dict[str, object]
) -> None:
    lines = export(signed_log)
    original = orjson.loads(lines[10])["event"]
    if change.get("outcome") == original["outcome"]:
        change = {"outcome": "failure" if original["outcome"] == "success" else "success"}
    seq = original["seq"]
    found = check(signed_log, _mutate(lines, 10, change))
    assert ("acme", seq) in found


def test_removed_reordered_and_inserted_events_are_caught(signed_log: Fixture) -> None:
    lines = export(signed_log)
    removed = lines[:20] + lines[21:]
    assert ("acme", 19) in check(signed_log, removed)
    swapped = list(lines)
    swapped[20], swapped[21] = swapped[21], swapped[20]
    assert ("acme", 20) in check(signed_log, swapped)
    forged = orjson.loads(lines[30])
    forged["event"]["id"] = "forged"
    inserted = [*lines[:-1], orjson.dumps(forged), lines[-1]]
    assert check(signed_log, inserted)
    truncated = lines[:-5]
    assert check(signed_log, truncated)


def test_partial_bundle_tampering(signed_log: Fixture) -> None:
    lines = export(signed_log, "outcome:failure")
    seq = orjson.loads(lines[3])["event"]["seq"]
    assert ("acme", seq) in check(signed_log, _mutate(lines, 3, {"outcome": "success"}))
    assert check(signed_log, [*lines, lines[3]])
