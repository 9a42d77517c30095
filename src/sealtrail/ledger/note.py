"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys.

A checkpoint is only worth something if anyone can check its signature with
standard tools, so this follows the reference implementation
(golang.org/x/mod/sumdb/note) byte for byte: the same key encodings, the same
signature lines, the same refusals, the same 100-signature cap.

* verifier key ``<name>+<8 hex key id>+base64(0x01 ‖ public key)``; signer key
  ``PRIVATE+KEY+<name>+<8 hex key id>+base64(0x01 ‖ seed)``. Base64 may hold
  ``+``, so a vkey is split on its first two ``+`` only.
* key id = the first 4 bytes (big-endian) of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key).
* a signed note is the text (ending in a newline), a blank line, then lines
  ``— <name> base64(key id ‖ signature)``; the signature covers the text only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sealtrail.errors import NoteError

ALG_ED25519: Final = 0x01
MAX_SIGNATURES: Final = 100
"""Go's cap; C2SP only requires accepting at least 16."""

_SIG_PREFIX: Final = "\u2014 "  # em dash, space
_HEX8: Final = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")  # every C0 control but newline
# Go's unicode.IsSpace: Latin-1 spaces plus the White_Space property.
_SPACES: Final = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

MALFORMED: Final = "malformed note"


