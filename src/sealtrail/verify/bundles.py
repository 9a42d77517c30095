"""Verifying an export bundle offline, naming exactly the events that are wrong.

Every event line is checked on its own: its leaf is rebuilt from its fields and
salts, and its inclusion proof must lead to the signed root at the line's
``seq``. A line that passes is, beyond doubt, the event the log holds at that
seq, wherever it sits in the file; so a changed, forged or out-of-range line
names only itself, and a dropped one is simply a seq no line proved. Nothing
is rebuilt in file order, so one bad line never spills onto the lines after it.

The header is not signed. Its members are checked against the signed
checkpoint (tenant, origin, size, root, verifier key) or stated as unproven
(``complete``, ``query``, ``exported_at``): completeness is decided from the
seqs actually proven, never from the header's word. Members of an event that
the leaf does not hold are refused, except ``category``, ``kind``, ``salts``
and ``commitments``, which are stated as unsigned (category, kind) or used to
rebuild the leaf (salts, commitments).

A pruned log (``sealtrail prune``) starts at its minimum index: the events
before it are gone. A bundle shows where by the ``audit_log.events_pruned``
events among its lines (only Sealtrail records them); the seqs a proven one
says were pruned are stated as pruned, not as missing, even in a complete
bundle. A pruned range no proven line vouches for is missing.

Memory: one byte per seq of the signed tree and eight per proven line (their
order), and sixteen more per line only when a complete bundle is out of order.
"""

from __future__ import annotations

import base64
import binascii
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import orjson

from sealtrail.catalog import KINDS
from sealtrail.errors import LedgerError, MalformedBody, ProofError
from sealtrail.ledger import leaf, merkle
from sealtrail.ledger.checkpoint import (
    ORIGIN_PREFIX,
    Checkpoint,
    open_checkpoint,
    origin_for_tenant,
)
from sealtrail.ledger.note import Verifier
from sealtrail.retention import PRUNED_ACTION
from sealtrail.verify.report import Report, runs
from sealtrail.verify.witnesses import Policy, check_witnesses

Progress = Callable[[int], None]

BUNDLE_VERSION: Final = 1
HEADER_CHECKED: Final = frozenset(
    {"sealtrail_bundle", "tenant_id", "origin", "verifier_key", "checkpoint", "tree_size"}
    | {"root_hash", "complete", "consistency_proofs"}
)
HEADER_UNSIGNED: Final = ("query", "exported_at")
RECORD_MEMBERS: Final = frozenset({"event", "proof"})
LEAF_MEMBERS: Final = frozenset(
    {"tenant_id", "seq", "id", "action", "occurred_at", "received_at", "outcome"}
    | {"account_id", "request_id", "actor", "target", "resource", "description"}
    | {"context", "ip", "user_agent"}
)
EVENT_MEMBERS: Final = LEAF_MEMBERS | {"category", "kind", "salts", "commitments"}
PARTY_MEMBERS: Final = {
    "actor": frozenset({"type", "id", "role", "name", "email"}),
    "target": frozenset({"type", "id", "name", "email"}),
    "resource": frozenset({"type", "id", "name"}),
}
_SLUG: Final = re.compile(r"[a-z][a-z0-9_]*")

# What a seq of the signed tree has been seen as, one byte each.
_UNSEEN, _PROVEN, _FAILED = 0, 1, 2


class NoteCheck(Protocol):
    """A check on the bundle's checkpoint beyond the log's own signature.

    Witness cosignature policies plug in here: given the signed note and the
    checkpoint it carries, return the problems (empty when it passes).
    """

    @property
    def description(self) -> str:
        """What the check requires, as a phrase ("a quorum of 2 witnesses")."""
        ...

    def __call__(self, signed_note: str, checkpoint: Checkpoint) -> Sequence[str]: ...


def _b64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)


def _b64_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class _State:
    tenant_id: str
    size: int
    root: bytes
    seen: bytearray
    order: array[int]
    prefix_seq: int | None  # the seq whose proof gives the older checkpoint's root
    prefix_root: bytes | None = None
    descended: bool = False
    last_seq: int = -1
    lines: int = 0
    pruned_below: int = 0  # what the proven prune announcements say is gone
    pruned_by: tuple[int, str] | None = None  # the announcement's seq and time


