"""A tenant's detections as ``AuditLog`` uses them: its rules, settings, alerts, replays.

The effective rules are the built-in ones, each replaced by the tenant's tuned copy
when there is one, followed by the tenant's own rules. Changing what a rule counts
(its phrase, condition, context or hours) forgets its state: the windows and
first-seen sets start afresh under the rule's new version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sealtrail.detections.builtin import BUILTIN_RULES, builtin_rule
from sealtrail.detections.consumer import drafts_to_commit
from sealtrail.detections.evaluate import AlertDraft, Evaluator, State
from sealtrail.detections.rules import DetectionSettings, Rule, parse_duration, rule_from_body
from sealtrail.errors import Conflict, InvalidInput, NotFound
from sealtrail.events import Event, format_timestamp, from_micros, now_micros, parse_timestamp
from sealtrail.limits import MAX_ALERT_EVENTS, MAX_RULES
from sealtrail.query import EventQuery, Field, Term, TimeRange, format_phrase
from sealtrail.store.base import AlertRecord, EventStore

__all__ = [
    "Detections",
    "ReplayAlert",
    "alert_dict",
    "alert_summary",
    "context_phrase",
    "replay_start",
]

_HOUR = 3600 * 1_000_000
_GROUP_FIELDS: Mapping[str, Field] = {
    "actor": Field.ACTOR,
    "ip": Field.IP,
    "target": Field.TARGET,
    "account": Field.ACCOUNT_ID,
    "action": Field.ACTION,
    "resource": Field.RESOURCE,
}


def alert_summary(title: str, group: Mapping[str, str], count: int, first: int, last: int) -> str:
    where = ", ".join(f"{name} {value}" for name, value in group.items())
    span = (
        format_timestamp(first)
        if first == last
        else (f"{format_timestamp(first)} to {format_timestamp(last)}")
    )
    events = f"{count} event{'s' if count != 1 else ''}"
    return f"{title}" + (f" ({where})" if where else "") + f": {events}, {span}"


def context_phrase(group: Mapping[str, str], first: int, last: int) -> str:
    """The search that shows an alert's events in context: its group, an hour either side."""
    terms = []
    for name, value in group.items():
        field = _GROUP_FIELDS.get(name.partition("/")[0])
        if field is None or not value:
            continue
        try:
            terms.append(Term.of(field, value))
        except InvalidInput:
            continue
    window = TimeRange(from_micros(first - _HOUR), from_micros(last + _HOUR))
    return format_phrase(EventQuery(tuple(terms), window))


def replay_start(value: object) -> int:
    """``30d`` (that long ago) or an RFC 3339 time, in µs."""
    if not isinstance(value, str):
        raise InvalidInput("since is a duration like 30d or an RFC 3339 time")
    if value[:1].isdigit() and value[-1:] in "smhd" and value[:-1].isdigit():
        return now_micros() - parse_duration(value, "since") * 1_000_000
    try:
        return parse_timestamp(value)
    except ValueError:
        raise InvalidInput(
            f"since {value!r} is not a duration like 30d or an RFC 3339 time"
        ) from None


def alert_dict(alert: AlertRecord) -> dict[str, Any]:
    """An alert as the API shows it (SPEC §11's fields first)."""
    return {
        "id": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "opened_at": format_timestamp(alert.opened_at),
        "status": alert.status,
        "event_ids": list(alert.event_ids),
        "summary": alert_summary(
            alert.title, alert.group, alert.event_count, alert.first_at, alert.last_at
        ),
        "title": alert.title,
        "group": dict(alert.group),
        "event_seqs": list(alert.event_seqs),
        "event_count": alert.event_count,
        "first_event_at": format_timestamp(alert.first_at),
        "last_event_at": format_timestamp(alert.last_at),
        "search": context_phrase(alert.group, alert.first_at, alert.last_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": None
        if alert.acknowledged_at is None
        else format_timestamp(alert.acknowledged_at),
        "resolved_by": alert.resolved_by,
        "resolved_at": None if alert.resolved_at is None else format_timestamp(alert.resolved_at),
    }


@dataclass(frozen=True, slots=True)
class ReplayAlert:
    """What a rule would have opened over history (``detections test``)."""

    rule: str
    severity: str
    summary: str
    event_ids: tuple[str, ...]
    event_seqs: tuple[int, ...]
    event_count: int
    first_at: int
    last_at: int
    search: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "summary": self.summary,
            "event_ids": list(self.event_ids),
            "event_seqs": list(self.event_seqs),
            "event_count": self.event_count,
            "first_event_at": format_timestamp(self.first_at),
            "last_event_at": format_timestamp(self.last_at),
            "search": self.search,
        }


def _stored_body(rule: Rule) -> str:
    body = rule.to_dict()
    body.pop("builtin")
    return json.dumps(body, sort_keys=True)


