"""Detection rules as data: a search phrase, a condition, a severity, hours.

A rule selects events with a search phrase (SPEC §8, read in memory by
``query.match``), optionally narrowed by context values (``{"new_role": ["admin",
"owner"]}``: any listed key holding any listed value) and by the tenant's business
hours (``hours``: ``"outside"`` or ``"inside"``), and fires on a **condition**:

- none: every selected event opens an alert;
- ``count >= N within D [by F, …]``: N selected events within D (``30s``, ``5m``,
  ``2h``, ``1d``), counted per group of the ``by`` fields; the alert then keeps
  collecting that group's events until D passes without one;
- ``first time (F, …) [learning D]``: the first event with that combination of
  values. With two fields or more, only for a first field already seen (a known
  actor from a new ip, not everyone's first sign-in); nothing fires during the
  rule's learning period (default 7 days) after the first event it sees.

Fields: ``actor`` (id), ``ip``, ``ip/N`` (the address's /N network), ``target`` (id),
``account``, ``action``, ``resource`` (type/id). ``country`` needs a GeoIP database,
which Sealtrail does not ship: a rule naming it is refused.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal, Protocol, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sealtrail.errors import InvalidInput, PhraseSyntaxError
from sealtrail.events import Event, from_micros
from sealtrail.limits import (
    DEFAULT_LEARNING,
    MAX_CONTEXT_VALUES,
    MAX_GROUP_FIELDS,
    MAX_RULE_NAME,
    MAX_RULE_TITLE,
    MAX_THRESHOLD,
    MAX_WINDOW,
    RULE_NAME_REGEX,
    SEVERITIES,
    Severity,
)
from sealtrail.query import EventQuery, Field, parse_phrase
from sealtrail.query.matcher import matches

__all__ = [
    "ALERT_ACTIONS",
    "BusinessHours",
    "Condition",
    "DetectionSettings",
    "FirstSeen",
    "Hours",
    "Rule",
    "Shaped",
    "Threshold",
    "format_duration",
    "group_value",
    "parse_condition",
    "parse_duration",
    "rule_from_body",
]

ALERT_ACTIONS: Final = frozenset(
    {"audit_log.alert_opened", "audit_log.alert_acknowledged", "audit_log.alert_resolved"}
)
"""Sealtrail's own alert events: recorded in the tenant's log, never evaluated."""

Hours = Literal["outside", "inside"]
HOURS: Final[tuple[Hours, ...]] = ("outside", "inside")
FIELDS: Final = ("actor", "ip", "target", "account", "action", "resource")
_NAME: Final = re.compile(RULE_NAME_REGEX)
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
_THRESHOLD: Final = re.compile(
    r"^count\s*>=\s*(?P<count>[0-9]+)\s+within\s+(?P<window>\S+)"
    r"(?:\s+by\s+(?P<by>\(?[^()]*\)?))?$",
    re.IGNORECASE,
)
_FIRST: Final = re.compile(
    r"^first\s+time\s+(?P<fields>\([^()]*\)|[\w/]+)(?:\s+learning\s+(?P<learning>\S+))?$",
    re.IGNORECASE,
)


def parse_duration(text: str, what: str = "a duration") -> int:
    """``30s``, ``5m``, ``2h``, ``7d`` → seconds."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise InvalidInput(f"{what} {text!r} is not a duration like 30s, 5m, 2h or 7d")
    return int(found.group(1)) * _UNITS[found.group(2)]


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _field(text: str) -> str:
    name = text.strip().lower()
    if name == "country":
        raise InvalidInput(
            "country needs a GeoIP database, which this server does not have;"
            " use ip or ip/16 instead"
        )
    if name.startswith("ip/"):
        bits = name[3:]
        if not bits.isdigit() or not 1 <= int(bits) <= 128:
            raise InvalidInput(f"{text!r}: ip/N takes a prefix length from 1 to 128")
        return f"ip/{int(bits)}"
    if name not in FIELDS:
        raise InvalidInput(f"unknown field {text!r} (fields: {', '.join(FIELDS)}, ip/N)")
    return name


def _fields(text: str) -> tuple[str, ...]:
    inner = text.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    names = tuple(_field(part) for part in inner.split(",") if part.strip())
    if not names:
        raise InvalidInput("name at least one field, like (actor, ip)")
    if len(names) > MAX_GROUP_FIELDS or len(set(names)) != len(names):
        raise InvalidInput(f"name up to {MAX_GROUP_FIELDS} different fields")
    return names


