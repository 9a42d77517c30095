"""Row ↔ Event translation shared by the SQL engines.

Both engines store an event as the same flat row (``COLUMNS``); only
placeholders and types differ, so the mapping lives here once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

import orjson

from sealtrail.events import Actor, Event, Resource, Target
from sealtrail.ledger.leaf import PERSONAL_FIELDS, SALT_SIZE
from sealtrail.limits import ERASED

COLUMNS: Final = (
    "tenant_id",
    "seq",
    "id",
    "action",
    "category",
    "kind",
    "occurred_at",
    "received_at",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_role",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "target_email",
    "resource_type",
    "resource_id",
    "resource_name",
    "account_id",
    "description",
    "context",
    "ip",
    "ip_key",
    "user_agent",
    "request_id",
    "salts",
    "commitments",
    "leaf_hash",
)
SELECT_LIST: Final = ", ".join(COLUMNS)

# Salts are packed in PERSONAL_FIELDS order: a presence bitmask byte, then 16 bytes each.
# Erasure overwrites a field's salt with zeros in place (the layout never changes, so
# the database guards can check it slot by slot); a zero salt reads as no salt.
SALTED_FIELDS: Final = PERSONAL_FIELDS
SALT_BYTES: Final = SALT_SIZE
ERASED_SALT: Final = bytes(SALT_SIZE)
# Commitments of erased fields: entries of one byte (the field's place in
# PERSONAL_FIELDS) and the 32-byte SHA-256 digest, appended as fields are erased.
COMMITMENT_ENTRY: Final = 33


@functools.lru_cache(maxsize=8192)
def ip_key(address: str) -> bytes:
    """16 bytes that sort like the address; IPv4 maps into ::ffff:0:0/96."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv4Address):
        return b"\x00" * 10 + b"\xff\xff" + parsed.packed
    return parsed.packed


def network_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[bytes, bytes]:
    """Inclusive (low, high) ip_key bounds of a network."""
    return ip_key(str(network.network_address)), ip_key(str(network.broadcast_address))


def pack_salts(salts: Mapping[str, bytes]) -> bytes:
    mask = 0
    parts = []
    for bit, name in enumerate(SALTED_FIELDS):
        salt = salts.get(name)
        if salt is not None:
            mask |= 1 << bit
            parts.append(salt)
    return bytes([mask]) + b"".join(parts)


def unpack_salts(blob: bytes) -> dict[str, bytes]:
    if not blob:
        return {}
    mask = blob[0]
    out: dict[str, bytes] = {}
    offset = 1
    for bit, name in enumerate(SALTED_FIELDS):
        if mask & (1 << bit):
            salt = bytes(blob[offset : offset + SALT_BYTES])
            if salt != ERASED_SALT:
                out[name] = salt
            offset += SALT_BYTES
    return out


def erase_salts(blob: bytes, paths: Collection[str]) -> bytes:
    """The packed salts with the salt of each of ``paths`` overwritten by zeros."""
    data = bytearray(blob)
    if not data:
        return bytes(data)
    offset = 1
    for bit, name in enumerate(SALTED_FIELDS):
        if data[0] & (1 << bit):
            if name in paths:
                data[offset : offset + SALT_BYTES] = ERASED_SALT
            offset += SALT_BYTES
    return bytes(data)


def pack_commitments(commitments: Mapping[str, str]) -> bytes:
    """Commitment entries for a set of erased fields (base64 → the stored form)."""
    parts = []
    for path, text in commitments.items():
        digest = base64.b64decode(text, validate=True)
        if len(digest) != COMMITMENT_ENTRY - 1:
            raise ValueError(f"the commitment of {path} is not a SHA-256 digest")
        parts.append(bytes([SALTED_FIELDS.index(path)]) + digest)
    return b"".join(parts)


