"""The "verified ✓" mark: an event checked against the log's signed checkpoint.

For each event shown, the viewer asks ``AuditLog.verify_events``, which
recomputes the event's RFC 6962 leaf hash from the content it displays (with
the salts of its personal fields), checks the inclusion proof from that leaf to
the root of the latest checkpoint, and checks the checkpoint's Ed25519
signature with the log's key. A row whose content was altered in the database,
or whose proof does not lead to the signed root, is marked "not verified" with
the reason.

The checkpoint is read and its signature checked once per call; each event
then costs one inclusion proof read from the stored tree.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sealtrail.errors import LedgerError, NotFound
from sealtrail.events import Event
from sealtrail.ledger import leaf, merkle
from sealtrail.ledger.checkpoint import Checkpoint


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    message: str
    tree_size: int = 0
    root_hash: str = ""


def unsigned(message: str) -> Verification:
    """Every event's mark when the checkpoint itself does not verify."""
    return Verification(False, f"the checkpoint does not verify: {message}")


def _b64(text: str) -> bytes:
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)


def check(
    event: Event, signed: Checkpoint, prove: Callable[[int, int], Mapping[str, Any]]
) -> Verification:
    """``event`` against the signed checkpoint; ``prove(seq, size)`` gives its inclusion proof."""
    root = base64.b64encode(signed.root_hash).decode("ascii")
    try:
        proof = prove(event.seq, signed.size)
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