@dataclass(frozen=True, slots=True)
class Threshold:
    count: int
    window: int  # seconds
    by: tuple[str, ...] = ()

    def __str__(self) -> str:
        by = f" by {', '.join(self.by)}" if self.by else ""
        return f"count >= {self.count} within {format_duration(self.window)}{by}"


@dataclass(frozen=True, slots=True)
class FirstSeen:
    fields: tuple[str, ...]
    learning: int = DEFAULT_LEARNING

    def __str__(self) -> str:
        learning = (
            ""
            if self.learning == DEFAULT_LEARNING
            else f" learning {format_duration(self.learning)}"
        )
        return f"first time ({', '.join(self.fields)}){learning}"


Condition: TypeAlias = Threshold | FirstSeen | None


def parse_condition(text: str | None) -> Condition:
    """A rule's condition as written; ``None`` or blank: every selected event."""
    if text is None or not text.strip():
        return None
    source = " ".join(text.split())
    threshold = _THRESHOLD.fullmatch(source)
    if threshold is not None:
        count = int(threshold.group("count"))
        if not 1 <= count <= MAX_THRESHOLD:
            raise InvalidInput(f"condition: count must be between 1 and {MAX_THRESHOLD}")
        window = parse_duration(threshold.group("window"), "condition: within")
        if window > MAX_WINDOW:
            raise InvalidInput(f"condition: the window is longer than {MAX_WINDOW // 86400} days")
        by = threshold.group("by")
        return Threshold(count, window, _fields(by) if by else ())
    first = _FIRST.fullmatch(source)
    if first is not None:
        learning = first.group("learning")
        period = DEFAULT_LEARNING
        if learning is not None:
            period = parse_duration(learning, "condition: learning")
        return FirstSeen(_fields(first.group("fields")), period)
    raise InvalidInput(
        f"condition {text!r} is not 'count >= N within D [by fields]'"
        " or 'first time (fields) [learning D]'"
    )


def group_value(name: str, event: Event) -> str | None:
    """The event's value of a condition field; None when it has none."""
    match name:
        case "actor":
            return event.actor.id
        case "ip":
            return event.ip
        case "target":
            return None if event.target is None else event.target.id
        case "account":
            return event.account_id
        case "action":
            return event.action
        case "resource":
            resource = event.resource
            return None if resource is None else f"{resource.type}/{resource.id}"
    if name.startswith("ip/") and event.ip is not None:
        address = ipaddress.ip_address(event.ip)
        bits = min(int(name[3:]), address.max_prefixlen)
        return str(ipaddress.ip_network((address, bits), strict=False))
    return None


