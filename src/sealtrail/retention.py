"""Retention policies and legal holds: which events may be pruned, the pure part.

A tenant's ``RetentionPolicy`` keeps every event for ``days`` (None: forever,
the default), except that an action matching one of its ``rules`` (the longest
matching ``action_prefix`` wins) is kept for that rule's days instead. A
``Hold`` (a legal hold) keeps every event it covers — all of the tenant's, or
one account's, or those that occurred in a time range — for as long as it is
not released, whatever the policy says.

Pruning removes a *prefix* of a tenant's log (tlog-tiles calls its end the
minimum index): ``first_kept`` walks the events in ``seq`` order and stops at
the first one that must stay. An event that must stay also keeps everything
after it, even events that expired, so what remains is one contiguous run of
seqs whose proofs need nothing but the tree nodes Sealtrail keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sealtrail.errors import InvalidInput
from sealtrail.events import format_timestamp, parse_timestamp
from sealtrail.limits import (
    MAX_ID,
    MAX_REASON,
    MAX_RETENTION_DAYS,
    MAX_RETENTION_RULES,
    RETENTION_PREFIX_REGEX,
)

DAY_US: Final = 86_400_000_000
PRUNED_ACTION: Final = "audit_log.events_pruned"
"""What a prune records in the tenant's own log; only Sealtrail may record it."""
_PREFIX: Final = re.compile(RETENTION_PREFIX_REGEX)


def whole(value: Any) -> Any:
    """A JSON number with no fraction as the integer it is (``30.0`` is 30 in JSON)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_days(days: object, what: str = "days") -> int:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"{what} must be a whole number of days, 1-{MAX_RETENTION_DAYS}")
    return days


@dataclass(frozen=True, slots=True)
class Rule:
    """Events whose action starts with ``action_prefix`` are kept ``days`` days."""

    action_prefix: str
    days: int

    def __post_init__(self) -> None:
        if not isinstance(self.action_prefix, str) or not _PREFIX.fullmatch(self.action_prefix):
            raise InvalidInput(
                f"{self.action_prefix!r} is not an action prefix (such as auth. or member.invited)"
            )
        check_days(self.days, f"the days of {self.action_prefix}")

    def to_dict(self) -> dict[str, Any]:
        return {"action_prefix": self.action_prefix, "days": self.days}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long a tenant keeps its events: ``days`` (None: forever) and per-prefix rules."""

    days: int | None = None
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        if self.days is not None:
            check_days(self.days)
        if len(self.rules) > MAX_RETENTION_RULES:
            raise InvalidInput(f"a policy has at most {MAX_RETENTION_RULES} action-prefix rules")
        prefixes = [r.action_prefix for r in self.rules]
        if len(set(prefixes)) != len(prefixes):
            raise InvalidInput("each action prefix may be named once")

    @classmethod
    def from_body(cls, body: object) -> RetentionPolicy:
        """``{"days": N | null, "rules": [{"action_prefix", "days"}, …]}`` (PUT /v1/retention)."""
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object")
        unknown = sorted(set(body) - {"days", "rules"})
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a field of a retention policy")
        if "days" not in body:
            raise InvalidInput('a retention policy names "days" (null: keep forever)')
        days = whole(body["days"])
        rules = body.get("rules", [])
        if not isinstance(rules, list):
            raise InvalidInput("rules must be a list")
        parsed: list[Rule] = []
        for rule in rules:
            if not isinstance(rule, dict) or set(rule) != {"action_prefix", "days"}:
                raise InvalidInput('each rule is {"action_prefix": …, "days": …}')
            parsed.append(Rule(rule["action_prefix"], whole(rule["days"])))
        return cls(None if days is None else check_days(days), tuple(parsed))

    @property
    def keeps_forever(self) -> bool:
        """Whether nothing can ever expire under this policy."""
        return self.days is None and not self.rules

    def days_for(self, action: str) -> int | None:
        """How long an event of ``action`` is kept (None: forever)."""
        best: Rule | None = None
        for rule in self.rules:
            if action.startswith(rule.action_prefix) and (
                best is None or len(rule.action_prefix) > len(best.action_prefix)
            ):
                best = rule
        return best.days if best is not None else self.days

    def expires_at(self, action: str, occurred_at: int) -> int | None:
        days = self.days_for(action)
        return None if days is None else occurred_at + days * DAY_US

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "rules": [r.to_dict() for r in self.rules]}

    def describe(self) -> str:
        base = "keep forever" if self.days is None else f"keep {self.days} days"
        extra = [f"{r.action_prefix}* {r.days} days" for r in self.rules]
        return base + (f" ({', '.join(extra)})" if extra else "")


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold: the events it covers are not pruned until it is released.

    ``account_id`` limits it to one account; ``since``/``until`` (µs, ``until``
    exclusive) to the events that occurred in that range. With neither it holds
    the tenant's whole log.
    """

    id: str
    tenant_id: str
    reason: str
    created_by: str
    created_at: int
    account_id: str | None = None
    since: int | None = None
    until: int | None = None
    released_at: int | None = None
    released_by: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def covers(self, occurred_at: int, account_id: str | None) -> bool:
        if not self.active:
            return False
        if self.account_id is not None and account_id != self.account_id:
            return False
        if self.since is not None and occurred_at < self.since:
            return False
        return self.until is None or occurred_at < self.until

    def describe(self) -> str:
        parts = [f"hold {self.id}"]
        if self.account_id is not None:
            parts.append(f"account {self.account_id}")
        if self.since is not None or self.until is not None:
            since = "…" if self.since is None else format_timestamp(self.since)
            until = "…" if self.until is None else format_timestamp(self.until)
            parts.append(f"{since} to {until}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def when(value: int | None) -> str | None:
            return None if value is None else format_timestamp(value)

        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "account_id": self.account_id,
            "since": when(self.since),
            "until": when(self.until),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": when(self.created_at),
            "released_at": when(self.released_at),
            "released_by": self.released_by,
        }


def check_hold(
    reason: str, account_id: str | None, since: str | None, until: str | None
) -> tuple[str, str | None, int | None, int | None]:
    """A hold's reason, account and range, checked; times are RFC 3339 or a date."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(f"a legal hold needs a reason of 1-{MAX_REASON} characters")
    if account_id is not None and not (0 < len(account_id) <= MAX_ID):
        raise InvalidInput(f"an account id is 1-{MAX_ID} characters")
    lo, hi = _time(since, "since"), _time(until, "until")
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidInput("until must be later than since")
    return text, account_id, lo, hi


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00Z"
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Row:
    """What deciding an event's fate needs: its seq, action, time and account."""

    seq: int
    action: str
    occurred_at: int
    account_id: str | None