def verify_bundle(
    lines: Iterable[bytes],
    verifier: Verifier,
    *,
    older_checkpoint: str | None = None,
    tenant: str | None = None,
    require_complete: bool = False,
    note_checks: Sequence[NoteCheck] = (),
    progress: Progress | None = None,
    policy: Policy | None = None,
) -> Report:
    """Check every event of a bundle against its signed checkpoint.

    ``tenant`` is the tenant the auditor expects (the signed origin must name
    it); ``require_complete`` fails the run unless every seq of the signed tree
    is proven, whatever the header claims; ``policy`` requires a quorum of
    witness cosignatures on the checkpoint; ``note_checks`` add other checks on it.
    """
    report = Report()
    iterator = iter(lines)
    header = _read_header(iterator)
    opened = _open_bundle_checkpoint(report, header, verifier, tenant)
    if opened is None:
        return report
    checkpoint, note = opened
    tenant_id = checkpoint.origin.removeprefix(ORIGIN_PREFIX)
    _check_header(report, tenant_id, header, checkpoint, verifier)
    if policy is not None:
        check_witnesses(report, tenant_id, note, policy)
    for check in note_checks:
        problems = check(note, checkpoint)
        for message in problems:
            report.add(tenant_id, None, f"the checkpoint fails {check.description}: {message}")
        if not problems:
            report.prove(tenant_id, f"the checkpoint passes {check.description}")
    older = None
    if older_checkpoint is not None:
        older = _open_older(report, tenant_id, verifier, older_checkpoint, checkpoint)
    state = _State(
        tenant_id,
        checkpoint.size,
        checkpoint.root_hash,
        bytearray(checkpoint.size),
        array("q"),
        older.size - 1 if older is not None and older.size > 0 else None,
    )
    trailer = _read_events(report, state, iterator, progress)
    claims_complete = header.get("complete") is True
    _check_completeness(report, state, claims_complete or require_complete)
    if claims_complete:
        _check_order(report, state)
    _check_trailer(
        report, state, trailer, events_named=any(p.seq is not None for p in report.problems)
    )
    if older is not None:
        _check_growth(report, state, older, checkpoint, header)
    _state_limits(report, tenant_id, header, witnessed=policy is not None or bool(note_checks))
    return report


def _read_header(iterator: Iterator[bytes]) -> dict[str, Any]:
    try:
        header = orjson.loads(next(iterator))
    except (StopIteration, orjson.JSONDecodeError) as exc:
        raise MalformedBody("not a Sealtrail bundle: the header line is missing") from exc
    if not isinstance(header, dict) or header.get("sealtrail_bundle") != BUNDLE_VERSION:
        raise MalformedBody(f"not a Sealtrail bundle (version {BUNDLE_VERSION})")
    return header


def _open_bundle_checkpoint(
    report: Report, header: dict[str, Any], verifier: Verifier, tenant: str | None
) -> tuple[Checkpoint, str] | None:
    note = header.get("checkpoint")
    claimed = str(header.get("tenant_id"))
    if not isinstance(note, str):
        report.tenants.append(tenant or claimed)
        report.add(tenant or claimed, None, "the bundle carries no signed checkpoint")
        return None
    signed_origin = note.split("\n", 1)[0]
    expected = origin_for_tenant(tenant) if tenant is not None else signed_origin
    name = tenant or signed_origin.removeprefix(ORIGIN_PREFIX)
    report.tenants.append(name)
    if not expected.startswith(ORIGIN_PREFIX):
        report.add(name, None, f"the checkpoint's origin {signed_origin!r} is not a Sealtrail log")
        return None
    try:
        checkpoint, _ = open_checkpoint(note, origin=expected, log_verifier=verifier)
    except LedgerError as exc:
        if tenant is not None and signed_origin != expected:
            report.add(
                name,
                None,
                f"this is not tenant {tenant}'s log: its checkpoint is for {signed_origin!r}",
            )
        else:
            report.add(name, None, f"the bundle's checkpoint does not verify: {exc.message}")
        return None
    report.checkpoints += 1
    report.prove(
        name,
        f"the checkpoint (origin {checkpoint.origin}, tree size {checkpoint.size}, root "
        f"{_b64_text(checkpoint.root_hash)}) is signed by {verifier.name}+{verifier.key_id:08x}",
    )
    return checkpoint, note


