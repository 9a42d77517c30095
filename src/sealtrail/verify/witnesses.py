"""Witness cosignatures on a bundle's checkpoint (c2sp.org/tlog-witness, tlog-cosignature).

A checkpoint the log's own key signed proves nothing against the key's holder; a
quorum of witnesses that each saw only consistent growth does.
"""

from __future__ import annotations

from sealtrail.errors import LedgerError
from sealtrail.ledger.cosignature import cosignatures
from sealtrail.ledger.policy import Policy
from sealtrail.verify.report import Report


def check_witnesses(report: Report, tenant_id: str, note: str, policy: Policy) -> None:
    """Fail unless the signed note carries the policy's quorum of valid cosignatures."""
    try:
        found = cosignatures(note, policy.witness_verifiers)
    except LedgerError as exc:
        report.add(tenant_id, None, f"a witness cosignature does not verify: {exc.message}")
        return
    if not policy.satisfied(found.timestamps):
        have = ", ".join(sorted(found.names)) or "none"
        report.add(
            tenant_id,
            None,
            f"the checkpoint lacks the witness quorum ({policy.describe()}); valid "
            f"cosignatures from: {have} — a fork or rollback signed with the log's own key "
            "looks exactly like this",
        )
        return
    report.prove(
        tenant_id,
        f"the checkpoint carries the witness quorum ({policy.describe()}): no fork or "
        "rollback of it was shown to those witnesses",
    )


__all__ = ["Policy", "check_witnesses"]
