"""The fields a query can test and the one normal form of each field's values.

``normalise_value`` is the single place a raw text value (from a query
parameter, a search phrase or code) is checked and turned into what a ``Term``
carries; the parameter and phrase parsers only decide how to report its
``InvalidQuery``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from typing import Final, TypeAlias

from sealtrail.catalog import KINDS
from sealtrail.errors import InvalidQuery
from sealtrail.limits import ACTION_PATTERN, OUTCOMES

MAX_VALUE_LENGTH: Final = 1024


class Field(StrEnum):
    """An event field a ``Term`` can test (``sealtrail.query.model`` says how to read each)."""

    ACTION = "action"
    CATEGORY = "category"
    KIND = "kind"
    ACTOR = "actor"
    ACTOR_ID = "actor_id"
    ACTOR_EMAIL = "actor_email"
    TARGET = "target"
    TARGET_ID = "target_id"
    RESOURCE_TYPE = "resource_type"
    RESOURCE_ID = "resource_id"
    RESOURCE = "resource"
    ACCOUNT_ID = "account_id"
    OUTCOME = "outcome"
    IP = "ip"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """``workspace/ws_1`` (a type and an id) or ``workspace`` (any id of that type)."""

    type: str
    id: str | None = None

    def __str__(self) -> str:
        return self.type if self.id is None else f"{self.type}/{self.id}"


IPNetwork: TypeAlias = IPv4Network | IPv6Network
TermValue: TypeAlias = str | ResourceRef | IPNetwork


def check_text(raw: str) -> None:
    """Refuse what no store can hold: NUL, lone surrogates, and overlong values."""
    if len(raw) > MAX_VALUE_LENGTH:
        raise InvalidQuery(f"is longer than {MAX_VALUE_LENGTH} characters")
    for char in raw:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise InvalidQuery(f"contains a character that cannot be searched ({char!r})")


def normalise_value(field: Field, raw: str) -> TermValue:
    """The normal form of one value of ``field``; ``InvalidQuery`` (no parameter) if bad.

    Surrounding whitespace is dropped except from ``TEXT``, which is kept as typed.
    """
    check_text(raw)
    if field is Field.TEXT:
        if not raw.strip():
            raise InvalidQuery("is empty")
        return raw
    value = raw.strip()
    if not value:
        raise InvalidQuery("is empty")
    match field:
        case Field.ACTION:
            return _action(value)
        case Field.KIND:
            return _one_of(value.lower(), KINDS)
        case Field.OUTCOME:
            return _one_of(value.lower(), OUTCOMES)
        case Field.ACTOR | Field.TARGET:
            return value.lower() if "@" in value else value
        case Field.ACTOR_EMAIL:
            return value.lower()
        case Field.RESOURCE:
            return _resource(value)
        case Field.IP:
            return _network(value)
        case _:
            return value


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidQuery(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _action(value: str) -> str:
    action = value.lower()
    # "member.*" is valid when "member.x" is an action: the prefix obeys the same rule.
    exact = action[:-2] + ".x" if action.endswith(".*") else action
    if not ACTION_PATTERN.fullmatch(exact):
        raise InvalidQuery(
            f"{value!r} is not an action (like member.role_changed) or a prefix (like member.*)"
        )
    return action


def _resource(value: str) -> ResourceRef:
    kind, slash, ident = value.partition("/")
    kind, ident = kind.strip(), ident.strip()
    if not kind or (slash and not ident):
        raise InvalidQuery(f"{value!r} is not a resource type or type/id (like workspace/ws_1)")
    return ResourceRef(kind, ident if slash else None)


def _network(value: str) -> IPNetwork:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise InvalidQuery(f"{value!r} is not an IP address or network (like 10.0.0.0/8)") from None
    if isinstance(network, IPv6Network):
        if network.network_address.scope_id is not None:
            raise InvalidQuery(f"{value!r} has a zone index (%…), which events never carry")
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return IPv4Network((mapped, network.prefixlen - 96))
    return network
