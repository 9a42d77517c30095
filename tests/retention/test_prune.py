"""Pruning through AuditLog, on each engine: a prefix goes, the rest stays provable."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from sealtrail import pruning
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import InvalidEvent, PermissionDenied
from sealtrail.events import Actor
from sealtrail.ledger import leaf, merkle
from sealtrail.query import EventQuery, Page, parse_phrase
from sealtrail.retention import PRUNED_ACTION, RetentionPolicy, Rule
from sealtrail.verify import read_vkey, verify_bundle

from .conftest import event, write

OPERATOR = Principal.operator("acme")


def _seqs(log: AuditLog) -> list[int]:
    return sorted(e.seq for c in log.stream(OPERATOR, EventQuery(order="asc")) for e in c)


def _history(log: AuditLog) -> None:
    """60 events a day apart, 100 to 41 days ago, then 5 of today."""
    write(log, [event(100 - i, description=f"day {i}") for i in range(60)])
    write(log, [event(0.5) for _ in range(5)])


def test_nothing_is_pruned_by_default(log: AuditLog) -> None:
    _history(log)
    report = log.prune()
    assert report.events == 0 and _seqs(log) == list(range(65))
    assert log.prunes("acme") == []


def test_a_policy_prunes_the_expired_prefix_and_announces_it(log: AuditLog) -> None:
    _history(log)
    log.set_retention(OPERATOR, RetentionPolicy(70))
    before = log.checkpoint(OPERATOR)
    dry = log.prune(dry_run=True)
    assert dry.events == 31 and _seqs(log)[0] == 0  # a dry run changes nothing
    report = log.prune()
    (found,) = report.tenants
    assert (found.first_seq, found.below, found.deleted) == (0, 31, 31)
    assert found.stopped is not None and found.stopped.seq == 31
    remaining = _seqs(log)
    assert remaining[0] == 31 and remaining == list(range(31, len(remaining) + 31))
    announcement = log.search(OPERATOR, parse_phrase(f"action:{PRUNED_ACTION}"), Page()).events
    assert len(announcement) == 1 and announcement[0].context == {
        "first_seq": 0,
        "last_seq": 30,
        "events": 31,
        "policy": "keep 70 days",
        "active_holds": 0,
        "archived": False,
        "kept_from": 31,
    }
    # Every remaining event is provable, old checkpoints stay consistent, verify is clean.
    after = log.checkpoint(OPERATOR)
    for found_event in (e for c in log.stream(OPERATOR, EventQuery()) for e in c):
        proof = log.inclusion_proof(OPERATOR, found_event.seq)
        merkle.verify_inclusion(
            found_event.seq,
            after.tree_size,
            leaf.leaf_hash(found_event.to_dict(), found_event.salts),
            [base64.b64decode(h) for h in proof["proof"]],
            after.root_hash,
        )
    consistency = log.consistency_proof(OPERATOR, before.tree_size, after.tree_size)
    merkle.verify_consistency(
        before.tree_size,
        after.tree_size,
        [base64.b64decode(h) for h in consistency["proof"]],
        before.root_hash,
        after.root_hash,
    )
    verified = log.verify_database(log.verifier_key)
    assert verified.ok, verified.problems
    assert any("events 0..30 pruned on" in s.message for s in verified.pruned)
    assert log.prune().events == 0  # a second run has nothing left to do


def test_a_kept_event_stops_the_cut_there(log: AuditLog) -> None:
    """Pruning removes a prefix: an older event that must stay keeps everything after it."""
    write(log, [event(100), event(99, "auth.login"), event(98), event(97), event(1)])
    log.set_retention(OPERATOR, RetentionPolicy(30, (Rule("auth.", 365),)))
    (found,) = log.prune().tenants
    assert (found.first_seq, found.below) == (0, 1)
    assert found.stopped is not None and "auth.login" in found.stopped.why
    assert _seqs(log)[:4] == [1, 2, 3, 4]  # seq 2 and 3 expired, but come after seq 1


def test_an_event_recorded_late_with_an_old_time_does_not_open_a_gap(log: AuditLog) -> None:
    write(log, [event(5), event(100), event(100)])
    log.set_retention(OPERATOR, RetentionPolicy(30))
    assert log.prune().events == 0 and _seqs(log)[:3] == [0, 1, 2]


def test_a_legal_hold_stops_pruning_until_released(log: AuditLog) -> None:
    _history(log)
    log.set_retention(OPERATOR, RetentionPolicy(70))
    hold = log.add_hold(OPERATOR, "litigation 2026-114")
    report = log.prune()
    assert report.events == 0 and _seqs(log)[0] == 0
    assert report.tenants[0].stopped is not None
    assert "legal hold" in report.tenants[0].stopped.why
    log.release_hold(OPERATOR, hold.id)
    assert log.prune().events == 31
    actions = {e.action for c in log.stream(OPERATOR, EventQuery()) for e in c}
    assert {"audit_log.legal_hold_placed", "audit_log.legal_hold_released"} <= actions
    assert PRUNED_ACTION in actions


def test_a_hold_on_one_account_or_range_keeps_only_from_there(log: AuditLog) -> None:
    write(log, [event(100 - i, account_id="acc_b" if i == 20 else "acc_a") for i in range(40)])
    write(log, [event(1)])
    log.set_retention(OPERATOR, RetentionPolicy(30))
    log.add_hold(OPERATOR, "case", account_id="acc_b")
    log.add_hold(OPERATOR, "case", since="2000-01-01", until="2000-02-01")  # covers nothing
    assert log.prune().tenants[0].below == 20


def test_an_archive_is_a_bundle_of_the_pruned_range_that_verifies(
    log: AuditLog, tmp_path: Path
) -> None:
    _history(log)
    log.set_retention(OPERATOR, RetentionPolicy(70))
    archive = tmp_path / "pruned.bundle.ndjson"
    with archive.open("wb") as out:
        assert log.prune(tenants=["acme"], archive=out).tenants[0].archived
    lines = archive.read_bytes().splitlines()
    report = verify_bundle(lines, read_vkey(log.verifier_key), tenant="acme")
    assert report.ok, report.problems
    assert report.events == 31
    assert b"day 0" in archive.read_bytes()  # the pruned events themselves, salts and all


def test_a_complete_bundle_of_a_pruned_log_verifies_and_says_so(log: AuditLog) -> None:
    _history(log)
    older = log.checkpoint(OPERATOR)
    log.set_retention(OPERATOR, RetentionPolicy(70))
    log.prune()
    exported = b"".join(log.export(OPERATOR, EventQuery(), "bundle").chunks)
    report = verify_bundle(
        exported.splitlines(),
        read_vkey(log.verifier_key),
        require_complete=True,
        older_checkpoint=older.note,
    )
    assert report.ok, report.problems
    assert any("events 0..30 pruned on" in s.message for s in report.pruned)
    assert any("only grew" in s.message for s in report.proven)
    # Without the announcement line, the pruned range is simply missing.
    dropped = [line for line in exported.splitlines() if PRUNED_ACTION.encode() not in line]
    assert not verify_bundle(dropped, read_vkey(log.verifier_key), require_complete=True).ok


def test_clients_may_not_announce_a_prune(log: AuditLog) -> None:
    with pytest.raises(InvalidEvent, match="may not be recorded by a client") as refused:
        write(log, [event(1), event(1, PRUNED_ACTION)])
    assert refused.value.details[0].index == 1
    assert "recorded by Sealtrail itself" in refused.value.details[0].message
    assert log.tree_size("acme") == 0


def test_retention_needs_the_erase_scope_and_the_whole_tenant(log: AuditLog) -> None:
    reader = Principal("acme", "api_key", Actor("api_key", "k1"), frozenset({"events:read"}))
    assert log.retention(reader) == RetentionPolicy()
    with pytest.raises(PermissionDenied):
        log.set_retention(reader, {"days": 30})
    scoped = Principal(
        "acme", "viewer", Actor("user", "u"), frozenset({"events:erase"}), frozenset({"a"})
    )
    with pytest.raises(PermissionDenied):
        log.set_retention(scoped, {"days": 30})
    with pytest.raises(PermissionDenied):
        log.add_hold(reader, "case")
    log.set_retention(OPERATOR, {"days": 30, "rules": [{"action_prefix": "auth.", "days": 7}]})
    changed = log.search(OPERATOR, parse_phrase("action:audit_log.retention_changed"), Page())
    assert changed.events[0].context == {
        "before": {"days": None, "rules": []},
        "after": {"days": 30, "rules": [{"action_prefix": "auth.", "days": 7}]},
    }


def test_an_interrupted_prune_is_finished_by_the_next_run(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(log)
    log.set_retention(OPERATOR, RetentionPolicy(70))
    monkeypatch.setattr(pruning, "PRUNE_BATCH", 10)

    def crash(_: int) -> None:
        raise RuntimeError("killed after one batch")

    with pytest.raises(RuntimeError):
        log.prune(progress=crash)
    assert _seqs(log)[0] == 10  # one batch went
    assert log.verify_database(log.verifier_key).ok
    assert log.prune().events == 0  # nothing new to prune, but the rest of the range goes
    assert _seqs(log)[0] == 31
    assert all(p.finished_at is not None for p in log.prunes("acme"))
    assert log.verify_database(log.verifier_key).ok


def test_an_archive_names_one_tenant(log: AuditLog) -> None:
    log.create_tenant("other")
    with pytest.raises(Exception, match="one tenant"):
        log.prune(archive=io.BytesIO())