def unpack_commitments(blob: bytes | None) -> dict[str, str]:
    """The stored commitments by path; a field's first entry counts, a malformed tail is
    ignored (the leaf it would have explained then fails verification)."""
    out: dict[str, str] = {}
    if not blob:
        return out
    data = bytes(blob)
    for offset in range(0, len(data) - COMMITMENT_ENTRY + 1, COMMITMENT_ENTRY):
        index = data[offset]
        if index < len(SALTED_FIELDS):
            digest = data[offset + 1 : offset + COMMITMENT_ENTRY]
            text = binascii.b2a_base64(digest, newline=False).decode("ascii")
            out.setdefault(SALTED_FIELDS[index], text)
    return out


def to_row(event: Event, leaf_hash: bytes) -> tuple[Any, ...]:
    actor, target, resource = event.actor, event.target, event.resource
    return (
        event.tenant_id,
        event.seq,
        event.id,
        event.action,
        event.category,
        event.kind,
        event.occurred_at,
        event.received_at,
        event.outcome,
        actor.type,
        actor.id,
        actor.role,
        actor.name,
        actor.email,
        target.type if target else None,
        target.id if target else None,
        target.name if target else None,
        target.email if target else None,
        resource.type if resource else None,
        resource.id if resource else None,
        resource.name if resource else None,
        event.account_id,
        event.description,
        None if event.context is None else orjson.dumps(event.context).decode("utf-8"),
        event.ip,
        None if event.ip is None else ip_key(event.ip),
        event.user_agent,
        event.request_id,
        pack_salts(event.salts),
        None,  # commitments: only erasure writes them
        leaf_hash,
    )


def from_row(row: Sequence[Any]) -> Event:
    (
        tenant_id,
        seq,
        ident,
        action,
        category,
        kind,
        occurred_at,
        received_at,
        outcome,
        actor_type,
        actor_id,
        actor_role,
        actor_name,
        actor_email,
        target_type,
        target_id,
        target_name,
        target_email,
        resource_type,
        resource_id,
        resource_name,
        account_id,
        description,
        context,
        ip,
        _ip_key,
        user_agent,
        request_id,
        salts,
        commitments,
        _leaf_hash,
    ) = row
    erased = unpack_commitments(commitments)
    if erased:
        actor_name, actor_email = (
            _shown("actor.name", actor_name, erased),
            _shown("actor.email", actor_email, erased),
        )
        target_name, target_email = (
            _shown("target.name", target_name, erased),
            _shown("target.email", target_email, erased),
        )
        description = _shown("description", description, erased)
        ip = _shown("ip", ip, erased)
        user_agent = _shown("user_agent", user_agent, erased)
    return Event(
        tenant_id=tenant_id,
        seq=seq,
        id=ident,
        action=action,
        category=category,
        kind=kind,
        occurred_at=occurred_at,
        received_at=received_at,
        outcome=outcome,
        actor=Actor(actor_type, actor_id, actor_role, actor_name, actor_email),
        target=_target(target_type, target_id, target_name, target_email),
        resource=_resource(resource_type, resource_id, resource_name),
        account_id=account_id,
        description=description,
        context=None if context is None else orjson.loads(context),
        ip=ip,
        user_agent=user_agent,
        request_id=request_id,
        salts=unpack_salts(bytes(salts)),
        commitments=erased,
    )


def _shown(path: str, value: str | None, erased: Mapping[str, str]) -> str | None:
    """An erased text field reads ``[erased]``; its commitment stands in for it in the leaf."""
    return ERASED if value is None and path in erased else value


# A part is present when any of its columns is, so a tampered or half-erased part
# cannot silently vanish from the event (verification then refuses its leaf).
def _target(
    kind: str | None, ident: str | None, name: str | None, email: str | None
) -> Target | None:
    if kind is None and ident is None and name is None and email is None:
        return None
    return Target(kind, ident, name, email)  # type: ignore[arg-type]


def _resource(kind: str | None, ident: str | None, name: str | None) -> Resource | None:
    if kind is None and ident is None and name is None:
        return None
    return Resource(kind, ident, name)  # type: ignore[arg-type]