@dataclass(frozen=True, slots=True)
class Kept:
    """The first event that must stay, and why."""

    seq: int
    why: str


def must_keep(row: Row, policy: RetentionPolicy, holds: Sequence[Hold], now: int) -> str | None:
    """Why ``row`` must stay at ``now`` (a hold, or its retention), or None if it may go."""
    for hold in holds:
        if hold.covers(row.occurred_at, row.account_id):
            return f"under legal {hold.describe()}"
    expires = policy.expires_at(row.action, row.occurred_at)
    if expires is None:
        return f"{row.action} is kept forever"
    if expires > now:
        return f"{row.action} of {format_timestamp(row.occurred_at)} is kept until " + (
            format_timestamp(expires)
        )
    return None


def first_kept(
    rows: Iterable[Row], policy: RetentionPolicy, holds: Sequence[Hold], now: int
) -> Kept | None:
    """The first of ``rows`` (in seq order) that must stay, or None when all may go."""
    for row in rows:
        why = must_keep(row, policy, holds, now)
        if why is not None:
            return Kept(row.seq, why)
    return None


@dataclass(frozen=True, slots=True)
class Prune:
    """One recorded prune: events ``first_seq``..``below - 1`` of the tenant are gone (or going).

    ``record_seq`` is the seq of the ``audit_log.events_pruned`` event that
    announced it in the tenant's own log, before a row was deleted.
    """

    tenant_id: str
    first_seq: int
    below: int
    record_seq: int
    created_at: int
    finished_at: int | None = None
    deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_seq": self.first_seq,
            "last_seq": self.below - 1,
            "record_seq": self.record_seq,
            "pruned_at": format_timestamp(self.created_at),
            "finished_at": None if self.finished_at is None else format_timestamp(self.finished_at),
            "events_deleted": self.deleted,
        }
