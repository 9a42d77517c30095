"""The database mutation suite: each tampering is named by exactly its seqs.

Every case runs through ``sealtrail verify --database`` as an operator runs it:
with the verifier key file, with only the signing key configured, and with no
key at all (signatures unchecked, everything else the same, no key created).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sealtrail.ledger import leaf, tree
from sealtrail.ledger.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    load_signer_key,
    origin_for_tenant,
)
from sealtrail.store.base import StoredCheckpoint

from .conftest import TENANTS, Fixture, failed_seqs, run_cli

COLUMNS = [
    "id",
    "action",
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

KEYS = ("vkey file", "signing key", "no key")


def verify(fixture: Fixture, key: str = "vkey file", *extra: str) -> tuple[int, str, str]:
    directory = Path(fixture.path).parent
    args = ["verify", "--database", f"sqlite:///{fixture.path}", *extra]
    env: dict[str, str] = {}
    if key == "vkey file":
        args += ["--key", "log.vkey"]
    elif key == "signing key":
        env["SEALTRAIL_SIGNING_KEY_FILE"] = str(directory / "k.key")
    result = run_cli(*args, cwd=directory, env=env)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout, result.stderr


def rewrite_leaf(fixture: Fixture, tenant: str, seq: int) -> None:
    """Change a row and store the leaf hash of the changed row, as a careful attacker would."""
    store = fixture.store
    event = store.get_events_by_seq(tenant, [seq])[0]
    forged = replace(event, actor=replace(event.actor, id="mallory"))
    fixture.sql(
        "UPDATE events SET actor_id = 'mallory', leaf_hash = ?"
        f" WHERE tenant_id = '{tenant}' AND seq = {seq}",
        params=(leaf.leaf_hash(forged.to_dict(), forged.salts),),
    )


def rewrite_tree(fixture: Fixture, tenant: str) -> None:
    """Recompute every stored node and the tree head from the (tampered) leaf hashes."""
    store = fixture.store
    size = store.tree_head(tenant).size
    grown = tree.append([], 0, store.leaf_hashes(tenant, 0, size))
    for level, index, value in grown.new_nodes:
        if level:
            fixture.sql(
                f"UPDATE tree_nodes SET hash = ? WHERE tenant_id = '{tenant}'"
                f" AND level = {level} AND idx = {index}",
                params=(value,),
            )
    fixture.sql(
        f"UPDATE tenants SET frontier = ? WHERE id = '{tenant}'",
        params=(b"".join(grown.frontier),),
    )


def rewrite_everything(fixture: Fixture, tenant: str, seq: int) -> None:
    """A row, its leaf hash, every tree node and the tree head: only checkpoints disagree."""
    rewrite_leaf(fixture, tenant, seq)
    rewrite_tree(fixture, tenant)


def truncate_and_resign(fixture: Fixture) -> None:
    """Drop acme's newest ten events and sign the shorter tree with the real key."""
    store = fixture.store
    fixture.sql("DELETE FROM events WHERE tenant_id = 'acme' AND seq >= 390")
    grown = tree.append([], 0, store.leaf_hashes("acme", 0, 390))
    fixture.sql(
        "UPDATE tenants SET tree_size = 390, frontier = ? WHERE id = 'acme'",
        params=(b"".join(grown.frontier),),
    )
    signer = CheckpointSigner(load_signer_key(Path(fixture.path).parent / "k.key"))  # the real key
    note = signer.sign(Checkpoint(origin_for_tenant("acme"), 390, grown.root), previous=None)
    store.add_checkpoint(StoredCheckpoint("acme", 390, grown.root, note, 0))


def _swap(fixture: Fixture) -> None:
    fixture.sql(
        "UPDATE events SET seq = -1 WHERE tenant_id = 'acme' AND seq = 40",
        "UPDATE events SET seq = 40 WHERE tenant_id = 'acme' AND seq = 41",
        "UPDATE events SET seq = 41 WHERE tenant_id = 'acme' AND seq = -1",
    )


def _forged_row(fixture: Fixture) -> None:
    fixture.sql(
        "INSERT INTO events (tenant_id, seq, id, action, category, kind, occurred_at, received_at,"
        " outcome, actor_type, actor_id, salts, leaf_hash)"
        " SELECT tenant_id, 250, 'forged', action, category, kind, occurred_at, received_at,"
        " outcome, actor_type, 'mallory', x'', leaf_hash FROM events"
        " WHERE tenant_id = 'initech' AND seq = 3"
    )


