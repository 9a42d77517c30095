"""Rules evaluated over the log in ``seq`` order, with their state as plain data.

``Evaluator.run`` takes a run of events and a ``State`` (windows and first-seen sets:
rows of ``(rule id, key) → value``) and returns the alerts to open and to extend. The
live consumer loads the rows a batch needs from the database and writes the changed
ones back in the transaction that records the batch as done; ``detections test``
replays history against a ``State`` that starts empty and stays in memory. The same
code decides in both, so a replay shows what the live rules would have done.

State stays bounded: a window keeps at most ``count - 1`` events and lapses once its
window has passed (``expires_at``); a first-seen set keeps a row per combination,
the longest-unseen forgotten past ``MAX_FIRST_SEEN`` (the store enforces both caps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from uuid_utils import uuid7

from sealtrail.detections.rules import (
    ALERT_ACTIONS,
    DetectionSettings,
    FirstSeen,
    Rule,
    Shaped,
    Threshold,
    format_duration,
    group_value,
)
from sealtrail.events import Event, format_timestamp
from sealtrail.limits import MAX_ALERT_EVENTS, MAX_FIRST_SEEN, MAX_WINDOW_GROUPS

__all__ = ["AlertDraft", "Evaluator", "Hit", "State", "StateRow", "rule_id"]

_MICROS: Final = 1_000_000
_DAY: Final = 86_400 * _MICROS
LEARNING_KEY: Final = "start"


def rule_id(rule: Rule) -> str:
    """The state's name for a rule: its name and version, so a changed rule starts afresh."""
    return f"{rule.name}@{rule.version}"


@dataclass(slots=True)
class StateRow:
    value: dict[str, Any] | None  # None: delete the row
    seen_at: int = 0
    expires_at: int | None = None


