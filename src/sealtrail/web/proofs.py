"""The "verified ✓" mark: an event checked against the log's signed checkpoint.

For each event shown, the viewer recomputes the event's RFC 6962 leaf hash
from the content it displays (with the salts of its personal fields), checks
the inclusion proof from that leaf to the root of the latest checkpoint, and
checks the checkpoint's Ed25519 signature with the log's key. A row whose
content was altered in the database, or whose proof does not lead to the
signed root, is marked "not verified" with the reason.

The checkpoint is read and its signature checked once per page; each row then
costs one inclusion proof read from the stored tree.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import LedgerError, NotFound
from sealtrail.events import Event
from sealtrail.ledger import leaf, merkle
from sealtrail.ledger.checkpoint import Checkpoint, origin_for_tenant


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    message: str
    tree_size: int = 0
    root_hash: str = ""


def _b64(text: str) -> bytes:
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)


def verify_events(
    log: AuditLog, principal: Principal, events: Sequence[Event]
) -> dict[str, Verification]:
    """Each event's verification, by event id (events the principal may see)."""
    if not events:
        return {}
    try:
        stored = log.checkpoint(principal.tenant_id)
        signed = log.signer().open(stored.note, origin_for_tenant(principal.tenant_id))
    except LedgerError as exc:
        failed = Verification(False, f"the checkpoint does not verify: {exc.message}")
        return {e.id: failed for e in events}
    return {e.id: _verify(log, e, signed) for e in events}


def _verify(log: AuditLog, event: Event, signed: Checkpoint) -> Verification:
    root = base64.b64encode(signed.root_hash).decode("ascii")
    try:
        proof = log.inclusion_proof(event.tenant_id, event.seq, signed.size)
        computed = leaf.leaf_hash(event.to_dict(), event.salts)
        if computed != _b64(proof["leaf_hash"]):
            return Verification(
                False, "its content does not match the leaf the log recorded", signed.size, root
            )
        path = [_b64(p) for p in proof["proof"]]
        merkle.verify_inclusion(event.seq, signed.size, computed, path, signed.root_hash)
    except (LedgerError, NotFound, binascii.Error) as exc:
        message = exc.message if isinstance(exc, LedgerError | NotFound) else str(exc)
        return Verification(False, message, signed.size, root)
    return Verification(
        True,
        f"included in the signed tree of {signed.size:,} events",
        signed.size,
        root,
    )
