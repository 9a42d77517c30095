"""Turning one ``record(...)`` call into an event, for every way of recording.

The HTTP clients (``sealtrail.Client``, ``sealtrail.AsyncClient``) and the
in-process ``sealtrail.AuditLog`` all call :func:`build_event`, so an event is
assembled and checked by one rule set before it leaves the caller: the same
``events.validate_event`` the server runs.

:func:`context` carries who and where through the call stack with
``contextvars``: events recorded anywhere inside ``with context(actor=...)``
inherit its fields. Contexts nest (inner values win; ``None`` inherits), each
asyncio task starts with a copy of its creator's context, and a new
``threading.Thread`` starts empty unless it is run through
``contextvars.copy_context().run`` (as ``asyncio.to_thread`` and Starlette's
thread pool do).

Actors, targets and resources are given as dicts (:class:`ActorDict`, ...),
as the ``sealtrail.events`` dataclasses, or in the short form ``"type:id"``
(``"user:u_1"``, ``"workspace:ws_9"``); an actor may also be ``"system"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, NotRequired, Required, TypedDict, Unpack

import uuid_utils

from sealtrail.errors import FieldError, InvalidEvent
from sealtrail.events import Actor, Resource, Target, format_timestamp, to_micros, validate_event

__all__ = [
    "ActorDict",
    "ActorLike",
    "EventPayload",
    "RecordFields",
    "RecordingContext",
    "ResourceDict",
    "ResourceLike",
    "TargetDict",
    "TargetLike",
    "build_event",
    "context",
    "current_context",
]

Outcome = Literal["success", "failure"]


class ActorDict(TypedDict, total=False):
    """Who did it. ``type`` is user, system, api_key or service."""

    type: Required[str]
    id: str
    role: str
    name: str
    email: str


class TargetDict(TypedDict, total=False):
    """The person affected (e.g. the invited member)."""

    type: Required[str]
    id: Required[str]
    name: str
    email: str


class ResourceDict(TypedDict, total=False):
    """The thing acted on (workspace, app, api_key, ...)."""

    type: Required[str]
    id: Required[str]
    name: str


ActorLike = ActorDict | Actor | str
TargetLike = TargetDict | Target | str
ResourceLike = ResourceDict | Resource | str


class EventPayload(TypedDict):
    """An event as a producer sends it (SPEC §2); absent optional fields are omitted."""

    id: str
    action: str
    occurred_at: str
    outcome: str
    actor: NotRequired[dict[str, str]]
    target: NotRequired[dict[str, str]]
    resource: NotRequired[dict[str, str]]
    account_id: NotRequired[str]
    description: NotRequired[str]
    context: NotRequired[dict[str, Any]]
    ip: NotRequired[str]
    user_agent: NotRequired[str]
    request_id: NotRequired[str]


@dataclass(frozen=True, slots=True)
class RecordingContext:
    """The fields the surrounding ``context(...)`` blocks supply; ``None`` = not set."""

    actor: dict[str, str] | None = None
    tenant: str | None = None
    account_id: str | None = None
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


_EMPTY = RecordingContext()
_current: ContextVar[RecordingContext] = ContextVar("sealtrail.context", default=_EMPTY)


def current_context() -> RecordingContext:
    """The merged context in effect here."""
    return _current.get()


@contextmanager
def context(
    *,
    actor: ActorLike | None = None,
    tenant: str | None = None,
    account_id: str | None = None,
    request_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Iterator[RecordingContext]:
    """Supply these fields to every event recorded inside the block.

    ``tenant`` is used by ``sealtrail.AuditLog``; the HTTP clients ignore it
    because their API key already names the tenant.
    """
    outer = _current.get()
    merged = replace(
        outer,
        actor=_party(actor, "actor") if actor is not None else outer.actor,
        tenant=tenant if tenant is not None else outer.tenant,
        account_id=account_id if account_id is not None else outer.account_id,
        request_id=request_id if request_id is not None else outer.request_id,
        ip=ip if ip is not None else outer.ip,
        user_agent=user_agent if user_agent is not None else outer.user_agent,
    )
    token = _current.set(merged)
    try:
        yield merged
    finally:
        _current.reset(token)


class RecordFields(TypedDict, total=False):
    """The fields of one ``record(...)`` call — the one signature of
    ``sealtrail.Client.record``, ``AsyncClient.record`` and ``AuditLog.record``.

    Only ``action`` is required; ``outcome`` defaults to ``"success"``, ``id`` to
    a fresh UUIDv7 and ``occurred_at`` to now. ``occurred_at`` is an aware
    ``datetime`` or RFC 3339 text.
    """

    action: Required[str]
    actor: ActorLike | None
    target: TargetLike | None
    resource: ResourceLike | None
    context: Mapping[str, Any] | None
    description: str | None
    account_id: str | None
    ip: str | None
    user_agent: str | None
    outcome: Outcome
    request_id: str | None
    occurred_at: datetime | str | None
    id: str | None


_RECORD_KEYS = frozenset(RecordFields.__annotations__)


def build_event(**fields: Unpack[RecordFields]) -> tuple[str | None, EventPayload]:
    """Assemble and validate one event; return ``(tenant from the context, event)``.

    Explicit arguments win over the surrounding :func:`context`. The event gets
    its ``id`` (a UUIDv7 unless given) and ``occurred_at`` (now, unless given as
    an aware ``datetime`` or RFC 3339 text) here, at record time, so a resend
    is recognised by the server as the same event. Raises ``InvalidEvent``
    naming every bad field.
    """
    unknown = fields.keys() - _RECORD_KEYS
    if unknown:
        raise TypeError(f"record() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    action = fields["action"]
    actor = fields.get("actor")
    target = fields.get("target")
    resource = fields.get("resource")
    context = fields.get("context")
    description = fields.get("description")
    account_id = fields.get("account_id")
    ip = fields.get("ip")
    user_agent = fields.get("user_agent")
    outcome = fields.get("outcome", "success")
    request_id = fields.get("request_id")
    occurred_at = fields.get("occurred_at")
    event_id = fields.get("id")
    scope = _current.get()
    event: EventPayload = {
        "id": event_id if event_id is not None else str(uuid_utils.uuid7()),
        "action": action,
        "occurred_at": _timestamp(occurred_at),
        "outcome": outcome,
    }
    chosen_actor = _party(actor, "actor") if actor is not None else scope.actor
    if chosen_actor is not None:
        event["actor"] = chosen_actor
    if target is not None:
        event["target"] = _party(target, "target")
    if resource is not None:
        event["resource"] = _party(resource, "resource")
    if context is not None:
        event["context"] = dict(context)
    if description is not None:
        event["description"] = description
    account_id = account_id if account_id is not None else scope.account_id
    if account_id is not None:
        event["account_id"] = account_id
    ip = ip if ip is not None else scope.ip
    if ip is not None:
        event["ip"] = ip
    user_agent = user_agent if user_agent is not None else scope.user_agent
    if user_agent is not None:
        event["user_agent"] = user_agent
    request_id = request_id if request_id is not None else scope.request_id
    if request_id is not None:
        event["request_id"] = request_id
    _, errors = validate_event(event)
    if errors:
        raise InvalidEvent(_summary(errors), errors)
    return scope.tenant, event


def _party(value: object, field: str) -> dict[str, str]:
    """An actor/target/resource in any accepted form → its JSON object."""
    if type(value) is dict:  # the common case, before the slower ABC check below
        return value.copy()
    if isinstance(value, str):
        kind, colon, ident = value.partition(":")
        if colon and kind and ident:
            return {"type": kind, "id": ident}
        if field == "actor" and value == "system":
            return {"type": "system"}
        raise InvalidEvent(
            f"{field} must be 'type:id' or an object",
            [FieldError(field, "must be 'type:id' (e.g. 'user:u_1') or an object")],
        )
    if isinstance(value, Actor | Target | Resource):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidEvent(
        f"{field} must be an object", [FieldError(field, "must be an object or 'type:id'")]
    )


# (second, its "YYYY-MM-DDTHH:MM:SS" text): events recorded within one second
# share the formatted prefix, which keeps strftime off the record() hot path.
_last_second: tuple[int, str] = (-1, "")


def _now() -> str:
    global _last_second
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    cached, prefix = _last_second
    if seconds != cached:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, prefix)
    return f"{prefix}.{micros:06d}Z"


def _timestamp(value: datetime | str | None) -> str:
    if value is None:
        return _now()
    if isinstance(value, str):
        return value  # validate_event checks the text
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent(
            "occurred_at must be timezone-aware",
            [FieldError("occurred_at", "must be a timezone-aware datetime")],
        )
    return format_timestamp(to_micros(value))


def _summary(errors: list[FieldError]) -> str:
    listed = "; ".join(f"{e.field} {e.message}" for e in errors)
    return f"invalid event: {listed}"
