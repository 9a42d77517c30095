"""Offline verification: of an export bundle, and of a whole database.

Both recompute every leaf from the event and its salts (SPEC §3), so a change
to any field is caught at the event's own ``seq``; both check the signed
checkpoints with the published verifier key, so a rewritten history that was
not signed by the log — or one that is not an extension of a checkpoint the
auditor already holds — is caught too.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from sealtrail.catalog import Catalog
from sealtrail.errors import LedgerError, MalformedBody, ProofError
from sealtrail.ledger import leaf, merkle, tree
from sealtrail.ledger.checkpoint import Checkpoint, open_checkpoint, origin_for_tenant
from sealtrail.ledger.cosignature import cosignatures
from sealtrail.ledger.note import Verifier, parse_vkey
from sealtrail.ledger.policy import Policy
from sealtrail.store.base import EventStore

Progress = Callable[[int], None]
# Stands in for the leaf of a row that no longer has one, so the rebuild goes on.
_UNHASHABLE = bytes(32)


@dataclass(frozen=True, slots=True)
class Problem:
    tenant_id: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.tenant_id} seq {self.seq}" if self.seq is not None else self.tenant_id
        return f"{where}: {self.message}"


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    tenants: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, tenant_id: str, seq: int | None, message: str) -> None:
        self.problems.append(Problem(tenant_id, seq, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "tenants": self.tenants,
            "problems": [
                {"tenant_id": p.tenant_id, "seq": p.seq, "message": p.message}
                for p in self.problems
            ],
        }


def _b64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)


def _leaf_of(event: dict[str, Any]) -> bytes:
    salts = leaf.decode_salts(event.get("salts") or {})
    commitments = event.get("commitments")
    return leaf.leaf_hash(event, salts, commitments)


# -- bundles ------------------------------------------------------------------------------


def verify_bundle(
    lines: Iterable[bytes],
    verifier: Verifier,
    *,
    older_checkpoint: str | None = None,
    progress: Progress | None = None,
    policy: Policy | None = None,
) -> Report:
    """Check every event of a bundle against its signed checkpoint, and with a
    ``policy``, that the checkpoint carries a quorum of witness cosignatures."""
    report = Report()
    iterator = iter(lines)
    try:
        header = orjson.loads(next(iterator))
    except (StopIteration, orjson.JSONDecodeError) as exc:
        raise MalformedBody("not a Sealtrail bundle: the header line is missing") from exc
    if not isinstance(header, dict) or header.get("sealtrail_bundle") != 1:
        raise MalformedBody("not a Sealtrail bundle (version 1)")
    tenant_id = str(header.get("tenant_id"))
    report.tenants.append(tenant_id)
    origin = origin_for_tenant(tenant_id)
    try:
        checkpoint, _ = open_checkpoint(
            str(header.get("checkpoint", "")), origin=origin, log_verifier=verifier
        )
    except LedgerError as exc:
        report.add(tenant_id, None, f"the bundle's checkpoint does not verify: {exc.message}")
        return report
    report.checkpoints += 1
    if policy is not None:
        check_witnesses(report, tenant_id, str(header.get("checkpoint", "")), policy)
    size, root = checkpoint.size, checkpoint.root_hash
    complete = header.get("complete") is True
    older = None
    if older_checkpoint is not None:
        older = _open_older(report, tenant_id, origin, verifier, older_checkpoint, checkpoint)
        if older is not None and not complete:
            _check_growth_by_proof(report, tenant_id, older, checkpoint, header)
    # A complete bundle is in seq order and rebuilds the tree as it streams, in
    # O(log n) memory; a partial one is checked event by event.
    seen: set[int] = set()
    frontier: list[bytes] = []
    rebuilt = 0
    trailer: dict[str, Any] | None = None
    for number, raw in enumerate(iterator, start=2):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            report.add(tenant_id, None, f"line {number} is not JSON")
            continue
        if trailer is not None:
            report.add(tenant_id, None, f"line {number} follows the end marker")
            continue
        if isinstance(record, dict) and record.get("end") is True:
            trailer = record
            continue
        checked = _check_bundle_event(report, tenant_id, record, number, size, root)
        if checked is None:
            continue
        seq, leaf_hash = checked
        report.events += 1
        if progress:
            progress(1)
        if not complete:
            if seq in seen:
                report.add(tenant_id, seq, "appears twice in the bundle")
            seen.add(seq)
            continue
        if seq != rebuilt:
            report.add(tenant_id, seq, f"out of order: seq {rebuilt} belongs here")
            continue
        grown = tree.append(frontier, rebuilt, [leaf_hash])
        frontier, rebuilt = grown.frontier, grown.size
        if older is not None and rebuilt == older.size and grown.root != older.root_hash:
            report.add(
                tenant_id,
                None,
                f"the log did not only grow: its first {older.size} events do not rebuild "
                "the older checkpoint's root",
            )
    if trailer is None:
        report.add(tenant_id, None, "the bundle is truncated: no end marker")
    elif trailer.get("events") != report.events:
        report.add(
            tenant_id,
            None,
            f"the end marker says {trailer.get('events')} events, found {report.events}",
        )
    if complete:
        if rebuilt < size:
            report.add(
                tenant_id,
                rebuilt,
                f"is missing: seq {rebuilt}..{size - 1} are not in this complete bundle",
            )
        elif tree.root_from_frontier(frontier, size) != root:
            report.add(tenant_id, None, "the events do not rebuild the signed root")
    return report


def _check_bundle_event(
    report: Report, tenant_id: str, record: Any, number: int, size: int, root: bytes
) -> tuple[int, bytes] | None:
    """Check one bundle line; return its seq and leaf hash (a stand-in if it has none)."""
    if not isinstance(record, dict) or not isinstance(record.get("event"), dict):
        report.add(tenant_id, None, f"line {number} is not an event record")
        return None
    event = record["event"]
    seq = event.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < size:
        report.add(
            tenant_id, None, f"line {number}: seq {seq!r} is not in the signed tree of size {size}"
        )
        return None
    if event.get("tenant_id") != tenant_id:
        report.add(tenant_id, seq, f"belongs to tenant {event.get('tenant_id')!r}")
        return seq, _UNHASHABLE
    leaf_hash = _UNHASHABLE
    try:
        leaf_hash = _leaf_of(event)
        proof = [_b64(h) for h in record.get("proof") or []]
        merkle.verify_inclusion(seq, size, leaf_hash, proof, root)
    except (ProofError, ValueError, binascii.Error, TypeError, KeyError, AttributeError) as exc:
        report.add(tenant_id, seq, f"does not verify: {exc}")
    return seq, leaf_hash


def _open_older(
    report: Report,
    tenant_id: str,
    origin: str,
    verifier: Verifier,
    older_note: str,
    newer: Checkpoint,
) -> Checkpoint | None:
    """The auditor's older checkpoint, verified, if it can precede ``newer``."""
    try:
        older, _ = open_checkpoint(older_note, origin=origin, log_verifier=verifier)
    except LedgerError as exc:
        report.add(tenant_id, None, f"the older checkpoint does not verify: {exc.message}")
        return None
    report.checkpoints += 1
    if older.size > newer.size:
        report.add(tenant_id, None, f"the log shrank from {older.size} to {newer.size} events")
        return None
    return older