class Detections:
    """One database's detection rules, settings and alerts (no scope checks: ``AuditLog``'s)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    # -- rules ---------------------------------------------------------------------------
    def rules(self, tenant_id: str) -> list[Rule]:
        stored = dict(self._store.detection_rules(tenant_id))
        out: list[Rule] = []
        for rule in BUILTIN_RULES:
            body = stored.pop(rule.name, None)
            out.append(rule if body is None else rule_from_body(json.loads(body), rule))
        for name in sorted(stored):
            own = json.loads(stored[name])
            own.pop("builtin", None)
            out.append(rule_from_body(own))
        return out

    def rule(self, tenant_id: str, name: str) -> Rule:
        """The rule named ``name`` in any case: names are kept lower-case (a rule created
        as ``Big-Exports`` is read back by that name too; found by fuzzing)."""
        name = name.lower()
        found = next((r for r in self.rules(tenant_id) if r.name == name), None)
        if found is None:
            raise NotFound(f"no detection rule {name!r}")
        return found

    def settings(self, tenant_id: str) -> DetectionSettings:
        stored = self._store.detection_settings(tenant_id)
        if stored is None:
            return DetectionSettings()
        return DetectionSettings.of(stored[0], stored[1])

    def set_settings(self, tenant_id: str, body: object) -> DetectionSettings:
        settings = DetectionSettings.from_body(body, self.settings(tenant_id))
        self._store.put_detection_settings(
            tenant_id, settings.timezone, str(settings.business_hours), now_micros()
        )
        return settings

    def effective(self, tenant_id: str) -> tuple[list[Rule], DetectionSettings]:
        """What the consumer evaluates: the enabled rules and the tenant's settings."""
        return [r for r in self.rules(tenant_id) if r.enabled], self.settings(tenant_id)

    def add(self, tenant_id: str, body: object) -> Rule:
        rule = rule_from_body(body)
        if builtin_rule(rule.name) is not None:
            raise Conflict(f"{rule.name!r} is a built-in rule: tune it with PATCH")
        existing = dict(self._store.detection_rules(tenant_id))
        if rule.name in existing:
            raise Conflict(f"a detection rule named {rule.name!r} exists")
        own = [name for name in existing if builtin_rule(name) is None]
        if len(own) >= MAX_RULES:
            raise InvalidInput(f"a tenant has at most {MAX_RULES} rules of its own")
        self._store.put_detection_rule(tenant_id, rule.name, _stored_body(rule), now_micros())
        return rule

    def update(self, tenant_id: str, name: str, body: object) -> Rule:
        current = self.rule(tenant_id, name)
        name = current.name
        rule = rule_from_body(body, current)
        self._store.put_detection_rule(tenant_id, name, _stored_body(rule), now_micros())
        if rule.version != current.version:
            self._store.clear_detection_state(tenant_id, name)
        return rule

    def remove(self, tenant_id: str, name: str) -> Rule | None:
        """Delete a rule of the tenant's own; a built-in one goes back to its defaults
        (returned). Its state is forgotten either way."""
        name = self.rule(tenant_id, name).name
        self._store.remove_detection_rule(tenant_id, name)
        self._store.clear_detection_state(tenant_id, name)
        return builtin_rule(name)

    # -- alerts --------------------------------------------------------------------------
    def alert(self, tenant_id: str, alert_id: str) -> AlertRecord:
        found = self._store.get_alert(tenant_id, alert_id)
        if found is None:
            raise NotFound(f"no alert {alert_id!r}")
        return found

    # -- replaying history ---------------------------------------------------------------
    def replay(
        self, tenant_id: str, rules: Sequence[Rule], chunks: Iterable[Sequence[Event]]
    ) -> Iterator[ReplayAlert]:
        """What ``rules`` would open over these events (in seq order), with empty state."""
        evaluator = Evaluator(rules, self.settings(tenant_id))
        state = State()
        open_drafts: dict[str, AlertDraft] = {}
        order: list[str] = []
        for events in chunks:
            drafts = evaluator.run(evaluator.hits(events), state)
            commit = drafts_to_commit(tenant_id, evaluator, state, drafts, events, 0)
            state.settle()
            if commit.expire_before is not None:
                state.expire(commit.expire_before, evaluator.cap)
            for draft in drafts:
                known = open_drafts.get(draft.id)
                if known is None:
                    open_drafts[draft.id] = draft
                    order.append(draft.id)
                else:
                    known.events.extend(draft.events)
                    known.count += draft.count
        for alert_id in order:
            draft = open_drafts[alert_id]
            kept = draft.events[:MAX_ALERT_EVENTS]
            first = min(at for _, _, at in draft.events)
            last = max(at for _, _, at in draft.events)
            yield ReplayAlert(
                rule=draft.rule,
                severity=draft.severity,
                summary=alert_summary(draft.title, draft.group, draft.count, first, last),
                event_ids=tuple(ident for _, ident, _ in kept),
                event_seqs=tuple(seq for seq, _, _ in kept),
                event_count=draft.count,
                first_at=first,
                last_at=last,
                search=context_phrase(draft.group, first, last),
            )