class Shaped(Protocol):
    """What ``Rule.could_select`` reads of an event: an ``Event`` or the log follower's
    ``EventShape`` (the columns read before an event is decoded)."""

    @property
    def action(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def outcome(self) -> str: ...


_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_TEXT: Final = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{2}):(?P<sm>\d{2})-(?P<end>\d{2}):(?P<em>\d{2})$"
)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """``Mon-Fri 08:00-18:00``: the days (0 = Monday) and the minutes of the day."""

    days: frozenset[int] = frozenset(range(5))
    start: int = 8 * 60
    end: int = 18 * 60

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        found = _HOURS_TEXT.fullmatch(" ".join(text.lower().split()))
        problem = f"business hours {text!r} are not like 'Mon-Fri 08:00-18:00'"
        if found is None or found.group("first") not in _DAYS:
            raise InvalidInput(problem)
        first = _DAYS.index(found.group("first"))
        last_name = found.group("last") or found.group("first")
        if last_name not in _DAYS:
            raise InvalidInput(problem)
        last = _DAYS.index(last_name)
        days = frozenset(d % 7 for d in range(first, last + 1 if last >= first else last + 8))
        start = int(found.group("start")) * 60 + int(found.group("sm"))
        end = int(found.group("end")) * 60 + int(found.group("em"))
        if not 0 <= start < end <= 24 * 60 or int(found.group("sm")) > 59:
            raise InvalidInput(problem)
        return cls(days, start, end)

    def __str__(self) -> str:
        ordered = sorted(self.days)
        first, last = _DAYS[ordered[0]].title(), _DAYS[ordered[-1]].title()
        span = first if first == last else f"{first}-{last}"
        start, end = divmod(self.start, 60), divmod(self.end, 60)
        return f"{span} {start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"

    def contains(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return moment.weekday() in self.days and self.start <= minute < self.end


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """A tenant's time zone and business hours, which rules with ``hours`` read."""

    timezone: str = "UTC"
    business_hours: BusinessHours = BusinessHours()
    _zone: ZoneInfo = field(default=ZoneInfo("UTC"), compare=False, repr=False)

    @classmethod
    def of(cls, timezone: str = "UTC", business_hours: str | None = None) -> DetectionSettings:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"timezone {timezone!r} is not an IANA time zone (like Europe/Berlin)"
            ) from None
        hours = BusinessHours() if business_hours is None else BusinessHours.parse(business_hours)
        return cls(timezone, hours, zone)

    @classmethod
    def from_body(cls, body: object, current: DetectionSettings | None = None) -> DetectionSettings:
        if not isinstance(body, Mapping):
            raise InvalidInput(
                'send {"timezone": "Europe/Berlin", "business_hours": "Mon-Fri 08:00-18:00"}'
            )
        unknown = set(body) - {"timezone", "business_hours"}
        if unknown:
            raise InvalidInput(
                f"unknown field {sorted(unknown)[0]!r} (fields: timezone, business_hours)"
            )
        base = current or cls()
        timezone = body.get("timezone", base.timezone)
        hours = body.get("business_hours", str(base.business_hours))
        if not isinstance(timezone, str) or not isinstance(hours, str):
            raise InvalidInput("timezone and business_hours are strings")
        return cls.of(timezone, hours)

    def in_business_hours(self, micros: int) -> bool:
        return self.business_hours.contains(from_micros(micros).astimezone(self._zone))

    def to_dict(self) -> dict[str, str]:
        return {"timezone": self.timezone, "business_hours": str(self.business_hours)}


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule (see the module's docstring)."""

    name: str
    title: str
    phrase: str
    severity: Severity
    condition: Condition = None
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    hours: Hours | None = None
    enabled: bool = True
    builtin: bool = False
    query: EventQuery = field(default=EventQuery(), compare=False, repr=False)
    _gate: tuple[tuple[str, frozenset[str]], ...] = field(
        default=(), compare=False, repr=False, init=False
    )

    def __post_init__(self) -> None:
        if not self.query.terms and self.phrase.strip():
            object.__setattr__(self, "query", _rule_query(self.phrase))
        object.__setattr__(self, "_gate", _gate(self.query))

    @property
    def version(self) -> str:
        """Changes when what the rule counts changes: its state then starts afresh."""
        text = f"{self.phrase}\n{self.condition}\n{self.context}\n{self.hours}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def could_select(self, event: Shaped) -> bool:
        """The phrase's category, kind, outcome and action sets allow the event: a test
        ``selects`` implies, and the same for every event of that shape."""
        return all(getattr(event, name) in allowed for name, allowed in self._gate)

    def selects(self, event: Event, settings: DetectionSettings) -> bool:
        """Whether the event counts for this rule (phrase, context and hours)."""
        if not self.could_select(event):  # cheap necessary conditions before the matcher
            return False
        if not matches(self.query, event):
            return False
        if self.context and not _context_holds(self.context, event.context):
            return False
        if self.hours is not None:
            inside = settings.in_business_hours(event.occurred_at)
            if inside != (self.hours == "inside"):
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "phrase": self.phrase,
            "condition": None if self.condition is None else str(self.condition),
            "context": {key: list(values) for key, values in self.context} or None,
            "hours": self.hours,
            "severity": self.severity,
            "enabled": self.enabled,
            "builtin": self.builtin,
        }


_GATED: Final = {
    Field.CATEGORY: "category",
    Field.KIND: "kind",
    Field.OUTCOME: "outcome",
    Field.ACTION: "action",
}


def _gate(query: EventQuery) -> tuple[tuple[str, frozenset[str]], ...]:
    """What the phrase's plain terms require of an event's category, kind, outcome and
    action, as sets: a test the matcher implies, far cheaper than it."""
    gate = []
    for term in query.terms:
        name = _GATED.get(term.field)
        if name is None or term.negate:
            continue
        values = [str(v) for v in term.values]
        if term.field is Field.ACTION and any(v.endswith(".*") for v in values):
            continue
        gate.append((name, frozenset(values)))
    return tuple(gate)