def _check_header(
    report: Report,
    tenant_id: str,
    header: dict[str, Any],
    checkpoint: Checkpoint,
    verifier: Verifier,
) -> None:
    """Unsigned header members must agree with the signed checkpoint."""
    expected: dict[str, object] = {
        "tenant_id": tenant_id,
        "origin": checkpoint.origin,
        "tree_size": checkpoint.size,
        "root_hash": _b64_text(checkpoint.root_hash),
        "verifier_key": verifier.vkey,
    }
    for member, value in expected.items():
        if member in header and header[member] != value:
            report.add(
                tenant_id,
                None,
                f"the header's {member} {header[member]!r} contradicts the signed checkpoint "
                f"({value!r}); the header is not signed",
            )
    if "complete" in header and not isinstance(header["complete"], bool):
        report.add(tenant_id, None, "the header's complete is not true or false")


def _open_older(
    report: Report, tenant_id: str, verifier: Verifier, older_note: str, newer: Checkpoint
) -> Checkpoint | None:
    """The auditor's older checkpoint, verified, if it can precede ``newer``."""
    try:
        older, _ = open_checkpoint(older_note, origin=newer.origin, log_verifier=verifier)
    except LedgerError as exc:
        report.add(tenant_id, None, f"your older checkpoint does not verify: {exc.message}")
        return None
    report.checkpoints += 1
    if older.size > newer.size:
        report.add(
            tenant_id,
            None,
            f"the log shrank: your checkpoint has {older.size} events, this one {newer.size}",
        )
        return None
    return older


def _read_events(
    report: Report, state: _State, iterator: Iterator[bytes], progress: Progress | None
) -> dict[str, Any] | None:
    trailer: dict[str, Any] | None = None
    for number, raw in enumerate(iterator, start=2):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            report.add(state.tenant_id, None, f"line {number} is not JSON")
            continue
        if trailer is not None:
            report.add(state.tenant_id, None, f"line {number} follows the end marker")
            continue
        if isinstance(record, dict) and record.get("end") is True:
            trailer = record
            continue
        state.lines += 1
        _check_line(report, state, record, number)
        if progress:
            progress(1)
    return trailer


def _check_line(report: Report, state: _State, record: Any, number: int) -> None:
    """Check one event line, marking its seq proven or failed."""
    tenant_id = state.tenant_id
    event = record.get("event") if isinstance(record, dict) else None
    if not isinstance(event, dict):
        report.add(tenant_id, None, f"line {number} is not an event record")
        return
    seq = event.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        report.add(tenant_id, None, f"line {number}: {seq!r} is not a seq")
        return
    if seq >= state.size:
        report.add(
            tenant_id,
            seq,
            f"is not in the log: the signed tree has {state.size} events (line {number})",
        )
        return
    refusal = _refusal(record, event, tenant_id)
    leaf_hash = b""
    proof: list[bytes] = []
    if refusal is None:
        try:
            leaf_hash = leaf.leaf_hash(
                event, leaf.decode_salts(event.get("salts") or {}), event.get("commitments")
            )
            proof = [_b64(h) for h in record.get("proof") or []]
            merkle.verify_inclusion(seq, state.size, leaf_hash, proof, state.root)
        except (ProofError, ValueError, binascii.Error, TypeError, AttributeError) as exc:
            message = exc.message if isinstance(exc, ProofError) else str(exc)
            refusal = f"was changed: it is not the event the signed tree holds at {seq} ({message})"
    if refusal is not None:
        if state.seen[seq] == _PROVEN:
            refusal = f"an altered second copy (line {number}): {refusal}"
        else:
            state.seen[seq] = _FAILED
        report.add(tenant_id, seq, refusal)
        return
    if state.seen[seq] == _PROVEN:
        report.add(tenant_id, seq, f"appears twice (again on line {number})")
        return
    report.events += 1
    state.seen[seq] = _PROVEN
    if seq < state.last_seq:
        state.descended = True
    state.last_seq = seq
    state.order.append(seq)
    if seq == state.prefix_seq:
        state.prefix_root = merkle.root_of_prefix(seq, state.size, leaf_hash, proof)
    context = event.get("context")
    if event.get("action") == PRUNED_ACTION and isinstance(context, dict):
        last = context.get("last_seq")
        if (
            isinstance(last, int)
            and not isinstance(last, bool)
            and state.pruned_below <= last < seq
        ):
            state.pruned_below = last + 1
            state.pruned_by = (seq, str(event.get("occurred_at")))