class State:
    """Rows by ``(rule id, key)``: those loaded, and those changed since (``dirty``)."""

    def __init__(self, loaded: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.loaded = loaded or {}
        self.dirty: dict[tuple[str, str], StateRow] = {}

    def get(self, rule: str, key: str) -> dict[str, Any] | None:
        row = self.dirty.get((rule, key))
        if row is not None:
            return row.value
        return self.loaded.get((rule, key))

    def put(
        self,
        rule: str,
        key: str,
        value: dict[str, Any],
        seen_at: int,
        expires_at: int | None = None,
    ) -> None:
        self.dirty[(rule, key)] = StateRow(value, seen_at, expires_at)

    def settle(self) -> None:
        """Count what changed as loaded (the replay keeps one ``State`` throughout)."""
        for key, row in self.dirty.items():
            if row.value is None:
                self.loaded.pop(key, None)
            else:
                self.loaded[key] = row.value
        self.dirty.clear()

    def expire(self, before: int, caps: Callable[[str], int]) -> None:
        """In memory (the replay): drop lapsed windows and enforce the caps as the store does."""
        by_rule: dict[str, list[tuple[str, str]]] = {}
        for key, value in list(self.loaded.items()):
            expires = value.get("x")
            if isinstance(expires, int) and expires < before:
                del self.loaded[key]
            else:
                by_rule.setdefault(key[0], []).append(key)
        for rule, keys in by_rule.items():
            excess = len(keys) - caps(rule)
            if excess > 0:
                keys.sort(key=lambda k: int(self.loaded[k].get("s", 0)))
                for key in keys[:excess]:
                    del self.loaded[key]


@dataclass(slots=True)
class AlertDraft:
    """An alert to open (``new``) or events to add to an open one."""

    id: str
    rule: str
    severity: str
    title: str
    group: dict[str, str]
    events: list[tuple[int, str, int]] = field(default_factory=list)  # (seq, id, occurred_at)
    count: int = 0
    new: bool = True

    @property
    def summary(self) -> str:
        group = ", ".join(f"{name} {value}" for name, value in self.group.items())
        first, last = self.events[0][2], self.events[-1][2]
        span = (
            format_timestamp(first)
            if first == last
            else (f"{format_timestamp(first)} to {format_timestamp(last)}")
        )
        count = f"{self.count} event{'s' if self.count != 1 else ''}"
        return f"{self.title}" + (f" ({group})" if group else "") + f": {count}, {span}"


@dataclass(frozen=True, slots=True)
class Hit:
    event: Event
    rule: Rule
    keys: tuple[str, ...]  # the state keys this event reads and writes


def _key(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


def _label(name: str, event: Event, value: str) -> str:
    if name == "actor":
        return event.actor.email or event.actor.name or value
    if name == "target" and event.target is not None:
        return event.target.email or event.target.name or value
    return value


class Evaluator:
    """Rules over events in ``seq`` order; see the module's docstring."""

    def __init__(
        self,
        rules: Iterable[Rule],
        settings: DetectionSettings,
        *,
        new_id: Callable[[], str] = lambda: str(uuid7()),
    ) -> None:
        self.rules = [rule for rule in rules if rule.enabled]
        self.settings = settings
        self._new_id = new_id
        self._ids = {rule.name: rule_id(rule) for rule in self.rules}
        self._candidates: dict[tuple[str, str, str, str], list[Rule]] = {}

    def cap(self, rule: str) -> int:
        """The most state rows a rule id keeps (the store and the replay both enforce it)."""
        name = rule.partition("@")[0]
        found = next((r for r in self.rules if r.name == name), None)
        if found is not None and isinstance(found.condition, FirstSeen):
            return MAX_FIRST_SEEN
        return MAX_WINDOW_GROUPS

    def _rules_for(self, event: Shaped) -> list[Rule]:
        """The rules whose category/kind/outcome/action sets allow an event of this shape
        (none for Sealtrail's own alerts, which never feed back into the rules)."""
        shape = (event.category, event.kind, event.outcome, event.action)
        rules = self._candidates.get(shape)
        if rules is None:
            rules = self._candidates[shape] = (
                []
                if event.action in ALERT_ACTIONS
                else [r for r in self.rules if r.could_select(event)]
            )
        return rules

    def could_hit(self, event: Shaped) -> bool:
        """Whether some rule could select an event of this shape: ``hits`` finds nothing
        for an event this says no to, so the log follower need not even decode it."""
        return bool(self._rules_for(event))

    def hits(self, events: Iterable[Event]) -> list[Hit]:
        """Each (event, rule) that selects it, with the state keys the pair needs."""
        found: list[Hit] = []
        for event in events:
            for rule in self._rules_for(event):
                if not rule.selects(event, self.settings):
                    continue
                keys = self._keys(rule, event)
                if keys is not None:
                    found.append(Hit(event, rule, keys))
        return found

    @staticmethod
    def _keys(rule: Rule, event: Event) -> tuple[str, ...] | None:
        condition = rule.condition
        if condition is None:
            return ()
        names = condition.by if isinstance(condition, Threshold) else condition.fields
        values = [group_value(name, event) for name in names]
        if any(v is None for v in values):
            return None  # the event has no value to group or remember it by
        present = [v for v in values if v is not None]
        if isinstance(condition, Threshold):
            return (_key(present),)
        keys = (LEARNING_KEY, "k:" + _key(present))
        return (*keys, "p:" + _key(present[:1])) if len(present) > 1 else keys

    def needed(self, hits: Iterable[Hit]) -> set[tuple[str, str]]:
        return {(self._ids[hit.rule.name], key) for hit in hits for key in hit.keys}

    def run(self, hits: Iterable[Hit], state: State) -> list[AlertDraft]:
        """Evaluate in order; change ``state``; return the alerts opened or extended."""
        drafts: dict[str, AlertDraft] = {}
        for hit in hits:
            condition = hit.rule.condition
            if condition is None:
                self._open(drafts, hit, {}, [hit.event])
            elif isinstance(condition, Threshold):
                self._threshold(drafts, hit, condition, state)
            else:
                self._first_seen(drafts, hit, condition, state)
        return list(drafts.values())

    def _group(self, hit: Hit, names: Sequence[str]) -> dict[str, str]:
        return {name: _label(name, hit.event, group_value(name, hit.event) or "") for name in names}

    def _open(
        self,
        drafts: dict[str, AlertDraft],
        hit: Hit,
        group: dict[str, str],
        events: Sequence[Event],
    ) -> AlertDraft:
        rule = hit.rule
        draft = AlertDraft(self._new_id(), rule.name, rule.severity, rule.title, group)
        for event in events:
            draft.events.append((event.seq, event.id, event.occurred_at))
        draft.count = len(events)
        drafts[draft.id] = draft
        return draft

    def _threshold(
        self, drafts: dict[str, AlertDraft], hit: Hit, condition: Threshold, state: State
    ) -> None:
        rid, key, event = self._ids[hit.rule.name], hit.keys[0], hit.event
        window = condition.window * _MICROS
        t = event.occurred_at
        value = state.get(rid, key) or {"e": [], "a": None, "l": t, "n": 0}
        alert = value.get("a")
        if alert is not None and abs(t - int(value["l"])) <= window:
            draft = drafts.get(alert)
            if draft is None:
                draft = AlertDraft(
                    alert, hit.rule.name, hit.rule.severity, hit.rule.title, {}, new=False
                )
                drafts[alert] = draft
            if int(value["n"]) < MAX_ALERT_EVENTS:
                draft.events.append((event.seq, event.id, t))
            draft.count += 1
            n = int(value["n"]) + 1
            last = max(t, int(value["l"]))
            state.put(
                rid,
                key,
                {"e": [], "a": alert, "l": last, "n": n, "s": t, "x": last + window},
                t,
                last + window,
            )
            return
        entries = [tuple(e) for e in value.get("e", [])]
        entries.append((t, event.seq, event.id))
        entries.sort()
        latest = entries[-1][0]
        entries = [e for e in entries if e[0] > latest - window][-condition.count :]
        if len(entries) >= condition.count:
            names = condition.by
            draft = self._open(drafts, hit, self._group(hit, names), [])
            draft.events = [(int(seq), str(ident), int(at)) for at, seq, ident in entries]
            draft.events.sort()
            draft.count = len(entries)
            state.put(
                rid,
                key,
                {
                    "e": [],
                    "a": draft.id,
                    "l": latest,
                    "n": len(entries),
                    "s": t,
                    "x": latest + window,
                },
                t,
                latest + window,
            )
            return
        kept = [list(e) for e in entries[-(condition.count - 1) :]] if condition.count > 1 else []
        state.put(
            rid,
            key,
            {"e": kept, "a": None, "l": latest, "n": 0, "s": t, "x": latest + window},
            t,
            latest + window,
        )

    def _first_seen(
        self, drafts: dict[str, AlertDraft], hit: Hit, condition: FirstSeen, state: State
    ) -> None:
        rid, event = self._ids[hit.rule.name], hit.event
        t = event.occurred_at
        start_row = state.get(rid, LEARNING_KEY)
        if start_row is None:
            start = t
            state.put(rid, LEARNING_KEY, {"t": t, "s": 2**62}, 2**62)  # never evicted
        else:
            start = int(start_row["t"])
        combination = hit.keys[1]
        prefix = hit.keys[2] if len(hit.keys) > 2 else None
        seen = state.get(rid, combination)
        known_prefix = prefix is None or state.get(rid, prefix) is not None
        if seen is None:
            state.put(rid, combination, {"s": t}, t)
            if t >= start + condition.learning * _MICROS and known_prefix:
                self._open(drafts, hit, self._group(hit, condition.fields), [event])
        elif t - int(seen.get("s", 0)) > _DAY:
            state.put(rid, combination, {"s": t}, t)  # remembered as recently seen
        if prefix is not None:
            known = state.get(rid, prefix)
            if known is None or t - int(known.get("s", 0)) > _DAY:
                state.put(rid, prefix, {"s": t}, t)


def describe_condition(rule: Rule) -> str:
    condition = rule.condition
    if condition is None:
        return "every event"
    if isinstance(condition, Threshold):
        return f"{condition.count} within {format_duration(condition.window)}"
    return str(condition)