def _context_holds(wanted: tuple[tuple[str, tuple[str, ...]], ...], context: object) -> bool:
    if not isinstance(context, Mapping):
        return False
    for key, values in wanted:
        value = context.get(key)
        if isinstance(value, str | int | float | bool) and str(value).lower() in values:
            return True
    return False


def _rule_query(phrase: str) -> EventQuery:
    try:
        query = parse_phrase(phrase)
    except PhraseSyntaxError as exc:
        raise InvalidInput(f"phrase: {exc.message}") from None
    if query.time.since is not None or query.time.until is not None:
        raise InvalidInput("phrase: a rule's phrase cannot use created: (rules watch new events)")
    return query


RULE_FIELDS: Final = (
    "name",
    "title",
    "phrase",
    "condition",
    "context",
    "hours",
    "severity",
    "enabled",
)
"""What a rule is written as (JSON); ``builtin`` may be sent back as read and is ignored."""


def _text(body: Mapping[str, Any], key: str, limit: int) -> str:
    value = body[key]
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"{key} must be a non-empty string of at most {limit} characters")
    return value.strip()


def _context(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    problem = 'context must map keys to lists of values, like {"new_role": ["admin", "owner"]}'
    if not isinstance(value, Mapping) or len(value) > MAX_CONTEXT_VALUES:
        raise InvalidInput(problem)
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, values in value.items():
        if (
            not isinstance(key, str)
            or not key
            or not isinstance(values, Sequence)
            or isinstance(values, str)
            or not values
            or len(values) > MAX_CONTEXT_VALUES
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise InvalidInput(problem)
        out.append((key, tuple(v.lower() for v in values)))
    return tuple(out)


def rule_from_body(body: object, current: Rule | None = None) -> Rule:
    """A rule from JSON: all of it (create), or the fields to change of ``current`` (PATCH).

    A built-in rule keeps its name; its other fields may be tuned.
    """
    if not isinstance(body, Mapping):
        raise InvalidInput("send a rule as a JSON object")
    unknown = [key for key in body if key not in RULE_FIELDS and key != "builtin"]
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r} (fields: {', '.join(RULE_FIELDS)})")
    if current is None:
        missing = [key for key in ("name", "phrase", "severity") if key not in body]
        if missing:
            raise InvalidInput(f"a rule needs {', '.join(missing)}")
        name = body["name"]
        if not isinstance(name, str) or len(name) > MAX_RULE_NAME or not _NAME.fullmatch(name):
            raise InvalidInput(
                f"name {name!r}: at most {MAX_RULE_NAME} letters, digits, - and _ (stored"
                " lower-case)"
            )
        name = name.lower()
        rule = Rule(name=name, title=name, phrase="", severity="medium")
    else:
        rule = current
        sent = body.get("name", current.name)
        if not isinstance(sent, str) or sent.lower() != current.name:
            raise InvalidInput("a rule's name cannot be changed")
    changes: dict[str, Any] = {}
    if "title" in body:
        changes["title"] = _text(body, "title", MAX_RULE_TITLE)
    elif current is None:
        changes["title"] = rule.name
    if "phrase" in body:
        phrase = body["phrase"]
        if not isinstance(phrase, str):
            raise InvalidInput("phrase must be a string (a search phrase)")
        changes["phrase"] = phrase.strip()
        changes["query"] = _rule_query(phrase)
    if "condition" in body:
        condition = body["condition"]
        if condition is not None and not isinstance(condition, str):
            raise InvalidInput("condition must be a string or null")
        changes["condition"] = parse_condition(condition)
    if "context" in body:
        changes["context"] = _context(body["context"])
    if "hours" in body:
        hours = body["hours"]
        if hours is not None and hours not in HOURS:
            raise InvalidInput("hours must be 'outside' (business hours), 'inside' or null")
        changes["hours"] = hours
    if "severity" in body:
        severity = body["severity"]
        if severity not in SEVERITIES:
            raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}")
        changes["severity"] = severity
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise InvalidInput("enabled must be true or false")
        changes["enabled"] = body["enabled"]
    rule = replace(rule, **changes)
    if not rule.phrase:
        raise InvalidInput("phrase: say which events the rule watches, like category:auth")
    return rule