Mutation = Callable[[Fixture], None]
CASES: dict[str, tuple[Mutation, list[tuple[str, set[int] | None]]]] = {
    "a changed row": (
        lambda f: f.sql("UPDATE events SET actor_id = 'x' WHERE tenant_id = 'acme' AND seq = 123"),
        [("acme", {123})],
    ),
    "a changed row with its leaf hash rewritten": (
        lambda f: rewrite_leaf(f, "acme", 123),
        [("acme", {122, 123})],
    ),
    "a zeroed level-1 node": (
        lambda f: f.sql(
            "UPDATE tree_nodes SET hash = zeroblob(32)"
            " WHERE tenant_id = 'acme' AND level = 1 AND idx = 44"
        ),
        [("acme", {90, 91})],
    ),
    "a zeroed level-2 node": (
        lambda f: f.sql(
            "UPDATE tree_nodes SET hash = zeroblob(32)"
            " WHERE tenant_id = 'acme' AND level = 2 AND idx = 22"
        ),
        [("acme", {92, 93, 94, 95})],
    ),
    "a deleted node": (
        lambda f: f.sql(
            "DELETE FROM tree_nodes WHERE tenant_id = 'globex' AND level = 1 AND idx = 44"
        ),
        [("globex", {90, 91})],
    ),
    "a deleted row": (
        lambda f: f.sql("DELETE FROM events WHERE tenant_id = 'globex' AND seq = 17"),
        [("globex", {17})],
    ),
    "two deleted rows": (
        lambda f: f.sql("DELETE FROM events WHERE tenant_id = 'globex' AND seq IN (17, 18)"),
        [("globex", {17, 18})],
    ),
    "two rows swapped": (_swap, [("acme", {40}), ("acme", {41})]),
    "a forged row past the end": (_forged_row, [("initech", {250})]),
    "the newest rows removed": (
        lambda f: f.sql("DELETE FROM events WHERE tenant_id = 'acme' AND seq >= 390"),
        [("acme", set(range(390, 400)))],
    ),
    "a truncation re-signed with the real key": (
        truncate_and_resign,
        [("acme", set(range(390, 400)))],
    ),
    "a row, its leaf and the whole tree rewritten": (
        lambda f: rewrite_everything(f, "acme", 300),
        [("acme", set(range(200, 400)))],
    ),
}


def _fail_lines(out: str) -> list[tuple[str, set[int] | None]]:
    lines = [line for line in out.splitlines() if line.startswith("FAIL ")]
    tenants = [line.removeprefix("FAIL ").split()[0].rstrip(":") for line in lines]
    return list(zip(tenants, failed_seqs(out), strict=True))


