"""What the signer refuses shows on readiness and in the counters, in one process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.ledger.checkpoint import Checkpoint, CheckpointSigner
from sealtrail.ledger.note import Signer
from sealtrail.settings import Settings


def _log(tmp_path: Path) -> AuditLog:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'log.db'}",
        signing_key_file=str(tmp_path / "signing.key"),
    )
    return AuditLog.open(settings=settings)


def test_a_checkpoint_row_the_key_never_signed_stops_signing_loudly(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.migrate()
    log.create_tenant("acme")
    for i in range(5):
        log.record(action="member.invited", tenant="acme", actor={"type": "user", "id": f"u{i}"})
    assert log.checkpoint(Principal.operator("acme")).tree_size == 5
    assert log.readiness().ready
    log.close()
    stranger = CheckpointSigner(Signer("sealtrail", bytes(32)))
    forged = Checkpoint("sealtrail/acme", 9, bytes(32))
    with sqlite3.connect(tmp_path / "log.db") as db:
        db.execute(
            "INSERT INTO checkpoints VALUES ('acme', 9, ?, ?, 0)",
            (forged.root_hash, stranger.sign(forged, previous=None)),
        )
    restarted = _log(tmp_path)
    readiness = restarted.readiness()
    assert not readiness.ready
    assert readiness.signer_refused is not None
    assert "size 9 is not signed by this log's key" in readiness.signer_refused["acme"]
    assert restarted.signer_refusal_count() == 1
    restarted.close()
