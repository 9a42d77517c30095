"""The exact bytes of an event's Merkle leaf (SPEC §3).

Anyone holding an exported event and its salts must be able to recompute its
leaf hash with any RFC 8785 (JCS) implementation, so the leaf is the JCS form
of a fixed object: the event's fields, with every *personal* field replaced by
a salted commitment ``{"$commit": base64(SHA-256(salt ‖ value))}``. Erasing a
person then deletes the value and its salt but keeps the commitment, and every
proof still verifies.

Speed: ``leaf_object`` builds the object with its keys already in JCS order
and orjson writes it. For such an object (string, integer and object values
only) orjson's output is byte-identical to JCS; ``rfc8785.dumps`` of the same
object is the reference, and the tests hold the two equal. A ``context`` is
canonicalised the same way when it holds only ASCII keys, strings, safe
integers, booleans and nulls; anything else (floats, say) goes through
``rfc8785`` itself.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from typing import Any, Final

import orjson
import rfc8785

from sealtrail.errors import ProofError
from sealtrail.events import Actor, Event, Target, format_timestamp

LEAF_VERSION: Final = 1
SALT_SIZE: Final = 16
PERSONAL_FIELDS: Final = (
    "actor.name",
    "actor.email",
    "target.name",
    "target.email",
    "description",
    "context",
    "ip",
    "user_agent",
)
"""Paths of the fields that enter the leaf only as commitments (and get a salt)."""

_MAX_SAFE_INT: Final = 2**53 - 1
_TIMESTAMP: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_NO_COMMITMENTS: Final[Mapping[str, str]] = {}
_sha256 = hashlib.sha256
_b2a = binascii.b2a_base64


def _is_plain_json(value: object) -> bool:
    """True when orjson's sorted output of ``value`` is exactly its JCS form."""
    if value is None or type(value) is str or type(value) is bool:
        return True
    if type(value) is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if type(value) is dict:
        return all(
            type(key) is str and key.isascii() and _is_plain_json(item)
            for key, item in value.items()
        )
    if type(value) is list:
        return all(_is_plain_json(item) for item in value)
    return False


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a JSON object (the form a ``context`` is committed in)."""
    if _is_plain_json(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    try:
        return rfc8785.dumps(dict(value))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ProofError(f"context has no RFC 8785 form: {exc}") from None


def commitment(salt: bytes, value: str | Mapping[str, Any]) -> str:
    """base64(SHA-256(salt ‖ value)): value is UTF-8 text, or a JSON object's JCS bytes."""
    if len(salt) != SALT_SIZE:
        raise ProofError(f"a salt is {SALT_SIZE} bytes, not {len(salt)}")
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProofError("a personal field is not valid UTF-8") from None
    elif isinstance(value, Mapping):
        data = canonical_json(value)
    else:
        raise ProofError(f"cannot commit to a {type(value).__name__}")
    return _b2a(_sha256(salt + data).digest(), newline=False).decode("ascii")


def _value(event: Mapping[str, Any], path: str) -> Any:
    head, _, tail = path.partition(".")
    value = event.get(head)
    if tail and value is not None:
        return value.get(tail)
    return value


def new_salts(event: Mapping[str, Any]) -> dict[str, bytes]:
    """16 fresh random bytes for each personal field the event has."""
    return {
        path: os.urandom(SALT_SIZE) for path in PERSONAL_FIELDS if _value(event, path) is not None
    }


def encode_salts(salts: Mapping[str, bytes]) -> dict[str, str]:
    """Salts as the API shows them: ``{"actor.email": "<base64>", …}``."""
    return {path: _b2a(salt, newline=False).decode("ascii") for path, salt in salts.items()}


def decode_salts(encoded: Mapping[str, str]) -> dict[str, bytes]:
    """The inverse of ``encode_salts``; refuses unknown paths and bad salts."""
    salts = {}
    for path, text in encoded.items():
        if path not in PERSONAL_FIELDS:
            raise ProofError(f"{path!r} is not a personal field")
        try:
            salt = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError, AttributeError):
            raise ProofError(f"the salt of {path} is not base64") from None
        if len(salt) != SALT_SIZE:
            raise ProofError(f"the salt of {path} is {len(salt)} bytes, not {SALT_SIZE}")
        salts[path] = salt
    return salts


def _commit(
    path: str, value: Any, salts: Mapping[str, bytes], commitments: Mapping[str, str]
) -> dict[str, str] | None:
    """The commitment object of one personal field, or None when it is absent.

    A precomputed commitment wins: it is what remains of an erased value.
    """
    known = commitments.get(path)
    if known is not None:
        return {"$commit": known}
    if value is None:
        return None
    salt = salts.get(path)
    if salt is None:
        raise ProofError(f"no salt for the personal field {path}")
    if type(value) is str and len(salt) == SALT_SIZE:  # the common case, inlined
        try:
            digest = _sha256(salt + value.encode("utf-8")).digest()
        except UnicodeEncodeError:
            raise ProofError(f"{path} is not valid UTF-8") from None
        return {"$commit": _b2a(digest, newline=False).decode("ascii")}
    return {"$commit": commitment(salt, value)}


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if type(value) is not str:
        raise ProofError(f"the leaf needs {key} as a string")
    return value


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and type(value) is not str:
        raise ProofError(f"the leaf needs {key} as a string")
    return value


