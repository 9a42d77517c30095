"""Witness cosignatures (c2sp.org/tlog-cosignature, the Ed25519 ``cosignature/v1`` type).

A cosignature is a signed-note signature line on a checkpoint, by a witness:

* key id = SHA-256(name ‖ "\\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4];
  vkey ``<name>+<hex id>+base64(0x04 ‖ public key)``, and the matching signer
  key ``PRIVATE+KEY+<name>+<hex id>+base64(0x04 ‖ seed)``;
* the signature line carries base64(key id ‖ u64 big-endian timestamp ‖ Ed25519
  signature), and the signed message is ``cosignature/v1\\n``, ``time <ts>\\n``,
  then the checkpoint body (its text, not its signatures).

It states: as of that time, this is the largest tree the witness has seen for
the origin, and it is consistent with every tree it saw before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sealtrail.errors import NoteError
from sealtrail.ledger.note import Signature, parse_note

ALG_COSIGNATURE_V1: Final = 0x04
HEADER: Final = "cosignature/v1\n"
MAX_TIMESTAMP: Final = 2**63 - 1

_HEX8: Final = re.compile(r"[0-9a-fA-F]{8}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header, the time line, the checkpoint body."""
    return f"{HEADER}time {timestamp}\n{body}".encode()


class CosignatureVerifier:
    """A witness's Ed25519 public key under its name, for cosignature/v1."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not name or any(c.isspace() for c in name) or "+" in name:
            raise NoteError(f"invalid witness key name {name!r}")
        if len(public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = _key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @property
    def vkey(self) -> str:
        encoded = _b64(bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def matches(self, signature: Signature) -> bool:
        return (signature.name, signature.key_id) == (self.name, self.key_id)

    def timestamp(self, body: str, signature: Signature) -> int:
        """The verified timestamp of this witness's ``signature`` on ``body``.

        Raises NoteError if the signature is not this key's valid cosignature.
        """
        raw = binascii.a2b_base64(signature.base64)
        if len(raw) != 4 + 8 + 64 or not self.matches(signature):
            raise NoteError(f"malformed cosignature from {self.name}")
        stamp = int.from_bytes(raw[4:12], "big")
        try:
            self._key.verify(raw[12:], signed_message(body, stamp))
        except InvalidSignature:
            raise NoteError(f"invalid cosignature from {self.name}") from None
        if stamp > MAX_TIMESTAMP:
            raise NoteError(f"cosignature from {self.name} has an impossible timestamp")
        return stamp

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CosignatureVerifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.vkey!r})"


class Cosigner:
    """A witness's private key. Its repr never shows the key."""

    __slots__ = ("_key", "_seed", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.verifier = CosignatureVerifier(name, self._key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, os.urandom(32))

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def skey(self) -> str:
        encoded = _b64(bytes([ALG_COSIGNATURE_V1]) + self._seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{encoded}"

    def cosign(self, body: str, timestamp: int | None = None) -> Signature:
        """The cosignature/v1 line on checkpoint ``body`` (now, unless ``timestamp``)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        if not 0 < stamp <= MAX_TIMESTAMP:
            raise NoteError("a cosignature timestamp is positive and below 2^63")
        raw = (
            self.verifier.key_id.to_bytes(4, "big")
            + stamp.to_bytes(8, "big")
            + self._key.sign(signed_message(body, stamp))
        )
        return Signature(self.name, self.verifier.key_id, _b64(raw))

    def __repr__(self) -> str:
        return f"Cosigner(vkey={self.vkey!r})"


def _decode(encoded: str, what: str) -> tuple[str, int, bytes]:
    name, _, rest = encoded.partition("+")
    hex_id, _, key64 = rest.partition("+")
    try:
        key = binascii.a2b_base64(key64.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"malformed {what} key") from None
    if _HEX8.fullmatch(hex_id) is None or not name or len(key) != 33:
        raise NoteError(f"malformed {what} key")
    if key[0] != ALG_COSIGNATURE_V1:
        raise NoteError(
            f"{what} key {name} has algorithm {key[0]:#04x}, not 0x04 (Ed25519 cosignature/v1)"
        )
    return name, int(hex_id, 16), key[1:]


def parse_witness_vkey(vkey: str) -> CosignatureVerifier:
    """A witness verifier from its vkey (type 0x04); refuses a wrong key id."""
    name, wanted, public_key = _decode(vkey.strip(), "witness verifier")
    verifier = CosignatureVerifier(name, public_key)
    if verifier.key_id != wanted:
        raise NoteError(f"witness key id {wanted:08x} does not match its key")
    return verifier


def parse_witness_skey(skey: str) -> Cosigner:
    private, _, rest = skey.strip().partition("+")
    word, _, rest = rest.partition("+")
    if (private, word) != ("PRIVATE", "KEY"):
        raise NoteError("malformed witness signer key")
    name, wanted, seed = _decode(rest, "witness signer")
    cosigner = Cosigner(name, seed)
    if cosigner.verifier.key_id != wanted:
        raise NoteError(f"witness key id {wanted:08x} does not match its key")
    return cosigner


@dataclass(frozen=True, slots=True)
class Cosignatures:
    """Which of the known witnesses validly cosigned a note, with their timestamps."""

    body: str
    timestamps: Mapping[CosignatureVerifier, int]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.timestamps)


def cosignatures(note: str | bytes, witnesses: Iterable[CosignatureVerifier]) -> Cosignatures:
    """Check every cosignature on ``note`` from one of ``witnesses``; others are ignored.

    A line that names a known witness key but does not verify is a NoteError
    (c2sp.org/signed-note: such a note is malformed). The log's own signature
    is not checked here.
    """
    parsed = parse_note(note)
    known = list(witnesses)
    found: dict[CosignatureVerifier, int] = {}
    for signature in parsed.unverified:
        for witness in known:
            if witness.matches(signature):
                found[witness] = witness.timestamp(parsed.text, signature)
    return Cosignatures(parsed.text, found)


def signature_lines(signatures: Iterable[Signature]) -> str:
    return "".join(sig.line for sig in signatures)
