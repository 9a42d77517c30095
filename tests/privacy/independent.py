"""An outsider's leaf and proof check: rfc8785 and a few lines of RFC 6962, nothing of Sealtrail."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785

PERSONAL = (
    "actor.name",
    "actor.email",
    "target.name",
    "target.email",
    "description",
    "context",
    "ip",
    "user_agent",
)
SERVER_ONLY = ("category", "kind", "salts", "commitments", "proof")


def _commit(salt_b64: str, value: Any) -> dict[str, str]:
    data = rfc8785.dumps(value) if isinstance(value, dict) else value.encode("utf-8")
    digest = hashlib.sha256(base64.b64decode(salt_b64) + data).digest()
    return {"$commit": base64.b64encode(digest).decode("ascii")}


def leaf_hash(event: dict[str, Any]) -> bytes:
    """SPEC §3: the event with each personal field as its commitment, JCS, SHA-256(0x00 ‖ …)."""
    salts, kept = event.get("salts", {}), event.get("commitments", {})
    leaf: dict[str, Any] = {k: v for k, v in event.items() if k not in SERVER_ONLY}
    leaf["v"] = 1
    for path in PERSONAL:
        head, _, tail = path.partition(".")
        holder = leaf.get(head) if tail else leaf
        key = tail or head
        if not isinstance(holder, dict) or key not in holder:
            continue
        holder = dict(holder)
        if tail:
            leaf[head] = holder
        holder[key] = {"$commit": kept[path]} if path in kept else _commit(salts[path], holder[key])
        if not tail:
            leaf = holder
    return hashlib.sha256(b"\x00" + rfc8785.dumps(leaf)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof too long")
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def note_root(note: str) -> tuple[int, bytes]:
    """Tree size and root hash from a checkpoint note's body (origin, size, root)."""
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
