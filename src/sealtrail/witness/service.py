"""The witness: checks an ``add-checkpoint`` request in the order c2sp.org/tlog-witness
gives, and cosigns only a checkpoint consistent with everything it cosigned before."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sealtrail.errors import ConfigurationError, NoteError, ProofError
from sealtrail.ledger.checkpoint import Checkpoint
from sealtrail.ledger.cosignature import Cosigner, parse_witness_skey
from sealtrail.ledger.merkle import EMPTY_ROOT, verify_consistency
from sealtrail.ledger.note import Note, Verifier, open_note, parse_note, parse_vkey, sign_note
from sealtrail.witness.protocol import (
    BadRequest,
    Forbidden,
    Inconsistent,
    SizeConflict,
    UnknownLog,
    parse_add_checkpoint,
)
from sealtrail.witness.state import Record, WitnessState


class Witness:
    """A named Ed25519 cosigner over a ``WitnessState``."""

    def __init__(self, cosigner: Cosigner, state: WitnessState) -> None:
        self.cosigner = cosigner
        self.state = state

    def _log_keys(self, origin: str) -> list[Verifier]:
        vkeys = self.state.logs().get(origin)
        if vkeys is None:
            raise UnknownLog(f"unknown log origin {origin!r}")
        return [parse_vkey(vkey) for vkey in vkeys]

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line(s) for the request, or a ``WitnessRefusal``."""
        request = parse_add_checkpoint(body)
        try:
            unverified = parse_note(request.checkpoint)
            checkpoint = Checkpoint.from_text(unverified.text)
        except NoteError as exc:
            raise BadRequest(f"not a checkpoint: {exc.message}") from None
        origin = checkpoint.origin
        keys = self._log_keys(origin)
        try:
            note = open_note(request.checkpoint, keys)
        except NoteError as exc:
            raise Forbidden(f"no valid signature from the log's key: {exc.message}") from None
        if request.old_size > checkpoint.size:
            raise BadRequest(f"old size {request.old_size} exceeds size {checkpoint.size}")

        def check_and_advance(record: Record) -> str:
            latest = record.latest(origin)
            if request.old_size != latest.size:
                raise SizeConflict(latest.size)
            if checkpoint.size == 0 and checkpoint.root_hash != EMPTY_ROOT:
                raise Inconsistent("a tree of size 0 has the empty root")
            if request.old_size == 0:
                if request.proof:
                    raise Inconsistent("a proof from size 0 must be empty")
            elif request.old_size == checkpoint.size:
                if request.proof or checkpoint.root_hash != latest.root:
                    raise Inconsistent(f"another root for the cosigned size {checkpoint.size}")
            else:
                assert latest.root is not None
                try:
                    verify_consistency(
                        request.old_size,
                        checkpoint.size,
                        request.proof,
                        latest.root,
                        checkpoint.root_hash,
                    )
                except ProofError as exc:
                    raise Inconsistent(f"the consistency proof fails: {exc.message}") from None
            line = self.cosigner.cosign(note.text).line
            log_signed = sign_note(Note(note.text, note.signatures))  # the log's, verified
            record.advance(origin, checkpoint.size, checkpoint.root_hash, log_signed + line)
            return line

        try:
            return self.state.transaction(check_and_advance)
        except Inconsistent as exc:
            self.state.keep_evidence(origin, exc.message, body)
            raise

    def checkpoint(self, hashed_origin: str) -> str | None:
        """The latest checkpoint cosigned for the origin with this SHA-256 hex, if any."""
        return self.state.checkpoint_by_hash(hashed_origin)


def check_log(origin: str, vkeys: list[str]) -> None:
    """Raise NoteError unless ``origin`` can be a checkpoint origin and every vkey parses."""
    Checkpoint(origin, 0, EMPTY_ROOT)
    for vkey in vkeys:
        parse_vkey(vkey)


def load_or_create_witness_key(path: str | Path, name: str | None = None) -> Cosigner:
    """The witness key (a signed-note signer key of type 0x04), created 0600 if absent
    (which needs ``name``, the key name that identifies the witness)."""
    key_path = Path(path)
    if not key_path.exists():
        if name is None:
            raise ConfigurationError(f"no witness key at {key_path}: create one with --name")
        cosigner = Cosigner.generate(name)
        try:
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise ConfigurationError(f"cannot create {key_path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(cosigner.skey + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    info = key_path.stat()
    if info.st_mode & 0o077:
        raise ConfigurationError(
            f"witness key file {key_path} has mode {stat.S_IMODE(info.st_mode):04o}; chmod 600"
        )
    try:
        cosigner = parse_witness_skey(key_path.read_text(encoding="ascii"))
    except (UnicodeDecodeError, NoteError):
        raise ConfigurationError(f"{key_path} does not hold a witness signer key") from None
    if name is not None and cosigner.name != name:
        raise ConfigurationError(
            f"{key_path} holds the witness key {cosigner.name!r}, not {name!r}"
        )
    return cosigner
