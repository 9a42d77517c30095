"""A tlog-proof verifier written from the C2SP and RFC texts alone.

It imports nothing from Sealtrail: an outsider's verifier, with ``cryptography``
for Ed25519 and the standard library for the rest. It checks what
c2sp.org/tlog-proof says a verifier checks, in that order: the leaf hash (from
``extra``), the origin, the log's signature (c2sp.org/signed-note), the witness
cosignatures (c2sp.org/tlog-cosignature, cosignature/v1) against a k-of-n
policy, and the RFC 6962 inclusion proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Rejected(Exception):
    pass


@dataclass(frozen=True)
class Key:
    name: str
    key_id: bytes
    public: Ed25519PublicKey


def parse_vkey(vkey: str, algorithm: int) -> Key:
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    if raw[0] != algorithm or len(raw) != 33:
        raise Rejected(f"vkey {name} is not algorithm {algorithm}")
    expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if expected.hex() != key_id_hex:
        raise Rejected(f"vkey {name}: key id mismatch")
    return Key(name, expected, Ed25519PublicKey.from_public_bytes(raw[1:]))


def _ed25519_ok(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _inclusion_root(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, step by step."""
    if index >= size:
        raise Rejected("index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Rejected("proof too long")
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Rejected("proof too short")
    return r


@dataclass(frozen=True)
class Verified:
    index: int
    tree_size: int
    leaf: dict[str, object]
    witnesses: frozenset[str]


def verify(
    text: str,
    *,
    origin: str,
    log_vkey: str,
    witness_vkeys: tuple[str, ...] = (),
    quorum: int = 0,
) -> Verified:
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Rejected("not a tlog-proof")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = base64.b64decode(rest.pop(0)[6:], validate=True)
    if not rest or not rest[0].startswith("index "):
        raise Rejected("no index")
    index = int(rest.pop(0)[6:])
    path = [base64.b64decode(line, validate=True) for line in rest]
    if extra is None:
        raise Rejected("this application needs the leaf bytes in extra")
    leaf_hash = hashlib.sha256(b"\x00" + extra).digest()

    body, _, signatures = note.rpartition("\n\n")
    body += "\n"
    checkpoint = body.split("\n")
    if checkpoint[0] != origin:
        raise Rejected(f"origin {checkpoint[0]!r} is not {origin!r}")
    size = int(checkpoint[1])
    root = base64.b64decode(checkpoint[2], validate=True)

    log_key = parse_vkey(log_vkey, 0x01)
    witnesses = [parse_vkey(v, 0x04) for v in witness_vkeys]
    log_signed = False
    cosigned: set[str] = set()
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            raise Rejected("bad signature line")
        name, _, b64 = line[2:].partition(" ")
        raw = base64.b64decode(b64, validate=True)
        if name == log_key.name and raw[:4] == log_key.key_id:
            if not _ed25519_ok(log_key.public, raw[4:], body.encode()):
                raise Rejected("the log signature does not verify")
            log_signed = True
        for witness in witnesses:
            if name == witness.name and raw[:4] == witness.key_id:
                timestamp = int.from_bytes(raw[4:12], "big")
                message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
                if not _ed25519_ok(witness.public, raw[12:], message):
                    raise Rejected(f"the cosignature of {name} does not verify")
                cosigned.add(name)
    if not log_signed:
        raise Rejected("not signed by the log")
    if len(cosigned) < quorum:
        raise Rejected(f"{len(cosigned)} witnesses cosigned, {quorum} needed")
    if _inclusion_root(index, size, leaf_hash, path) != root:
        raise Rejected("the inclusion proof does not lead to the checkpoint root")
    leaf = json.loads(extra)
    if leaf.get("seq") != index or f"sealtrail/{leaf.get('tenant_id')}" != origin:
        raise Rejected("the leaf is not the entry at this index of this log")
    return Verified(index, size, leaf, frozenset(cosigned))
