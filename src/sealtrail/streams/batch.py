"""What one delivery carries: a range of a tenant's log and the checkpoint that covers it.

A stream reads its tenant's log by ``seq``. A batch covers the whole range
``first_seq..last_seq``; its ``events`` are the events of that range that pass the
stream's filter (possibly none), in ``seq`` order. The latest signed checkpoint covers
the range (its tree size is greater than ``last_seq``), so a receiver that checks the
checkpoint's signature and that each batch starts where the previous one ended knows it
missed nothing. A ``consistency`` proof from the checkpoint the receiver acknowledged last
shows the log only grew in between.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sealtrail.errors import InvalidInput, NoteError
from sealtrail.events import Event
from sealtrail.ledger import Checkpoint, origin_for_tenant, parse_note

__all__ = ["BATCH_TYPE", "Batch", "ConsistencyProof"]

BATCH_TYPE = "sealtrail.batch"
"""The ``type`` member of every batch header (Standard Webhooks' payload ``type``)."""


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """RFC 6962 consistency proof from tree size ``from_size`` to ``to_size``."""

    from_size: int
    to_size: int
    hashes: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_size": self.from_size,
            "to_size": self.to_size,
            "hashes": [base64.b64encode(h).decode("ascii") for h in self.hashes],
        }


@dataclass(frozen=True, slots=True)
class Batch:
    """Events ``first_seq..last_seq`` of one tenant's log, with a covering checkpoint.

    Construction checks the invariants a receiver relies on and raises InvalidInput
    when one does not hold: the range is ordered, every event belongs to the tenant and
    lies in the range in ascending ``seq`` order, and the checkpoint is a signed note
    for this tenant's origin whose tree size exceeds ``last_seq``. (Its signature is
    the receiver's to check; the sender only makes sure it sends the right one.)
    """

    tenant_id: str
    first_seq: int
    last_seq: int
    events: tuple[Event, ...]
    checkpoint: str
    consistency: ConsistencyProof | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.first_seq <= self.last_seq:
            raise InvalidInput(f"a batch range {self.first_seq}..{self.last_seq} is not ordered")
        previous = self.first_seq - 1
        for event in self.events:
            if event.tenant_id != self.tenant_id:
                raise InvalidInput(f"event {event.id!r} belongs to another tenant")
            if not previous < event.seq <= self.last_seq:
                raise InvalidInput(
                    f"event seq {event.seq} is out of order or outside "
                    f"{self.first_seq}..{self.last_seq}"
                )
            previous = event.seq
        size = self.tree_size
        if size <= self.last_seq:
            raise InvalidInput(f"checkpoint of size {size} does not cover seq {self.last_seq}")
        proof = self.consistency
        if proof is not None and (proof.to_size != size or proof.from_size > size):
            raise InvalidInput(
                f"the consistency proof {proof.from_size}→{proof.to_size} does not end at "
                f"the checkpoint's size {size}"
            )

    @classmethod
    def of(
        cls,
        tenant_id: str,
        first_seq: int,
        last_seq: int,
        events: Sequence[Event],
        checkpoint: str,
        consistency: ConsistencyProof | None = None,
    ) -> Batch:
        return cls(tenant_id, first_seq, last_seq, tuple(events), checkpoint, consistency)

    @property
    def tree_size(self) -> int:
        """The size of the tree the batch's checkpoint signs."""
        try:
            parsed = Checkpoint.from_text(parse_note(self.checkpoint).text)
        except NoteError as exc:
            raise InvalidInput(f"the batch checkpoint is not a checkpoint note: {exc}") from exc
        if parsed.origin != origin_for_tenant(self.tenant_id):
            raise InvalidInput(
                f"the batch checkpoint is for {parsed.origin!r}, not tenant {self.tenant_id!r}"
            )
        return parsed.size

    def header(self) -> dict[str, Any]:
        """The batch's own members, shared by every body and the syslog batch message."""
        out: dict[str, Any] = {
            "type": BATCH_TYPE,
            "tenant_id": self.tenant_id,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "count": len(self.events),
            "checkpoint": self.checkpoint,
        }
        if self.consistency is not None:
            out["consistency_proof"] = self.consistency.to_dict()
        return out
