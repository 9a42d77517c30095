"""The audit event (SPEC §2): validated once at the door, immutable after.

``EventInput`` is what a producer sends, checked field by field so a bad batch
is refused with every problem named. ``Event`` is what the log holds once the
server has set ``seq``, ``received_at``, ``category``, ``kind`` and the salts
of the personal fields. Timestamps are integers of microseconds since the Unix
epoch (UTC) inside Sealtrail and the fixed RFC 3339 form at every edge, because
the leaf format (SPEC §3) writes exactly six fractional digits.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import orjson

from sealtrail.errors import FieldError, InvalidEvent
from sealtrail.limits import (
    ACTION_PATTERN,
    ACTOR_TYPES,
    EARLIEST_OCCURRED_AT,
    ERASED,
    MAX_ACTION,
    MAX_BATCH,
    MAX_CONTEXT_BYTES,
    MAX_DESCRIPTION,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_TYPE,
    MAX_USER_AGENT,
    OUTCOMES,
    Outcome,
)

_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SPACE: Final = re.compile(r"\s")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


# -- timestamps ---------------------------------------------------------------


def parse_timestamp(text: str) -> int:
    """RFC 3339 text → microseconds since the epoch. Digits past the microsecond are cut."""
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError("must be an RFC 3339 timestamp such as 2026-03-01T12:00:00Z")
    fraction = match.group(1) or ""
    trimmed = text
    if len(fraction) > 7:
        trimmed = text.replace(fraction, fraction[:7], 1)
    normalised = trimmed.replace("z", "Z").replace("t", "T")
    try:
        moment = datetime.fromisoformat(normalised)
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc})") from None
    return to_micros(moment)


def to_micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def format_timestamp(micros: int) -> str:
    """The one textual form of a time: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always 4-digit years)."""
    # The time of day is arithmetic (a table of the day's minutes); only the date needs the
    # calendar, cached per day: exports and verification format two times per event.
    seconds, fraction = divmod(micros, 1_000_000)
    days, second = divmod(seconds, 86_400)
    minute, second = divmod(second, 60)
    return f"{_format_day(days)}T{_MINUTES[minute]}{second:02d}.{fraction:06d}Z"


_MINUTES: Final = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))


@functools.lru_cache(maxsize=1024)
def _format_day(days: int) -> str:
    t = time.gmtime(days * 86_400)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


def now_micros() -> int:
    return to_micros(datetime.now(UTC))


# -- the parts of an event -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    type: str
    id: str
    role: str | None = None
    name: str | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type, "id": self.id}
        if self.role is not None:
            out["role"] = self.role
        if self.name is not None:
            out["name"] = self.name
        if self.email is not None:
            out["email"] = self.email
        return out


@dataclass(frozen=True, slots=True)
class Target:
    type: str
    id: str
    name: str | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type, "id": self.id}
        if self.name is not None:
            out["name"] = self.name
        if self.email is not None:
            out["email"] = self.email
        return out


@dataclass(frozen=True, slots=True)
class Resource:
    type: str
    id: str
    name: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type, "id": self.id}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class EventInput:
    """An event as a producer sent it, validated; nothing server-set yet."""

    action: str
    actor: Actor
    id: str | None = None
    occurred_at: int | None = None
    outcome: Outcome = "success"
    target: Target | None = None
    resource: Resource | None = None
    account_id: str | None = None
    description: str | None = None
    context: dict[str, Any] | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event as the log holds it."""

    tenant_id: str
    seq: int
    id: str
    action: str
    category: str
    kind: str
    occurred_at: int
    received_at: int
    outcome: str
    actor: Actor
    target: Target | None = None
    resource: Resource | None = None
    account_id: str | None = None
    description: str | None = None
    context: dict[str, Any] | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    salts: Mapping[str, bytes] = field(default_factory=dict)
    commitments: Mapping[str, str] = field(default_factory=dict)
    """The stored commitment (base64) of each erased personal field, by path.

    An erased text field reads ``[erased]``; an erased ``context`` is None here
    and ``[erased]`` in ``to_dict``.
    """

    def with_seq(self, seq: int) -> Event:
        """This event at its place in the log (faster than ``dataclasses.replace``)."""
        return Event(
            self.tenant_id,
            seq,
            self.id,
            self.action,
            self.category,
            self.kind,
            self.occurred_at,
            self.received_at,
            self.outcome,
            self.actor,
            self.target,
            self.resource,
            self.account_id,
            self.description,
            self.context,
            self.ip,
            self.user_agent,
            self.request_id,
            self.salts,
            self.commitments,
        )

    def to_dict(self, *, include_salts: bool = False) -> dict[str, Any]:
        """The API's JSON object. Absent optional fields are omitted, as in the leaf."""
        out: dict[str, Any] = {
            "id": self.id,
            "seq": self.seq,
            "tenant_id": self.tenant_id,
            "action": self.action,
            "category": self.category,
            "kind": self.kind,
            "occurred_at": format_timestamp(self.occurred_at),
            "received_at": format_timestamp(self.received_at),
            "outcome": self.outcome,
            "actor": self.actor.to_dict(),
        }
        if self.target is not None:
            out["target"] = self.target.to_dict()
        if self.resource is not None:
            out["resource"] = self.resource.to_dict()
        for name in ("account_id", "description", "context", "ip", "user_agent", "request_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.commitments:
            if "context" in self.commitments:
                out["context"] = ERASED
            out["commitments"] = dict(self.commitments)
        if include_salts:
            out["salts"] = {
                path: base64.b64encode(salt).decode("ascii") for path, salt in self.salts.items()
            }
        return out


# -- validation ---------------------------------------------------------------

EVENT_FIELDS: Final = frozenset(
    {
        "id",
        "action",
        "occurred_at",
        "actor",
        "target",
        "resource",
        "account_id",
        "description",
        "context",
        "ip",
        "user_agent",
        "outcome",
        "request_id",
    }
)
# Set by the server; accepted and ignored so an exported event can be sent back.
SERVER_FIELDS: Final = frozenset({"tenant_id", "seq", "received_at", "category", "kind", "salts"})


class _Checker:
    """Collects every problem of one event instead of stopping at the first."""

    __slots__ = ("errors", "index")

    def __init__(self, index: int) -> None:
        self.index = index
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message, self.index))

    def text(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        max_len: int = MAX_NAME,
        single_line: bool = False,
    ) -> str | None:
        value = obj.get(key)
        # The common case in one test: a short single-line ASCII string.
        if (
            type(value) is str
            and value
            and len(value) <= max_len
            and value.isascii()
            and not (single_line and _CONTROL.search(value))
        ):
            return value
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return None
        if required and not value:
            self.fail(path, "must not be empty")
            return None
        if len(value) > max_len:
            self.fail(path, f"must be at most {max_len} characters")
            return None
        if single_line and _CONTROL.search(value):
            self.fail(path, "must not contain control characters")
            return None
        if not _encodable(value):
            self.fail(path, "must not contain lone surrogates")
            return None
        return value

    def email(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        value = self.text(obj, key, path, max_len=MAX_EMAIL, single_line=True)
        if value is not None:
            local, at, domain = value.rpartition("@")
            if not at or not local or not domain or _SPACE.search(value):
                self.fail(path, "must be an email address")
                return None
        return value

    def mapping(self, body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, "must be an object")
            return None
        return value

    def unknown_keys(self, obj: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"{prefix}{key}", "is not a known field")


def _encodable(value: str) -> bool:
    if value.isascii():  # the common case, checked without encoding
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _is_ip(value: str) -> bool:
    # Cached: a producer's events come from a handful of addresses.
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


ACTOR_FIELDS: Final = frozenset({"type", "id", "role", "name", "email"})
TARGET_FIELDS: Final = frozenset({"type", "id", "name", "email"})
RESOURCE_FIELDS: Final = frozenset({"type", "id", "name"})


def _actor(check: _Checker, body: Mapping[str, Any]) -> Actor | None:
    if body.get("actor") is None:
        check.fail("actor", "is required")
        return None
    obj = check.mapping(body, "actor")
    if obj is None:
        return None
    check.unknown_keys(obj, ACTOR_FIELDS, "actor.")
    kind = obj.get("type")
    if kind not in ACTOR_TYPES:
        check.fail("actor.type", f"must be one of {', '.join(ACTOR_TYPES)}")
    ident = check.text(obj, "id", "actor.id", required=kind != "system")
    role = check.text(obj, "role", "actor.role", max_len=MAX_TYPE, single_line=True)
    name = check.text(obj, "name", "actor.name")
    email = check.email(obj, "email", "actor.email")
    if kind not in ACTOR_TYPES or (ident is None and kind != "system"):
        return None
    return Actor(cast(str, kind), ident or "system", role, name, email)


def _target(check: _Checker, body: Mapping[str, Any]) -> Target | None:
    obj = check.mapping(body, "target")
    if obj is None:
        return None
    check.unknown_keys(obj, TARGET_FIELDS, "target.")
    kind = check.text(obj, "type", "target.type", required=True, max_len=MAX_TYPE, single_line=True)
    ident = check.text(obj, "id", "target.id", required=True)
    name = check.text(obj, "name", "target.name")
    email = check.email(obj, "email", "target.email")
    if kind is None or ident is None:
        return None
    return Target(kind, ident, name, email)


def _resource(check: _Checker, body: Mapping[str, Any]) -> Resource | None:
    obj = check.mapping(body, "resource")
    if obj is None:
        return None
    check.unknown_keys(obj, RESOURCE_FIELDS, "resource.")
    kind = check.text(
        obj, "type", "resource.type", required=True, max_len=MAX_TYPE, single_line=True
    )
    ident = check.text(obj, "id", "resource.id", required=True)
    name = check.text(obj, "name", "resource.name")
    if kind is None or ident is None:
        return None
    return Resource(kind, ident, name)


def _context(check: _Checker, body: Mapping[str, Any]) -> dict[str, Any] | None:
    value = body.get("context")
    if value is None:
        return None
    if not isinstance(value, dict):
        check.fail("context", "must be a JSON object")
        return None
    try:
        size = len(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError) as exc:
        check.fail("context", f"must be plain JSON ({exc})")
        return None
    if size > MAX_CONTEXT_BYTES:
        check.fail("context", f"must be at most {MAX_CONTEXT_BYTES} bytes of JSON")
        return None
    problem = _canonical_problem(value)
    if problem is not None:
        check.fail("context", problem)
        return None
    return value


_MAX_SAFE_INTEGER: Final = 2**53 - 1


def _canonical_problem(value: object) -> str | None:
    """Why ``value`` has no exact RFC 8785 form (the leaf commits to that form), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > _MAX_SAFE_INTEGER:
            return "integers must lie within ±(2^53 - 1) to have one canonical JSON form"
    return None


def _ip(check: _Checker, body: Mapping[str, Any]) -> str | None:
    value = body.get("ip")
    if value is None:
        return None
    if not isinstance(value, str):
        check.fail("ip", "must be a string")
        return None
    if not _is_ip(value):
        check.fail("ip", "must be an IPv4 or IPv6 address")
        return None
    return value  # kept as sent: the leaf commits to the producer's own text


def _occurred_at(check: _Checker, body: Mapping[str, Any]) -> int | None:
    value = body.get("occurred_at")
    if value is None:
        return None
    if not isinstance(value, str):
        check.fail("occurred_at", "must be an RFC 3339 timestamp string")
        return None
    try:
        moment = parse_timestamp(value)
    except ValueError as exc:
        check.fail("occurred_at", str(exc))
        return None
    if moment < EARLIEST_OCCURRED_AT:
        check.fail("occurred_at", f"must be {format_timestamp(EARLIEST_OCCURRED_AT)} or later")
        return None
    return moment


def validate_event(body: object, index: int = 0) -> tuple[EventInput | None, list[FieldError]]:
    """Check one event; return it, or None and every field error found."""
    check = _Checker(index)
    if not isinstance(body, dict):
        check.fail("event", "must be a JSON object")
        return None, check.errors
    check.unknown_keys(body, EVENT_FIELDS | SERVER_FIELDS, "")
    ident = check.text(body, "id", "id", max_len=MAX_ID, single_line=True)
    if ident == "":
        check.fail("id", "must not be empty")
    action = body.get("action")
    if (
        not isinstance(action, str)
        or len(action) > MAX_ACTION
        or not ACTION_PATTERN.fullmatch(action)
    ):
        check.fail("action", "must look like resource.verb, e.g. member.role_changed")
        action = None
    occurred_at = _occurred_at(check, body)
    actor = _actor(check, body)
    target = _target(check, body)
    resource = _resource(check, body)
    account_id = check.text(body, "account_id", "account_id")
    request_id = check.text(body, "request_id", "request_id")
    description = check.text(body, "description", "description", max_len=MAX_DESCRIPTION)
    context = _context(check, body)
    ip = _ip(check, body)
    user_agent = check.text(body, "user_agent", "user_agent", max_len=MAX_USER_AGENT)
    outcome = body.get("outcome", "success")
    if outcome not in OUTCOMES:
        check.fail("outcome", "must be success or failure")
    if check.errors or action is None or actor is None:
        return None, check.errors
    return (
        EventInput(
            action=action,
            actor=actor,
            id=ident,
            occurred_at=occurred_at,
            outcome=cast(Outcome, outcome),
            target=target,
            resource=resource,
            account_id=account_id,
            description=description,
            context=context,
            ip=ip,
            user_agent=user_agent,
            request_id=request_id,
        ),
        [],
    )


def validate_batch(body: object) -> list[EventInput]:
    """One event or ``{"events": [...]}`` → validated inputs; all or nothing."""
    items: Sequence[object]
    if isinstance(body, dict) and "events" in body:
        if len(body) != 1:
            raise InvalidEvent(
                "a batch holds only an events array",
                [FieldError(k, "is not allowed beside events") for k in body if k != "events"],
            )
        raw = body["events"]
        if not isinstance(raw, list) or not raw:
            raise InvalidEvent(
                "events must be a non-empty array",
                [FieldError("events", "must be a non-empty array")],
            )
        if len(raw) > MAX_BATCH:
            raise InvalidEvent(
                f"a batch holds at most {MAX_BATCH} events",
                [FieldError("events", f"must hold at most {MAX_BATCH} events")],
            )
        items = raw
    else:
        items = [body]
    valid: list[EventInput] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        event, problems = validate_event(item, index)
        if event is not None:
            valid.append(event)
        errors.extend(problems)
    if errors:
        count = len({e.index for e in errors})
        raise InvalidEvent(f"{count} of {len(items)} events are invalid; none were stored", errors)
    return valid
