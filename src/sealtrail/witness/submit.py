"""Sealtrail's side of c2sp.org/tlog-witness: submit each new checkpoint to the
witnesses of the policy, with a consistency proof from the size each last cosigned.

The size a witness holds is learnt, not stored: the first request after a start
says ``old 0``; a witness that has cosigned before answers 409 with its size, and
the request is sent again with a proof from that size — as the protocol suggests.
A witness that refuses (403/404/422) or cannot be reached is logged and counted;
it never blocks the log, and the next checkpoint is submitted again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence

import httpx

from sealtrail.errors import NoteError, SealtrailError
from sealtrail.ledger.checkpoint import Checkpoint
from sealtrail.ledger.cosignature import cosignatures
from sealtrail.ledger.note import parse_note
from sealtrail.ledger.policy import Policy, Witness
from sealtrail.witness.protocol import (
    SIZE_CONTENT_TYPE,
    WitnessRefusal,
    add_checkpoint_body,
    parse_size,
)

_log = logging.getLogger("sealtrail.witness")

ProofSource = Callable[[int, int], Sequence[bytes]]


class Submitter:
    """Gathers cosignatures from the policy's witnesses that have a submission URL."""

    def __init__(self, policy: Policy, *, timeout: float = 10.0) -> None:
        self.policy = policy
        self.witnesses = [w for w in policy.witnesses.values() if w.url]
        self._http = httpx.Client(timeout=timeout)
        self._sizes: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def close(self) -> None:
        self._http.close()

    def missing(self, note: str) -> list[Witness]:
        """Witnesses with a URL whose valid cosignature ``note`` does not carry."""
        try:
            have = cosignatures(note, [w.verifier for w in self.witnesses]).timestamps
        except NoteError:
            have = {}
        return [w for w in self.witnesses if w.verifier not in have]

    def cosign(self, note: str, checkpoint: Checkpoint, proof: ProofSource) -> str:
        """``note`` with the cosignature lines of every witness that cosigned it now."""
        lines = []
        for witness in self.missing(note):
            line = self._submit(witness, note, checkpoint, proof)
            if line is not None:
                lines.append(line)
        return note + "".join(lines)

    def _submit(
        self, witness: Witness, note: str, checkpoint: Checkpoint, proof: ProofSource
    ) -> str | None:
        key = (witness.name, checkpoint.origin)
        with self._lock:
            old = self._sizes.get(key, 0)
        url = f"{(witness.url or '').rstrip('/')}/add-checkpoint"
        for _ in range(3):
            if old > checkpoint.size:
                return self._count(witness, "ahead", f"it holds size {old} > {checkpoint.size}")
            try:
                path = [] if old in (0, checkpoint.size) else list(proof(old, checkpoint.size))
            except SealtrailError as exc:
                return self._count(
                    witness, "no_proof", f"no consistency proof from {old}: {exc.message}"
                )
            body = add_checkpoint_body(old, path, note)
            try:
                response = self._http.post(url, content=body)
            except httpx.HTTPError as exc:
                return self._count(witness, "unreachable", str(exc) or type(exc).__name__)
            if response.status_code == 409 and response.headers.get("content-type", "").startswith(
                SIZE_CONTENT_TYPE
            ):
                try:
                    old = parse_size(response.text.strip())
                except WitnessRefusal:
                    return self._count(witness, "refused", "a 409 without a size")
                with self._lock:
                    self._sizes[key] = old
                continue
            if response.status_code != 200:
                return self._count(
                    witness,
                    "refused",
                    f"HTTP {response.status_code}: {response.text.strip()[:200]}",
                )
            return self._accept(witness, key, note, checkpoint, response.text)
        return self._count(witness, "conflict", "the witness's size kept changing")

    def _accept(
        self,
        witness: Witness,
        key: tuple[str, str],
        note: str,
        checkpoint: Checkpoint,
        answer: str,
    ) -> str | None:
        try:
            answered = parse_note(note + answer).unverified
            mine = [sig for sig in answered if witness.verifier.matches(sig)]
            cosignatures(note + "".join(sig.line for sig in mine), [witness.verifier])
        except NoteError as exc:
            return self._count(witness, "bad_cosignature", exc.message)
        if not mine:
            return self._count(witness, "bad_cosignature", "no cosignature from its key")
        with self._lock:
            self._sizes[key] = checkpoint.size
        self.outcomes[(witness.name, "cosigned")] += 1
        return mine[0].line

    def _count(self, witness: Witness, outcome: str, why: str) -> str | None:
        """Count and log a witness that did not cosign; None, for the caller to return."""
        self.outcomes[(witness.name, outcome)] += 1
        _log.error("witness %s did not cosign: %s (%s)", witness.name, why, outcome)
        return None