def _valid_name(name: str) -> bool:
    """Non-empty, no Unicode space, no ``+``, valid UTF-8, no control character."""
    return (
        bool(name)
        and "+" not in name
        and _SPACES.isdisjoint(name)
        and _CONTROL.search(name) is None
        and _encodable(name)
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (padding required, nothing after it), or None."""
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(name: str, public_key: bytes) -> int:
    """The 32-bit key id of an Ed25519 ``public_key`` (32 raw bytes) under ``name``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _valid_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise NoteError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @property
    def vkey(self) -> str:
        """The C2SP verifier key: ``<name>+<hex id>+base64(0x01 ‖ public key)``."""
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


class Signer:
    """A named Ed25519 private key that signs notes. Its repr never shows the key."""

    __slots__ = ("_key", "_seed", "key_id", "name", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise NoteError(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        self.verifier = Verifier(name, self._key.public_key().public_bytes_raw())
        self.name = name
        self.key_id = self.verifier.key_id

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random key named ``name``."""
        return cls(name, os.urandom(32))

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def skey(self) -> str:
        """The C2SP signer key: ``PRIVATE+KEY+<name>+<hex id>+base64(0x01 ‖ seed)``."""
        encoded = _b64(bytes([ALG_ED25519]) + self._seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer(vkey={self.vkey!r})"


def _decode_key(encoded: str, kind: str) -> tuple[str, int, bytes]:
    """``<name>+<hex id>+<base64 key>`` → (name, id, raw key) after Go's checks."""
    name, _, rest = encoded.partition("+")
    hex_id, _, key64 = rest.partition("+")
    key = _b64decode(key64)
    if _HEX8.fullmatch(hex_id) is None or key is None or not _valid_name(name) or not key:
        raise NoteError(f"malformed {kind} key")
    if key[0] != ALG_ED25519:
        raise NoteError(f"unknown {kind} key algorithm {key[0]}")
    if len(key) != 33:
        raise NoteError(f"malformed {kind} key: {len(key) - 1} key bytes, not 32")
    return name, int(hex_id, 16), key[1:]


def parse_vkey(vkey: str) -> Verifier:
    """A verifier from its C2SP vkey; refuses any key whose id does not match."""
    name, wanted_id, public_key = _decode_key(vkey, "verifier")
    verifier = Verifier(name, public_key)
    if verifier.key_id != wanted_id:
        raise NoteError(f"verifier key id {wanted_id:08x} does not match its key")
    return verifier


def parse_skey(skey: str) -> Signer:
    """A signer from its C2SP skey; refuses any key whose id does not match."""
    private, _, rest = skey.partition("+")
    key_word, _, rest = rest.partition("+")
    if private != "PRIVATE" or key_word != "KEY":
        raise NoteError("malformed signer key")
    name, wanted_id, seed = _decode_key(rest, "signer")
    signer = Signer(name, seed)
    if signer.key_id != wanted_id:
        raise NoteError(f"signer key id {wanted_id:08x} does not match its key")
    return signer


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: key name, key id, and base64(key id ‖ signature)."""

    name: str
    key_id: int
    base64: str

    @property
    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {self.base64}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note's text with its verified and its unverified (unknown-key) signatures."""

    text: str
    signatures: tuple[Signature, ...] = ()
    unverified: tuple[Signature, ...] = ()


def _malformed(why: str) -> NoteError:
    return NoteError(f"{MALFORMED}: {why}")


def _as_text(message: str | bytes) -> str:
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not valid UTF-8") from None
    elif not _encodable(message):
        raise _malformed("not valid UTF-8")
    if _CONTROL.search(message):
        raise _malformed("contains a control character")
    return message


def _split(message: str | bytes) -> tuple[str, list[tuple[Signature, bytes]]]:
    """Text and each signature line (with its raw signature bytes), checked for form."""
    msg = _as_text(message)
    split = msg.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise _malformed("the signatures must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    parsed = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise _malformed(f"not a signature line: {line[:40]!r}")
        name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        raw = _b64decode(encoded)
        if raw is None or not encoded or len(raw) < 5 or not _valid_name(name):
            raise _malformed(f"bad signature line: {line[:40]!r}")
        parsed.append((Signature(name, int.from_bytes(raw[:4], "big"), encoded), raw[4:]))
    return text, parsed


def parse_note(message: str | bytes) -> Note:
    """The note's text and signatures, none of them checked (all unverified)."""
    text, parsed = _split(message)
    return Note(text, (), tuple(dict.fromkeys(sig for sig, _ in parsed)))


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and check it against the known ``verifiers``.

    Signatures from unknown keys are kept as unverified; a known key's bad
    signature, a key listed twice and then used, or no verified signature at
    all is a NoteError.
    """
    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    text, parsed = _split(message)
    signed = text.encode("utf-8")
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for sig, raw in parsed:
        ident = (sig.name, sig.key_id)
        candidates = known.get(ident)
        if candidates is None:
            unverified[sig] = None
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {sig.name}+{sig.key_id:08x}")
        if ident in verified:
            continue
        if not candidates[0].verify(signed, raw):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified[ident] = sig
    if not verified:
        raise NoteError("note has no verifiable signatures")
    return Note(text, tuple(verified.values()), tuple(unverified))


def sign_note(note: str | Note, *signers: Signer) -> str:
    """The note text followed by its signatures, as Go's ``note.Sign`` writes it.

    Existing signatures come first, in order, except those from the same key
    (name and id) as a new signer, which are replaced; new ones follow.
    """
    if isinstance(note, str):
        note = Note(note)
    text = _as_text(note.text)
    if not text.endswith("\n"):
        raise _malformed("the text must end with a newline")
    message = text.encode("utf-8")
    replaced = {(signer.name, signer.key_id) for signer in signers}
    lines = [text, "\n"]
    for sig in (*note.signatures, *note.unverified):
        if not _valid_name(sig.name):
            raise _malformed(f"invalid signer name {sig.name!r}")
        if (sig.name, sig.key_id) in replaced:
            continue
        raw = _b64decode(sig.base64)
        if raw is None or len(raw) < 4 or int.from_bytes(raw[:4], "big") != sig.key_id:
            raise _malformed(f"signature of {sig.name} does not carry key id {sig.key_id:08x}")
        lines.append(sig.line)
    for signer in signers:
        signature = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(Signature(signer.name, signer.key_id, _b64(signature)).line)
    return "".join(lines)