def _timestamp(event: Mapping[str, Any], key: str) -> str:
    value = _text(event, key)
    if _TIMESTAMP.fullmatch(value) is None:
        raise ProofError(f"{key} must be written YYYY-MM-DDTHH:MM:SS.ffffffZ, got {value!r}")
    return value


def _party(
    party: Mapping[str, Any],
    prefix: str,
    salts: Mapping[str, bytes],
    commitments: Mapping[str, str],
    *,
    with_role: bool,
) -> dict[str, Any]:
    """An actor or target object, keys in JCS order: email, id, name, role, type."""
    out: dict[str, Any] = {}
    email = _commit(f"{prefix}.email", party.get("email"), salts, commitments)
    if email is not None:
        out["email"] = email
    out["id"] = _text(party, "id")
    name = _commit(f"{prefix}.name", party.get("name"), salts, commitments)
    if name is not None:
        out["name"] = name
    if with_role:
        role = _optional_text(party, "role")
        if role is not None:
            out["role"] = role
    out["type"] = _text(party, "type")
    return out


def leaf_object(
    event: Mapping[str, Any],
    salts: Mapping[str, bytes],
    commitments: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The object whose JCS bytes are the leaf, its keys already in JCS order.

    ``event`` is the event as the API returns it; keys the leaf does not hold
    (category, kind, salts, …) are ignored, and a None value counts as absent.
    ``commitments`` supplies the stored commitment of an erased personal field;
    when it is None, the event's own ``commitments`` member (as the API and
    bundles carry it) is used.
    """
    commits = commitments if commitments is not None else _event_commitments(event)
    out: dict[str, Any] = {}
    account_id = _optional_text(event, "account_id")
    if account_id is not None:
        out["account_id"] = account_id
    out["action"] = _text(event, "action")
    actor = event.get("actor")
    if not isinstance(actor, Mapping):
        raise ProofError("the leaf needs an actor")
    out["actor"] = _party(actor, "actor", salts, commits, with_role=True)
    for key in ("context", "description"):
        committed = _commit(key, event.get(key), salts, commits)
        if committed is not None:
            out[key] = committed
    out["id"] = _text(event, "id")
    ip = _commit("ip", event.get("ip"), salts, commits)
    if ip is not None:
        out["ip"] = ip
    out["occurred_at"] = _timestamp(event, "occurred_at")
    out["outcome"] = _text(event, "outcome")
    out["received_at"] = _timestamp(event, "received_at")
    request_id = _optional_text(event, "request_id")
    if request_id is not None:
        out["request_id"] = request_id
    resource = event.get("resource")
    if resource is not None:
        out["resource"] = _resource(resource)
    seq = event.get("seq")
    if type(seq) is not int or not 0 <= seq <= _MAX_SAFE_INT:
        raise ProofError(f"the leaf needs seq as an integer from 0 to 2^53-1, got {seq!r}")
    out["seq"] = seq
    target = event.get("target")
    if target is not None:
        out["target"] = _party(target, "target", salts, commits, with_role=False)
    elif "target.name" in commits or "target.email" in commits:
        raise ProofError("a commitment for the target of an event without one")
    out["tenant_id"] = _text(event, "tenant_id")
    user_agent = _commit("user_agent", event.get("user_agent"), salts, commits)
    if user_agent is not None:
        out["user_agent"] = user_agent
    out["v"] = LEAF_VERSION
    return out


def _event_commitments(event: Mapping[str, Any]) -> Mapping[str, str]:
    """The ``commitments`` member of an event object: {path: base64 commitment}."""
    found = event.get("commitments")
    if found is None:
        return _NO_COMMITMENTS
    if not isinstance(found, Mapping) or not all(
        path in PERSONAL_FIELDS and type(text) is str for path, text in found.items()
    ):
        raise ProofError("commitments must map personal field paths to base64 strings")
    return found


def _resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource object, keys in JCS order: id, name, type."""
    out: dict[str, Any] = {"id": _text(resource, "id")}
    name = _optional_text(resource, "name")
    if name is not None:
        out["name"] = name
    out["type"] = _text(resource, "type")
    return out


def leaf_bytes(
    event: Mapping[str, Any],
    salts: Mapping[str, bytes],
    commitments: Mapping[str, str] | None = None,
) -> bytes:
    """The leaf: RFC 8785 bytes of ``leaf_object(event, salts, commitments)``."""
    return _leaf_json(leaf_object(event, salts, commitments))