def _refusal(record: dict[str, Any], event: dict[str, Any], tenant_id: str) -> str | None:
    """Why a line cannot be vouched for beyond its leaf, or None."""
    extra = sorted(set(record) - RECORD_MEMBERS)
    extra += sorted(set(event) - EVENT_MEMBERS)
    for party, allowed in PARTY_MEMBERS.items():
        value = event.get(party)
        if isinstance(value, dict):
            extra += [f"{party}.{member}" for member in sorted(set(value) - allowed)]
    if extra:
        return (
            f"carries {', '.join(extra)}, which the leaf does not hold: refused, since "
            "nothing signed vouches for it"
        )
    if event.get("tenant_id") != tenant_id:
        return f"belongs to tenant {event.get('tenant_id')!r}, not {tenant_id!r}"
    kind, category = event.get("kind"), event.get("category")
    if kind is not None and kind not in KINDS:
        return f"has kind {kind!r}, which is not a kind"
    if category is not None and not (isinstance(category, str) and _SLUG.fullmatch(category)):
        return f"has category {category!r}, which is not a category"
    return None


def _check_completeness(report: Report, state: _State, must_be_complete: bool) -> None:
    tenant_id, seen = state.tenant_id, state.seen
    unseen: list[int] = []
    position = seen.find(_UNSEEN)
    if state.pruned_by is not None:
        below = min(state.pruned_below, state.size)
        gone = seen.count(_UNSEEN, 0, below)
        report.prune(
            tenant_id,
            f"events 0..{below - 1} pruned on {state.pruned_by[1]} under the retention "
            f"policy, as seq {state.pruned_by[0]} ({PRUNED_ACTION}, proven above) records; "
            f"{gone} of them are not in the bundle",
        )
        position = seen.find(_UNSEEN, below)
    while position != -1:
        unseen.append(position)
        position = seen.find(_UNSEEN, position + 1)
    if not unseen:
        if state.size:
            start = min(state.pruned_below, state.size)
            report.prove(
                tenant_id,
                f"completeness: the bundle holds every event of the signed tree "
                f"(seq {start}..{state.size - 1})" + (" that was not pruned" if start else ""),
            )
        else:
            report.prove(tenant_id, "completeness: the signed tree is empty")
        return
    if not must_be_complete:
        report.cannot_prove(
            tenant_id,
            f"completeness not proven: the bundle is partial (it holds "
            f"{seen.count(_PROVEN)} of the signed tree's {state.size} events); nothing "
            "shows that no event matching its query was left out",
        )
        return
    for first, last in runs(unseen):
        if first == last:
            report.add(tenant_id, first, "is missing from this complete bundle")
        else:
            report.add(
                tenant_id,
                first,
                f"are missing from this complete bundle ({last - first + 1} events)",
                last,
            )


def _check_order(report: Report, state: _State) -> None:
    """A complete bundle lists events by seq: name the lines that moved."""
    if not state.descended:
        return
    for first, last in runs(sorted(_moved(state.order))):
        report.add(
            state.tenant_id,
            first,
            "is out of order: a complete bundle lists events by seq",
            last,
        )