def _check_growth_by_proof(
    report: Report, tenant_id: str, older: Checkpoint, newer: Checkpoint, header: dict[str, Any]
) -> None:
    """A partial bundle carries consistency proofs from the log's earlier checkpoints."""
    proofs = header.get("consistency_proofs")
    proof_text = proofs.get(str(older.size)) if isinstance(proofs, dict) else None
    if proof_text is None and older.size not in (0, newer.size):
        report.add(
            tenant_id,
            None,
            f"the bundle carries no consistency proof from size {older.size}; fetch one with "
            f"GET /v1/proofs/consistency?first={older.size}&second={newer.size}",
        )
        return
    try:
        proof = [_b64(h) for h in proof_text or []]
        merkle.verify_consistency(older.size, newer.size, proof, older.root_hash, newer.root_hash)
    except (ProofError, ValueError, binascii.Error) as exc:
        report.add(tenant_id, None, f"the log did not only grow since size {older.size}: {exc}")


# -- the whole database ---------------------------------------------------------------------------


def verify_store(
    store: EventStore,
    vkey: str,
    *,
    tenants: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Recompute every tenant's tree from the stored rows and check every checkpoint."""
    verifier = parse_vkey(vkey)
    report = Report()
    for tenant_id in tenants or [t.id for t in store.list_tenants()]:
        report.tenants.append(tenant_id)
        _verify_tenant(store, verifier, tenant_id, report, progress)
    return report


def _verify_tenant(
    store: EventStore, verifier: Verifier, tenant_id: str, report: Report, progress: Progress | None
) -> None:
    origin = origin_for_tenant(tenant_id)
    # category and kind are derived from the action, not part of the leaf: check the derivation.
    catalog = Catalog.builtin().with_types(store.tenant_event_types(tenant_id))
    checkpoints: dict[int, bytes] = {}
    for stored in store.checkpoints(tenant_id):
        try:
            checkpoint, _ = open_checkpoint(stored.note, origin=origin, log_verifier=verifier)
        except LedgerError as exc:
            report.add(
                tenant_id,
                None,
                f"checkpoint of size {stored.tree_size} does not verify: {exc.message}",
            )
            continue
        if checkpoint.size != stored.tree_size or checkpoint.root_hash != stored.root_hash:
            report.add(
                tenant_id, None, f"checkpoint row {stored.tree_size} disagrees with its signed note"
            )
        checkpoints[checkpoint.size] = checkpoint.root_hash
        report.checkpoints += 1
    frontier: list[bytes] = []
    size = 0  # the next seq expected
    intact = True  # the rows still form a tree that can be rebuilt
    for chunk in store.scan(tenant_id):
        leaves: list[bytes] = []
        start = size
        for event, stored_leaf in chunk:
            if event.seq < size:
                report.add(tenant_id, event.seq, "appears more than once")
                intact = False
                continue
            if event.seq > size:
                report.add(
                    tenant_id, size, f"is missing: the sequence jumps from {size} to {event.seq}"
                )
                intact = False
            try:
                mine = leaf.leaf_hash(event.to_dict(), event.salts)
            except Exception as exc:  # tampered rows can break in any way; report, go on
                report.add(tenant_id, event.seq, f"was changed: it has no leaf form ({exc})")
                mine = _UNHASHABLE
            else:
                if mine != stored_leaf:
                    report.add(
                        tenant_id, event.seq, "was changed: its fields no longer hash to its leaf"
                    )
            derived = catalog.classify(event.action)
            if (event.category, event.kind) != (derived.category, derived.kind):
                report.add(
                    tenant_id,
                    event.seq,
                    f"was changed: category/kind {event.category}/{event.kind} is not what the "
                    f"catalog gives {event.action} ({derived.category}/{derived.kind})",
                )
            leaves.append(mine)
            size = event.seq + 1
        if intact:
            frontier = _grow(report, tenant_id, frontier, start, leaves, checkpoints)
        report.events += len(chunk)
        if progress:
            progress(len(chunk))
    head = store.tree_head(tenant_id)
    if head.size != size:
        report.add(tenant_id, None, f"the tree head says {head.size} events, the rows hold {size}")
    for checkpoint_size in sorted(checkpoints):
        if checkpoint_size > size:
            report.add(
                tenant_id,
                size,
                f"a signed checkpoint covers {checkpoint_size} events but only {size} remain: "
                f"seq {size}..{checkpoint_size - 1} were removed",
            )


def _grow(
    report: Report,
    tenant_id: str,
    frontier: list[bytes],
    start: int,
    leaves: list[bytes],
    checkpoints: dict[int, bytes],
) -> list[bytes]:
    """Append leaves one checkpoint boundary at a time, checking each signed root."""
    size = start
    position = 0
    while position < len(leaves):
        boundaries = [c for c in checkpoints if size < c <= start + len(leaves)]
        stop = min(boundaries) - start if boundaries else len(leaves)
        grown = tree.append(frontier, size, leaves[position:stop])
        frontier, size, position = grown.frontier, grown.size, stop
        expected = checkpoints.get(size)
        if expected is not None and grown.root != expected:
            report.add(tenant_id, None, f"the events do not rebuild the signed root of size {size}")
    if 0 in checkpoints and start == 0 and not leaves and checkpoints[0] != merkle.EMPTY_ROOT:
        report.add(tenant_id, None, "the signed empty tree has a wrong root")
    return frontier


def check_witnesses(report: Report, tenant_id: str, note: str, policy: Policy) -> None:
    """A checkpoint the log's own key signed proves nothing against the key holder; a
    quorum of witnesses that each saw only consistent growth does (c2sp.org/tlog-witness)."""
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


def read_vkey(text: str) -> Verifier:
    return parse_vkey(text.strip())


__all__ = [
    "Policy",
    "Problem",
    "Report",
    "check_witnesses",
    "read_vkey",
    "verify_bundle",
    "verify_store",
]
