"""A stored row's leaf hash, rebuilt straight from its columns.

Verification rebuilds the leaf of every row. Going through ``codec.from_row``,
``Event.to_dict`` and ``leaf.leaf_hash`` costs about three times what the leaf
itself does (an ``Event`` with its parts, every salt unpacked, a dict of the
API's whole object), so ``row_leaf`` builds the leaf object from the columns
directly, in JCS key order, for the rows that are what an append writes:
every value of the type it must have, times within years 1970–9999, no erased
field. Any other row — erased, tampered, of a form this path does not know —
goes the reference way (``from_row`` → ``to_dict`` → ``leaf_hash``), and so
does any row whose fast leaf disagrees with its stored leaf hash, so a
reported problem is always the reference path's. The tests hold the two paths
equal on rows of every shape (tests/verify/test_row_leaf.py).
"""

from __future__ import annotations

import hashlib
from binascii import b2a_base64
from collections.abc import Sequence
from typing import Any, Final

import orjson

from sealtrail.events import format_timestamp
from sealtrail.ledger import leaf
from sealtrail.store.codec import SALT_BYTES, SALTED_FIELDS, from_row

# Stands in for the leaf of a row that is missing or has no leaf form, so the rebuild goes on.
UNHASHABLE: Final = bytes(32)

_sha256 = hashlib.sha256
_MAX_SAFE_INT: Final = 2**53 - 1
_FIRST_TIME: Final = 0  # 1970-01-01: from here to the end of 9999 the text is always 4-digit
_END_OF_TIME: Final = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z in µs
_ZERO_SALT: Final = bytes(SALT_BYTES)
_LEAF_VERSION: Final = leaf.LEAF_VERSION


class _NotPlain(Exception):
    """The row is not of the form the fast path knows; the reference path decides."""


def _salt_slots() -> tuple[tuple[int, ...], ...]:
    """For each presence mask, each personal field's salt offset in the packed blob (or -1)."""
    table = []
    for mask in range(256):
        offsets = []
        offset = 1
        for bit in range(len(SALTED_FIELDS)):
            if mask & (1 << bit):
                offsets.append(offset)
                offset += SALT_BYTES
            else:
                offsets.append(-1)
        table.append(tuple(offsets))
    return tuple(table)


_SLOTS: Final = _salt_slots()
_PACKED_SIZE: Final = tuple(1 + SALT_BYTES * mask.bit_count() for mask in range(256))
"""For each presence mask, the blob's length: a shorter one is not of the plain form."""
_ACTOR_NAME: Final = SALTED_FIELDS.index("actor.name")
_ACTOR_EMAIL: Final = SALTED_FIELDS.index("actor.email")
_TARGET_NAME: Final = SALTED_FIELDS.index("target.name")
_TARGET_EMAIL: Final = SALTED_FIELDS.index("target.email")
_DESCRIPTION: Final = SALTED_FIELDS.index("description")
_CONTEXT: Final = SALTED_FIELDS.index("context")
_IP: Final = SALTED_FIELDS.index("ip")
_USER_AGENT: Final = SALTED_FIELDS.index("user_agent")


def _commit(value: object, salts: bytes, slots: tuple[int, ...], field: int) -> dict[str, str]:
    """``{"$commit": base64(SHA-256(salt ‖ UTF-8 text))}`` of a present text field."""
    offset = slots[field]
    if offset < 0 or type(value) is not str:
        raise _NotPlain
    salt = salts[offset : offset + SALT_BYTES]  # 16 bytes: the blob's length was checked
    if salt == _ZERO_SALT:
        raise _NotPlain
    digest = _sha256(salt + value.encode("utf-8")).digest()
    return {"$commit": b2a_base64(digest, newline=False).decode("ascii")}


def _time(value: object) -> str:
    if type(value) is not int or not _FIRST_TIME <= value < _END_OF_TIME:
        raise _NotPlain
    return format_timestamp(value)