def _moved(seqs: Sequence[int]) -> list[int]:
    """The seqs outside at least one longest increasing run of the list.

    What stays in every longest increasing subsequence is in order; the rest
    moved. A line carried far away is alone outside it; two neighbours swapped
    are both outside one of the two equally long answers, so both are named.
    """
    count = len(seqs)
    ending = array("q", bytes(8 * count))
    tails: list[int] = []
    for i, seq in enumerate(seqs):
        k = bisect_left(tails, seq)
        if k == len(tails):
            tails.append(seq)
        else:
            tails[k] = seq
        ending[i] = k + 1
    longest = len(tails)
    starting = array("q", bytes(8 * count))
    tails = []
    for i in range(count - 1, -1, -1):
        k = bisect_left(tails, -seqs[i])
        if k == len(tails):
            tails.append(-seqs[i])
        else:
            tails[k] = -seqs[i]
        starting[i] = k + 1
    on_some = [ending[i] + starting[i] - 1 == longest for i in range(count)]
    at_rank: dict[int, int] = {}
    for i in range(count):
        if on_some[i]:
            at_rank[ending[i]] = at_rank.get(ending[i], 0) + 1
    return [seqs[i] for i in range(count) if not on_some[i] or at_rank[ending[i]] > 1]


def _check_trailer(
    report: Report, state: _State, trailer: dict[str, Any] | None, *, events_named: bool
) -> None:
    if trailer is None:
        report.add(state.tenant_id, None, "the bundle is truncated: it has no end marker")
    elif trailer.get("events") != state.lines and not events_named:
        # The trailer is not signed; a count that the named events already explain adds nothing.
        report.add(
            state.tenant_id,
            None,
            f"the end marker says {trailer.get('events')} events, the bundle has {state.lines}",
        )


def _check_growth(
    report: Report,
    state: _State,
    older: Checkpoint,
    newer: Checkpoint,
    header: dict[str, Any],
) -> None:
    """Prove the log only grew since the auditor's older checkpoint."""
    tenant_id, size = state.tenant_id, older.size
    grew = f"the log only grew since your checkpoint of size {size}"
    shrank = (
        f"the log did not only grow: the first {size} events do not have your checkpoint's root"
    )
    if size == 0 or (size == newer.size and older.root_hash == newer.root_hash):
        report.prove(tenant_id, grew)
        return
    if size == newer.size:
        report.add(tenant_id, None, f"two different roots for the same tree size {size}")
        return
    if state.prefix_root is not None:
        if state.prefix_root == older.root_hash:
            report.prove(tenant_id, f"{grew} (from seq {size - 1}'s proof)")
        else:
            report.add(tenant_id, None, shrank)
        return
    proofs = header.get("consistency_proofs")
    proof_text = proofs.get(str(size)) if isinstance(proofs, dict) else None
    if proof_text is not None:
        try:
            proof = [_b64(h) for h in proof_text]
            merkle.verify_consistency(size, newer.size, proof, older.root_hash, newer.root_hash)
        except (ProofError, ValueError, binascii.Error, TypeError) as exc:
            report.add(tenant_id, None, f"{shrank} ({exc})")
        else:
            report.prove(tenant_id, f"{grew} (from the bundle's consistency proof)")
        return
    if size - 1 in report.named_seqs(tenant_id):
        report.cannot_prove(
            tenant_id,
            f"growth since your checkpoint of size {size} not proven: seq {size - 1} is named "
            "above and the bundle carries no consistency proof from that size",
        )
        return
    report.add(
        tenant_id,
        None,
        f"growth since your checkpoint of size {size} cannot be proven: the bundle has neither "
        f"seq {size - 1} nor a consistency proof from that size; fetch one with "
        f"GET /v1/proofs/consistency?first={size}&second={newer.size}",
    )


def _state_limits(
    report: Report, tenant_id: str, header: dict[str, Any], *, witnessed: bool
) -> None:
    report.cannot_prove(
        tenant_id,
        "category and kind are not in the leaf: they are the service's classification of the "
        "action and are not verified (the action is)",
    )
    unsigned = [m for m in HEADER_UNSIGNED if m in header]
    ignored = sorted(set(header) - HEADER_CHECKED - set(HEADER_UNSIGNED))
    if unsigned or ignored:
        report.cannot_prove(
            tenant_id,
            f"the header's {', '.join(unsigned + ignored)} are not signed and were not verified",
        )
    if not witnessed:
        report.cannot_prove(
            tenant_id,
            "that the log's key signed no other history for this tree (a fork, or a rollback "
            "re-signed with the key): only witness cosignatures show that",
        )


__all__ = ["NoteCheck", "verify_bundle"]