@pytest.mark.parametrize("key", ["vkey file", "no key"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_tampering_is_named_by_exactly_its_seqs(
    signed_log: Fixture, case: str, key: str
) -> None:
    mutate, expected = CASES[case]
    mutate(signed_log)
    code, out, err = verify(signed_log, key)
    assert code == 1, out
    assert _fail_lines(out) == expected, out
    if key == "no key":
        assert "signatures were not checked" in out
        assert "SEALTRAIL_SIGNING_KEY_FILE" in err
        assert not (Path(signed_log.path).parent / "sealtrail-signing.key").exists()


@pytest.mark.parametrize(
    ("key", "case"),
    [
        ("signing key", "a changed row with its leaf hash rewritten"),
        ("signing key", "a deleted node"),
    ],
)
def test_the_signing_key_file_verifies_as_the_vkey_does(
    signed_log: Fixture, key: str, case: str
) -> None:
    mutate, expected = CASES[case]
    mutate(signed_log)
    code, out, _ = verify(signed_log, key)
    assert (code, _fail_lines(out)) == (1, expected)
    assert "signatures were not checked" not in out


@pytest.mark.parametrize("key", KEYS)
def test_an_untouched_log_verifies(signed_log: Fixture, key: str) -> None:
    code, out, _ = verify(signed_log, key)
    assert code == 0, out
    assert "FAIL" not in out and "WARN" not in out
    assert "OK: 1000 events and" in out


@pytest.mark.parametrize(
    "case", ["a changed row with its leaf hash rewritten", "a zeroed level-1 node"]
)
def test_without_later_checkpoints_the_tree_still_names_the_seqs(
    signed_log: Fixture, case: str
) -> None:
    signed_log.sql("DELETE FROM checkpoints WHERE tenant_id = 'acme' AND tree_size > 200")
    mutate, expected = CASES[case]
    mutate(signed_log)
    code, out, _ = verify(signed_log)
    assert code == 1
    assert _fail_lines(out) == expected


def test_a_rewrite_after_the_newest_checkpoint_is_stated_unproven(signed_log: Fixture) -> None:
    """With the later checkpoints gone, a consistent rewrite is not evidence: say so."""
    signed_log.sql("DELETE FROM checkpoints WHERE tenant_id = 'acme' AND tree_size > 200")
    rewrite_everything(signed_log, "acme", 300)
    code, out, _ = verify(signed_log)
    assert code == 0
    assert "NOT PROVEN acme: seq 200..399 are newer than the newest checkpoint" in out


def test_missing_checkpoints_are_a_warning(signed_log: Fixture) -> None:
    signed_log.sql("DELETE FROM checkpoints")
    code, out, _ = verify(signed_log)
    assert code == 0
    warnings = [line for line in out.splitlines() if line.startswith("WARN ")]
    assert [w.split()[1] for w in warnings] == ["acme:", "globex:", "initech:"]
    assert "no checkpoint: nothing signed vouches for its 400 events" in out


def test_a_checkpoint_forged_with_another_key_is_refused(signed_log: Fixture) -> None:
    from sealtrail.ledger.note import Signer

    stranger = CheckpointSigner(Signer.generate("sealtrail"))
    head = signed_log.store.tree_head("initech")
    root = tree.root_from_frontier(head.frontier, head.size)
    note = stranger.sign(Checkpoint(origin_for_tenant("initech"), 100, root), previous=None)
    signed_log.sql(
        "UPDATE checkpoints SET note = ? WHERE tenant_id = 'initech' AND tree_size = 250",
        params=(note,),
    )
    code, out, _ = verify(signed_log)
    assert code == 1
    assert _fail_lines(out) == [("initech", None)]


def test_a_vkey_with_surrounding_whitespace_is_read(signed_log: Fixture) -> None:
    directory = Path(signed_log.path).parent
    (directory / "log.vkey").write_text(f"\n {signed_log.vkey}  \n\n")
    code, out, _ = verify(signed_log)
    assert code == 0, out


def test_without_a_key_nothing_is_created_and_the_setting_is_named(signed_log: Fixture) -> None:
    code, out, err = verify(signed_log, "no key")
    assert code == 0, out
    assert "NOT PROVEN acme: checkpoint signatures were not checked" in out
    assert "Pass --key VKEY_FILE, or set SEALTRAIL_SIGNING_KEY_FILE" in err
    assert sorted(p.name for p in Path(signed_log.path).parent.iterdir()) == [
        "k.key",
        "log.db",
        "log.vkey",
    ]


@pytest.mark.parametrize("column", COLUMNS)
def test_changing_any_field_of_a_sampled_row_is_caught_at_its_seq(
    signed_log: Fixture, column: str
) -> None:
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
    from sealtrail.verify import verify_store

    report = verify_store(signed_log.store, signed_log.vkey)
    assert [(p.tenant_id, set(p.seqs)) for p in report.problems] == [(tenant, {seq})]


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


def test_a_signed_empty_tree_before_the_events_verifies(signed_log: Fixture) -> None:
    """A signer may sign a tenant's empty tree before its first event (at startup)."""
    from sealtrail.ledger import merkle

    signer = CheckpointSigner(load_signer_key(Path(signed_log.path).parent / "k.key"))
    note = signer.sign(Checkpoint(origin_for_tenant("acme"), 0, merkle.EMPTY_ROOT), previous=None)
    signed_log.store.add_checkpoint(StoredCheckpoint("acme", 0, merkle.EMPTY_ROOT, note, 0))
    code, out, _ = verify(signed_log)
    assert code == 0, out
    signed_log.sql("UPDATE checkpoints SET root_hash = zeroblob(32) WHERE tree_size = 0")
    assert verify(signed_log)[0] == 1