def _plain_leaf_hash(row: Sequence[Any]) -> bytes:
    """The leaf hash of a row of the plain form, or ``_NotPlain``."""
    (
        tenant_id,
        seq,
        ident,
        action,
        _category,
        _kind,
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
    if commitments or type(salts) is not bytes or not salts:
        raise _NotPlain
    if (
        type(tenant_id) is not str
        or type(ident) is not str
        or type(action) is not str
        or type(outcome) is not str
        or type(actor_type) is not str
        or type(actor_id) is not str
        or type(seq) is not int
        or not 0 <= seq <= _MAX_SAFE_INT
    ):
        raise _NotPlain
    mask = salts[0]
    if len(salts) < _PACKED_SIZE[mask]:
        raise _NotPlain
    slots = _SLOTS[mask]
    out: dict[str, Any] = {}
    if account_id is not None:
        if type(account_id) is not str:
            raise _NotPlain
        out["account_id"] = account_id
    out["action"] = action
    actor: dict[str, Any] = {}
    if actor_email is not None:
        actor["email"] = _commit(actor_email, salts, slots, _ACTOR_EMAIL)
    actor["id"] = actor_id
    if actor_name is not None:
        actor["name"] = _commit(actor_name, salts, slots, _ACTOR_NAME)
    if actor_role is not None:
        if type(actor_role) is not str:
            raise _NotPlain
        actor["role"] = actor_role
    actor["type"] = actor_type
    out["actor"] = actor
    if context is not None:
        offset = slots[_CONTEXT]
        if offset < 0 or type(context) is not str:
            raise _NotPlain
        value = orjson.loads(context)
        if type(value) is not dict:
            raise _NotPlain
        salt = salts[offset : offset + SALT_BYTES]
        if len(salt) != SALT_BYTES or salt == _ZERO_SALT:
            raise _NotPlain
        out["context"] = {"$commit": leaf.commitment(salt, value)}
    if description is not None:
        out["description"] = _commit(description, salts, slots, _DESCRIPTION)
    out["id"] = ident
    if ip is not None:
        out["ip"] = _commit(ip, salts, slots, _IP)
    out["occurred_at"] = _time(occurred_at)
    out["outcome"] = outcome
    out["received_at"] = _time(received_at)
    if request_id is not None:
        if type(request_id) is not str:
            raise _NotPlain
        out["request_id"] = request_id
    if resource_type is not None or resource_id is not None or resource_name is not None:
        if type(resource_type) is not str or type(resource_id) is not str:
            raise _NotPlain
        if resource_name is None:
            out["resource"] = {"id": resource_id, "type": resource_type}
        elif type(resource_name) is str:
            out["resource"] = {"id": resource_id, "name": resource_name, "type": resource_type}
        else:
            raise _NotPlain
    out["seq"] = seq
    if (
        target_type is not None
        or target_id is not None
        or target_name is not None
        or target_email is not None
    ):
        if type(target_type) is not str or type(target_id) is not str:
            raise _NotPlain
        target: dict[str, Any] = {}
        if target_email is not None:
            target["email"] = _commit(target_email, salts, slots, _TARGET_EMAIL)
        target["id"] = target_id
        if target_name is not None:
            target["name"] = _commit(target_name, salts, slots, _TARGET_NAME)
        target["type"] = target_type
        out["target"] = target
    out["tenant_id"] = tenant_id
    if user_agent is not None:
        out["user_agent"] = _commit(user_agent, salts, slots, _USER_AGENT)
    out["v"] = _LEAF_VERSION
    return _sha256(b"\x00" + orjson.dumps(out)).digest()


def reference_leaf(row: Sequence[Any]) -> tuple[bytes, str | None]:
    """The leaf hash the reference way, or ``UNHASHABLE`` and why the row has no leaf form.

    ``from_row`` failing is not caught: a row that cannot even be read stops the
    verification, as ``store.scan`` would.
    """
    event = from_row(row)
    try:
        return leaf.leaf_hash(event.to_dict(), event.salts), None
    except Exception as exc:  # tampered rows can break in any way; report, go on
        return UNHASHABLE, f"was changed: it has no leaf form ({exc})"


def row_leaf(row: Sequence[Any]) -> tuple[bytes, str | None]:
    """A row's rebuilt leaf hash and, if it disagrees with the stored one, the problem.

    ``row`` is a ``store.scan_rows`` row (text unescaped, stored leaf hash last).
    """
    stored = row[-1]
    try:
        mine = _plain_leaf_hash(row)
    except Exception:  # not the plain form (or broken): the reference path decides
        mine = b""
    if mine == stored:
        return mine, None
    mine, problem = reference_leaf(row)
    if problem is None and mine != bytes(stored):
        problem = "was changed: its fields no longer hash to its stored leaf hash"
    return mine, problem


__all__ = ["UNHASHABLE", "reference_leaf", "row_leaf"]