def leaf_hash(
    event: Mapping[str, Any],
    salts: Mapping[str, bytes],
    commitments: Mapping[str, str] | None = None,
) -> bytes:
    """The RFC 6962 leaf hash SHA-256(0x00 ‖ leaf bytes) of the event."""
    return _sha256(b"\x00" + leaf_bytes(event, salts, commitments)).digest()


def _leaf_json(leaf: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(leaf)
    except TypeError as exc:  # a non-string where a string belongs, or a lone surrogate
        raise ProofError(f"the event has no leaf form: {exc}") from None


def _fresh_party(
    party: Actor | Target, prefix: str, salts: Mapping[str, bytes], role: str | None
) -> dict[str, Any]:
    """``_party`` of an actor or target object itself (no commitments: nothing erased)."""
    out: dict[str, Any] = {}
    if party.email is not None:
        out["email"] = _commit(f"{prefix}.email", party.email, salts, _NO_COMMITMENTS)
    out["id"] = party.id
    if party.name is not None:
        out["name"] = _commit(f"{prefix}.name", party.name, salts, _NO_COMMITMENTS)
    if role is not None:
        out["role"] = role
    out["type"] = party.type
    return out


# A seq no real leaf can hold (the leaf refuses seq > 2^53-1), written where seq goes.
_SEQ_HOLE: Final = _MAX_SAFE_INT
_SEQ_MARK: Final = b'"seq":' + str(_SEQ_HOLE).encode("ascii")


class LeafTemplate:
    """An event's leaf bytes with its ``seq`` still open.

    The commitments and canonical JSON are the costly part of a leaf and do not
    depend on ``seq``, so a store computes them before it takes the tenant's
    write lock and only splices the number in under it. The marker cannot occur
    anywhere else in the bytes: every other ``"`` in them is either a key's
    own quote or escaped inside a string.
    """

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, event: Mapping[str, Any], salts: Mapping[str, bytes]) -> None:
        self._split(_leaf_json(leaf_object({**event, "seq": _SEQ_HOLE}, salts)))

    def _split(self, leaf: bytes) -> None:
        prefix, mark, suffix = leaf.partition(_SEQ_MARK)
        if not mark:  # pragma: no cover - leaf_object always writes seq
            raise ProofError("the leaf has no seq")
        self._prefix = b"\x00" + prefix + b'"seq":'
        self._suffix = suffix

    @classmethod
    def of_event(cls, event: Event) -> LeafTemplate:
        """``LeafTemplate(event.to_dict(), event.salts)``, built from the event's own fields.

        Append makes one for every event it stores; the API's object it would otherwise
        build (``to_dict``: nested dicts, both times formatted, then read back and checked
        by ``leaf_object``) was a third of the ledger's cost per event. The fields of an
        ``Event`` already have the leaf's types (validation made them so), so this writes
        the leaf object straight from them, keys in JCS order. An event with an erased
        field (never a fresh one) goes the general way. The tests hold the two equal on
        events of every shape (tests/ledger/test_leaf.py).
        """
        if event.commitments:
            return cls(event.to_dict(), event.salts)
        salts = event.salts
        out: dict[str, Any] = {}
        if event.account_id is not None:
            out["account_id"] = event.account_id
        out["action"] = event.action
        out["actor"] = _fresh_party(event.actor, "actor", salts, event.actor.role)
        if event.context is not None:
            out["context"] = _commit("context", event.context, salts, _NO_COMMITMENTS)
        if event.description is not None:
            out["description"] = _commit("description", event.description, salts, _NO_COMMITMENTS)
        out["id"] = event.id
        if event.ip is not None:
            out["ip"] = _commit("ip", event.ip, salts, _NO_COMMITMENTS)
        out["occurred_at"] = format_timestamp(event.occurred_at)
        out["outcome"] = event.outcome
        out["received_at"] = format_timestamp(event.received_at)
        if event.request_id is not None:
            out["request_id"] = event.request_id
        resource = event.resource
        if resource is not None:
            out["resource"] = (
                {"id": resource.id, "type": resource.type}
                if resource.name is None
                else {"id": resource.id, "name": resource.name, "type": resource.type}
            )
        out["seq"] = _SEQ_HOLE
        if event.target is not None:
            out["target"] = _fresh_party(event.target, "target", salts, None)
        out["tenant_id"] = event.tenant_id
        if event.user_agent is not None:
            out["user_agent"] = _commit("user_agent", event.user_agent, salts, _NO_COMMITMENTS)
        out["v"] = LEAF_VERSION
        template = cls.__new__(cls)
        template._split(_leaf_json(out))
        return template

    def leaf_hash(self, seq: int) -> bytes:
        if not 0 <= seq < _SEQ_HOLE:
            raise ProofError(f"seq {seq} is out of range")
        return _sha256(self._prefix + str(seq).encode("ascii") + self._suffix).digest()
