"""The evaluator: thresholds in windows, first-seen sets, hours, context, bounded state."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sealtrail.detections import evaluate
from sealtrail.detections.evaluate import AlertDraft, Evaluator, State
from sealtrail.detections.rules import DetectionSettings, FirstSeen, Rule, Threshold

from .events import DAY, MINUTE, MONDAY, Log

FAILED = "category:auth kind:access outcome:failure"


def run(rules: Sequence[Rule], log: Log, state: State | None = None) -> list[AlertDraft]:
    evaluator = Evaluator(rules, DetectionSettings())
    state = state or State()
    found: dict[str, AlertDraft] = {}
    for event in log.events:  # one event per batch: the hardest way to keep state
        for draft in evaluator.run(evaluator.hits([event]), state):
            if draft.id in found:
                found[draft.id].events += draft.events
                found[draft.id].count += draft.count
            else:
                found[draft.id] = draft
        state.settle()
    return list(found.values())


def burst(by: tuple[str, ...] = ("actor",), count: int = 3) -> Rule:
    return Rule("burst", "Burst", FAILED, "high", Threshold(count, 5 * 60, by))


def test_a_threshold_fires_once_per_burst_and_collects_the_rest() -> None:
    log = Log()
    for i in range(5):
        log.add("auth.login", MONDAY + i * MINUTE, outcome="failure")
    log.add("auth.login", MONDAY + 6 * MINUTE, outcome="failure")  # within 5m of the last
    log.add("auth.login", MONDAY + 20 * MINUTE, outcome="failure")  # after a quiet window
    log.add("auth.login", MONDAY + 21 * MINUTE, outcome="failure")
    log.add("auth.login", MONDAY + 22 * MINUTE, outcome="failure")
    alerts = run([burst()], log)
    assert [[seq for seq, _, _ in a.events] for a in alerts] == [[0, 1, 2, 3, 4, 5], [6, 7, 8]]
    assert alerts[0].group == {"actor": "u1@acme.test"}


def test_a_threshold_counts_within_the_window_and_per_group() -> None:
    log = Log()
    for i in range(4):
        log.add("auth.login", MONDAY + i * 3 * MINUTE, outcome="failure")  # 2 per 5 minutes
    for who in ("a", "b", "c"):
        log.add("auth.login", MONDAY + DAY, actor=who, outcome="failure", ip="10.0.0.1")
    log.add("auth.login", MONDAY + DAY, outcome="success")  # not a failure
    assert run([burst()], log) == []
    by_ip = run([burst(("ip",))], log)
    assert [a.group for a in by_ip] == [{"ip": "10.0.0.1"}]
    by_net = run([burst(("ip/8",))], log)
    assert [a.group for a in by_net] == [{"ip/8": "10.0.0.0/8"}]


def test_first_time_learns_then_fires_for_a_known_actor_only() -> None:
    rule = Rule(
        "new-ip", "New IP", "kind:access outcome:success", "medium", FirstSeen(("actor", "ip"))
    )
    log = Log()
    log.add("auth.login", MONDAY, ip="10.0.0.1")
    log.add("auth.login", MONDAY + DAY, ip="10.0.0.2")  # new, but still learning
    log.add("auth.login", MONDAY + 8 * DAY, ip="10.0.0.2")  # known
    fired = log.add("auth.login", MONDAY + 8 * DAY, ip="192.0.2.9")  # new: fires
    log.add("auth.login", MONDAY + 9 * DAY, ip="192.0.2.9")  # now known
    log.add("auth.login", MONDAY + 9 * DAY, actor="newcomer", ip="10.9.9.9")  # unknown actor
    log.add("auth.login", MONDAY + 9 * DAY, actor="u2")  # no ip: nothing to remember
    alerts = run([rule], log)
    assert [(a.group, [e[1] for e in a.events]) for a in alerts] == [
        ({"actor": "u1@acme.test", "ip": "192.0.2.9"}, [fired.id])
    ]


def test_hours_and_context_narrow_what_a_rule_sees() -> None:
    rule = Rule(
        "escalation",
        "Escalation",
        "category:members",
        "high",
        context=(("new_role", ("admin", "owner")),),
        hours="outside",
    )
    log = Log()
    night = MONDAY - 8 * 60 * MINUTE  # 02:00 UTC
    log.add("member.role_updated", night, context={"new_role": "editor"})
    log.add("member.role_updated", MONDAY, context={"new_role": "admin"})  # business hours
    hit = log.add("member.role_updated", night + MINUTE, context={"new_role": "Owner"})
    log.add("member.role_updated", night + 2 * MINUTE, context={"role": "admin"})  # other key
    assert [a.events[0][1] for a in run([rule], log)] == [hit.id]
    # In Tokyo 02:00 UTC is 11:00 (business hours) and 10:00 UTC is 19:00 (not).
    tokyo = Evaluator([rule], DetectionSettings.of("Asia/Tokyo", "Mon-Fri 08:00-18:00"))
    assert [hit.event.id for hit in tokyo.hits(log.events)] == ["e1"]


def test_sealtrail_alert_events_never_feed_back() -> None:
    rule = Rule("any", "Anything", "category:audit_log", "low")
    log = Log()
    log.add("audit_log.alert_opened", MONDAY)
    log.add("audit_log.alert_acknowledged", MONDAY)
    kept = log.add("audit_log.exported", MONDAY)
    assert [a.events[0][1] for a in run([rule], log)] == [kept.id]


def test_state_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "MAX_FIRST_SEEN", 5)
    monkeypatch.setattr(evaluate, "MAX_WINDOW_GROUPS", 4)
    seen = Rule("seen", "Seen", "kind:access", "low", FirstSeen(("ip",)))
    window = Rule("win", "Win", "kind:access", "low", Threshold(100, 60, ("ip",)))
    evaluator = Evaluator([seen, window], DetectionSettings())
    state = State()
    log = Log()
    for i in range(200):
        log.add("auth.login", MONDAY + i * 1_000_000, ip=f"10.0.{i // 250}.{i % 250}")
    evaluator.run(evaluator.hits(log.events), state)
    windows = [row.value for (rule, _), row in state.dirty.items() if rule.startswith("win@")]
    assert all(len(v["e"]) <= 99 for v in windows if v)
    state.settle()
    state.expire(MONDAY, evaluator.cap)
    counts: dict[str, int] = {}
    for rule, _ in state.loaded:
        counts[rule.partition("@")[0]] = counts.get(rule.partition("@")[0], 0) + 1
    assert counts == {"seen": 5, "win": 4}
