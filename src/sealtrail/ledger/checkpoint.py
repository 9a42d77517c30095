"""Signed checkpoints (c2sp.org/tlog-checkpoint) and the key that signs them.

A checkpoint commits the service to one tree head per tenant: origin line
``sealtrail/<tenant_id>``, tree size, base64 root hash. The ``CheckpointSigner``
is the only holder of the signing key in the process and refuses to sign a
tree that does not extend the previous checkpoint of the same origin, so a
rewritten history can never carry the service's signature.

**Key name vs origin.** tlog-checkpoint says the log's key name SHOULD match
the origin line. Sealtrail deliberately does not: one Ed25519 key, named once
(``sealtrail`` by default), signs every tenant's checkpoints, and each
checkpoint's origin names its tenant. A signed-note key id is derived from the
key *name*, so a per-tenant name would need a per-tenant vkey; with one name
the single published vkey verifies any tenant's checkpoint with any standard
note verifier, and the verifier checks the origin line to know which tenant's
tree it holds. sum.golang.org does the same (key ``sum.golang.org``, origin
``go.sum database tree``), and the transparency-dev checkpoint parser takes the
expected origin separately from the log's verifier for this reason.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeAlias

from sealtrail.errors import ConfigurationError, InconsistentTree, NoteError, SealtrailError
from sealtrail.ledger.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from sealtrail.ledger.note import (
    Note,
    Signer,
    Verifier,
    open_note,
    parse_skey,
    sign_note,
)
from sealtrail.ledger.signer_state import SignerState

DEFAULT_KEY_NAME: Final = "sealtrail"
ORIGIN_PREFIX: Final = "sealtrail/"
MAX_TREE_SIZE: Final = 2**64 - 1

_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")

ProofSource: TypeAlias = Callable[[int, int], Sequence[bytes]]
"""``(old size, new size) → consistency proof``, called only when one is needed."""


def origin_for_tenant(tenant_id: str) -> str:
    """The checkpoint origin line of a tenant's log: ``sealtrail/<tenant_id>``."""
    if not tenant_id or _CONTROL.search(tenant_id):
        raise NoteError(f"tenant id {tenant_id!r} cannot name a checkpoint origin")
    return ORIGIN_PREFIX + tenant_id


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: origin, size, root hash, and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint origin is one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"tree size {self.size} is out of range")
        if any(not line or "\n" in line for line in self.extensions):
            raise NoteError("checkpoint extension lines must be single non-empty lines")

    def to_text(self) -> str:
        """The note text: the body that gets signed."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def from_text(cls, text: str, *, hash_size: int | None = HASH_SIZE) -> Checkpoint:
        """Parse a checkpoint body. ``hash_size=None`` accepts a root of any length."""
        if not text.endswith("\n"):
            raise NoteError("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has at least three lines")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise NoteError("the checkpoint origin is empty")
        if _DECIMAL.fullmatch(size_text) is None or int(size_text) > MAX_TREE_SIZE:
            raise NoteError(f"bad checkpoint tree size {size_text[:30]!r}")
        try:
            root = binascii.a2b_base64(root_text.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError):
            raise NoteError("the checkpoint root hash is not base64") from None
        if hash_size is not None and len(root) != hash_size:
            raise NoteError(f"the checkpoint root hash is {len(root)} bytes, not {hash_size}")
        if any(not line for line in extensions):
            raise NoteError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(
    signed_note: str | bytes,
    *,
    origin: str,
    log_verifier: Verifier,
    other_verifiers: Sequence[Verifier] = (),
    hash_size: int | None = HASH_SIZE,
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint: the log's own signature is required, cosignatures
    from ``other_verifiers`` are checked when present, unknown ones are ignored, and
    the origin must be the expected one."""
    note = open_note(signed_note, [log_verifier, *other_verifiers])
    log_key = (log_verifier.name, log_verifier.key_id)
    if not any((sig.name, sig.key_id) == log_key for sig in note.signatures):
        raise NoteError(f"checkpoint is not signed by the log key {log_verifier.name}")
    checkpoint = Checkpoint.from_text(note.text, hash_size=hash_size)
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin is {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint, note


class CheckpointSigner:
    """Signs tree heads with the log key, and never two that are inconsistent.

    With a ``SignerState`` it also remembers, outside the database, the last
    checkpoint it signed per origin, and refuses any tree that is not a
    consistent extension of that one, whatever the database says.
    """

    __slots__ = ("_signer", "state")

    def __init__(self, signer: Signer, state: SignerState | None = None) -> None:
        self._signer = signer
        self.state = state

    @property
    def verifier(self) -> Verifier:
        return self._signer.verifier

    @property
    def vkey(self) -> str:
        """The one verifier key that checks every tenant's checkpoints."""
        return self._signer.vkey

    def sign(
        self,
        checkpoint: Checkpoint,
        *,
        previous: Checkpoint | None,
        proof: Sequence[bytes] | ProofSource = (),
    ) -> str:
        """Sign ``checkpoint`` if it extends ``previous`` (the last one stored for
        this origin, or None for the first); ``proof`` is the consistency proof
        from it, or a callable that fetches one only when it is needed.

        With a signer state, ``checkpoint`` must also extend the last one this
        signer signed for the origin. If that one is *larger* and ``checkpoint``
        is a consistent prefix of it (another process signed meanwhile), its
        note is returned instead of a new signature: the returned note may
        therefore be for a larger tree than asked.

        Raises InconsistentTree, signing nothing, when the trees disagree.
        """
        if len(checkpoint.root_hash) != HASH_SIZE:
            raise InconsistentTree(f"a root hash is {HASH_SIZE} bytes")
        if checkpoint.size == 0 and checkpoint.root_hash != EMPTY_ROOT:
            raise InconsistentTree("an empty tree has the empty root")
        if previous is not None:
            self._check_extends(previous, checkpoint, proof)
        if self.state is None:
            return sign_note(checkpoint.to_text(), self._signer)
        with self.state.locked(checkpoint.origin) as slot:
            kept_note = slot.read()
            if kept_note is not None:
                kept = self._open_state(kept_note, checkpoint.origin)
                if kept.size >= checkpoint.size:
                    self._check_prefix(checkpoint, kept, proof)
                    return kept_note
                self._check_extends(kept, checkpoint, proof, own=True)
            note = sign_note(checkpoint.to_text(), self._signer)
            slot.write(note)
            return note

    def last_signed(self, origin: str) -> tuple[Checkpoint, str] | None:
        """The last checkpoint this signer signed for ``origin`` and its note (with any
        cosignatures kept since), from the signer state; None without one."""
        if self.state is None:
            return None
        note = self.state.read(origin)
        if note is None:
            return None
        return self._open_state(note, origin), note

    def keep_cosigned(self, cosigned_note: str, origin: str) -> bool:
        """Replace the kept note by the same checkpoint with cosignatures added;
        False (nothing kept) if the signer has signed another checkpoint since."""
        if self.state is None:
            return False
        wanted = self._open_state(cosigned_note, origin)
        with self.state.locked(origin) as slot:
            kept_note = slot.read()
            if kept_note is None or self._open_state(kept_note, origin) != wanted:
                return False
            slot.write(cosigned_note)
            return True

    def open(self, signed_note: str | bytes, origin: str) -> Checkpoint:
        """A checkpoint this log signed for ``origin`` (e.g. the last one stored),
        verified, so a forged or altered ``previous`` is refused before use."""
        checkpoint, _ = open_checkpoint(signed_note, origin=origin, log_verifier=self.verifier)
        return checkpoint

    def _open_state(self, note: str, origin: str) -> Checkpoint:
        try:
            return self.open(note, origin)
        except NoteError as exc:
            where = self.state.directory if self.state is not None else "?"
            raise InconsistentTree(
                f"{origin}: the signer state in {where} does not hold a checkpoint this key "
                f"signed ({exc.message}); refusing to sign until an operator restores it"
            ) from None

    def _check_prefix(
        self, checkpoint: Checkpoint, kept: Checkpoint, proof: Sequence[bytes] | ProofSource
    ) -> None:
        """``checkpoint`` is the signed ``kept`` tree or a consistent prefix of it."""
        what = (
            f"{checkpoint.origin}: refusing to sign the tree of {checkpoint.size} events: "
            f"this signer already signed {kept.size} events for it "
            f"(its own record, in {self.state.directory if self.state else '?'})"
        )
        if kept.size == checkpoint.size:
            if kept.root_hash != checkpoint.root_hash:
                raise InconsistentTree(f"{what} with another root: the history was rewritten")
            return
        path: Sequence[bytes] = ()
        try:
            path = proof(checkpoint.size, kept.size) if callable(proof) else ()
            verify_consistency(
                checkpoint.size, kept.size, path, checkpoint.root_hash, kept.root_hash
            )
        except SealtrailError as exc:
            raise InconsistentTree(
                f"{what}, and the database cannot prove it only grew since "
                f"({exc.message}): it was rolled back or rewritten"
            ) from exc

    def _check_extends(
        self,
        previous: Checkpoint,
        checkpoint: Checkpoint,
        proof: Sequence[bytes] | ProofSource,
        *,
        own: bool = False,
    ) -> None:
        signed = "this signer's own record of" if own else "the signed"
        if previous.origin != checkpoint.origin:
            raise InconsistentTree(
                f"checkpoint for {checkpoint.origin!r} cannot follow one for {previous.origin!r}"
            )
        if checkpoint.size < previous.size:
            raise InconsistentTree(
                f"{checkpoint.origin}: tree size {checkpoint.size} is smaller than "
                f"the signed size {previous.size}"
            )
        path: Sequence[bytes] = ()
        try:
            if not callable(proof):
                path = proof
            elif 0 < previous.size < checkpoint.size:
                path = proof(previous.size, checkpoint.size)
            verify_consistency(
                previous.size, checkpoint.size, path, previous.root_hash, checkpoint.root_hash
            )
        except SealtrailError as exc:
            raise InconsistentTree(
                f"{checkpoint.origin}: tree {checkpoint.size} is not consistent with "
                f"{signed} tree {previous.size}: {exc.message}"
            ) from exc


# -- the key file -------------------------------------------------------------------


def load_or_create_signer_key(path: str | os.PathLike[str], name: str = DEFAULT_KEY_NAME) -> Signer:
    """The log's signer key from ``path`` (a C2SP skey), created on first use.

    A new file is written with mode 0600 and linked into place only once
    complete, so a concurrent starter either wins or reads the winner's key.
    A file that group or others may access, that does not parse, or whose key
    name is not ``name`` is refused with a ConfigurationError.
    """
    key_path = Path(path)
    if not key_path.exists():
        signer = Signer.generate(name)
        _create_key_file(key_path, signer.skey + "\n")
    return _load_key_file(key_path, name)


def load_signer_key(path: str | os.PathLike[str], name: str = DEFAULT_KEY_NAME) -> Signer:
    """The log's signer key from an existing file; never creates one."""
    return _load_key_file(Path(path), name)


def _load_key_file(path: Path, name: str) -> Signer:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise ConfigurationError(f"cannot open signing key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"signing key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise ConfigurationError(
                f"signing key file {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
                "it must be readable by its owner only (chmod 600)"
            )
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        signer = parse_skey(raw.decode("ascii").strip())
    except (UnicodeDecodeError, NoteError):
        raise ConfigurationError(
            f"signing key file {path} does not hold a C2SP signer key "
            "(PRIVATE+KEY+<name>+<id>+<key>)"
        ) from None
    if signer.name != name:
        raise ConfigurationError(
            f"signing key file {path} holds the key {signer.name!r}, not {name!r}; "
            "renaming a key changes its verifier key"
        )
    return signer


def _create_key_file(path: Path, content: str) -> None:
    if not path.parent.is_dir():
        raise ConfigurationError(f"directory {path.parent} for the signing key does not exist")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        _write_exclusive(temporary, content)
        try:
            os.link(temporary, path)  # atomic, and never over an existing file: theirs wins
        except FileExistsError:
            pass
        except OSError:  # no hard links on this filesystem: create in place, still exclusive
            with contextlib.suppress(FileExistsError):
                _write_exclusive(path, content)
    except OSError as exc:
        raise ConfigurationError(f"cannot create signing key file {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _fsync_directory(path.parent)


def _write_exclusive(path: Path, content: str) -> None:
    """Create ``path`` (never an existing one) with mode 0600 and write ``content``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
