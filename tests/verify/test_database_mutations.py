"""The mutation suite: every tampering with the database is caught and localised."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sealtrail.ledger import tree
from sealtrail.ledger.checkpoint import Checkpoint, CheckpointSigner, origin_for_tenant
from sealtrail.store import open_store
from sealtrail.store.base import StoredCheckpoint

from .conftest import TENANTS, Fixture

COLUMNS = [
    "id",
    "action",
    "category",
    "kind",
    "occurred_at",
    "received_at",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_role",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "target_email",
    "resource_type",
    "resource_id",
    "resource_name",
    "account_id",
    "description",
    "context",
    "ip",
    "user_agent",
    "request_id",
    "salts",
]


def problems(fixture: Fixture) -> set[tuple[str, int | None]]:
    report = fixture.log.verify_database(fixture.vkey)
    return {(p.tenant_id, p.seq) for p in report.problems}


def test_an_untouched_log_verifies(signed_log: Fixture) -> None:
    report = signed_log.log.verify_database(signed_log.vkey)
    assert report.ok, report.problems
    assert report.events == 1000
    assert report.checkpoints == 6


def _changed_value(column: str, old: Any) -> object:
    if column in ("occurred_at", "received_at"):
        return int(old) + 1 if old is not None else 1
    if column == "salts":
        return bytes([old[0]]) + bytes(16) * ((len(old) - 1) // 16) if old else b"\x00"
    if column == "context":
        return '{"tampered": true}'
    if column == "ip":
        return "10.9.9.9"
    return f"{old}-x" if old is not None else "planted"


@pytest.mark.parametrize("column", COLUMNS)
def test_changing_any_field_of_a_sampled_row_is_caught_at_its_seq(
    signed_log: Fixture, column: str
) -> None:
    import sqlite3

    rng = random.Random(column)
    tenant = rng.choice(TENANTS)
    seq = rng.randrange(200)
    connection = sqlite3.connect(signed_log.path)
    old = connection.execute(
        f"SELECT {column} FROM events WHERE tenant_id = ? AND seq = ?", (tenant, seq)
    ).fetchone()[0]
    connection.close()
    signed_log.sql(
        f"UPDATE events SET {column} = ? WHERE tenant_id = '{tenant}' AND seq = {seq}",
        params=(_changed_value(column, old),),
    )
    found = problems(signed_log)
    assert (tenant, seq) in found
    assert {t for t, _ in found} == {tenant}


def test_deleting_rows_is_caught_at_their_seqs(signed_log: Fixture) -> None:
    signed_log.sql("DELETE FROM events WHERE tenant_id = 'globex' AND seq IN (17, 18)")
    found = problems(signed_log)
    assert ("globex", 17) in found


def test_swapping_neighbours_is_caught_at_both(signed_log: Fixture) -> None:
    signed_log.sql(
        "UPDATE events SET seq = -1 WHERE tenant_id = 'acme' AND seq = 40",
        "UPDATE events SET seq = 40 WHERE tenant_id = 'acme' AND seq = 41",
        "UPDATE events SET seq = 41 WHERE tenant_id = 'acme' AND seq = -1",
    )
    found = problems(signed_log)
    assert {("acme", 40), ("acme", 41)} <= found


def test_a_forged_row_is_caught(signed_log: Fixture) -> None:
    signed_log.sql(
        "INSERT INTO events (tenant_id, seq, id, action, category, kind, occurred_at, received_at,"
        " outcome, actor_type, actor_id, salts, leaf_hash)"
        " SELECT tenant_id, 250, 'forged', action, category, kind, occurred_at, received_at,"
        " outcome, actor_type, 'mallory', x'00', leaf_hash FROM events"
        " WHERE tenant_id = 'initech' AND seq = 3"
    )
    found = problems(signed_log)
    assert ("initech", 250) in found


def test_a_forged_row_with_its_own_leaf_breaks_the_signed_root(signed_log: Fixture) -> None:
    signed_log.sql(
        "UPDATE events SET actor_id = 'mallory', leaf_hash = randomblob(32)"
        " WHERE tenant_id = 'acme' AND seq = 5"
    )
    report = signed_log.log.verify_database(signed_log.vkey)
    assert not report.ok
    assert any(p.tenant_id == "acme" and p.seq == 5 for p in report.problems)


def test_truncating_and_resigning_with_the_real_key_is_caught(signed_log: Fixture) -> None:
    """An attacker with the key drops the newest events and signs the shorter tree."""
    store = open_store(f"sqlite:///{signed_log.path}")  # the attacker's own connection
    signed_log.sql("DELETE FROM events WHERE tenant_id = 'acme' AND seq >= 390")
    leaves = store.leaf_hashes("acme", 0, 390)
    grown = tree.append([], 0, leaves)
    signed_log.sql(
        "UPDATE tenants SET tree_size = 390, frontier = ? WHERE id = 'acme'",
        params=(b"".join(grown.frontier),),
    )
    signer = CheckpointSigner(signed_log.log.signer()._signer)  # the real key
    note = signer.sign(Checkpoint(origin_for_tenant("acme"), 390, grown.root), previous=None)
    store.add_checkpoint(StoredCheckpoint("acme", 390, grown.root, note, 0))
    store.close()
    found = problems(signed_log)
    assert ("acme", 390) in found
