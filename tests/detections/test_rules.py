"""Rules as data: conditions, business hours, bodies, and what each refuses (one line)."""

from __future__ import annotations

import pytest

from sealtrail.detections.builtin import BUILTIN_RULES
from sealtrail.detections.rules import (
    BusinessHours,
    DetectionSettings,
    FirstSeen,
    Threshold,
    parse_condition,
    rule_from_body,
)
from sealtrail.errors import InvalidInput
from sealtrail.events import parse_timestamp


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        (None, None),
        ("  ", None),
        ("count >= 10 within 5m", Threshold(10, 300)),
        ("count>=10 within 5m by actor", Threshold(10, 300, ("actor",))),
        ("COUNT >= 3 WITHIN 2h BY (actor, ip)", Threshold(3, 7200, ("actor", "ip"))),
        ("count >= 20 within 1d by ip/24", Threshold(20, 86400, ("ip/24",))),
        ("first time (actor, ip)", FirstSeen(("actor", "ip"))),
        ("first time actor", FirstSeen(("actor",))),
        ("first time (actor) learning 14d", FirstSeen(("actor",), 14 * 86400)),
    ],
)
def test_conditions_read_as_written(text: str | None, condition: object) -> None:
    assert parse_condition(text) == condition
    if condition is not None:
        assert parse_condition(str(condition)) == condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("count >= 0 within 5m", "count must be between 1 and 1000"),
        ("count >= 5000 within 5m", "count must be between 1 and 1000"),
        ("count >= 5 within 5min", "is not a duration"),
        ("count >= 5 within 30d", "longer than 7 days"),
        ("count >= 5 within 5m by colour", "unknown field 'colour'"),
        ("first time (actor, country)", "GeoIP"),
        ("first time ()", "at least one field"),
        ("first time (actor, actor)", "different fields"),
        ("count >= 5 within 5m by ip/200", "prefix length"),
        ("more than 5", "is not 'count >= N within D"),
    ],
)
def test_bad_conditions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_condition(text)
    assert "\n" not in caught.value.message


def test_business_hours_in_the_tenant_time_zone() -> None:
    settings = DetectionSettings.of("Europe/Berlin", "Mon-Fri 08:00-18:00")
    # 2026-03-02 is a Monday; 07:30 UTC is 08:30 in Berlin (CET, UTC+1).
    assert settings.in_business_hours(parse_timestamp("2026-03-02T07:30:00Z"))
    assert not settings.in_business_hours(parse_timestamp("2026-03-02T06:30:00Z"))
    assert not settings.in_business_hours(parse_timestamp("2026-03-02T17:30:00Z"))
    assert not settings.in_business_hours(parse_timestamp("2026-03-07T10:00:00Z"))  # Saturday
    assert str(BusinessHours.parse("sat-sun 10:00-12:30")) == "Sat-Sun 10:00-12:30"
    assert BusinessHours.parse("Fri-Mon 09:00-17:00").days == frozenset({4, 5, 6, 0})
    with pytest.raises(InvalidInput, match="IANA"):
        DetectionSettings.of("Mars/Olympus")
    with pytest.raises(InvalidInput, match="Mon-Fri 08:00-18:00"):
        BusinessHours.parse("weekdays 9 to 5")


def test_a_rule_from_json_and_its_refusals() -> None:
    rule = rule_from_body(
        {
            "name": "Big-Exports",
            "phrase": "action:audit_log.exported",
            "condition": "count >= 3 within 1h by actor",
            "severity": "high",
            "context": {"format": ["CSV"]},
            "hours": "outside",
        }
    )
    assert rule.name == "big-exports"
    assert rule.to_dict()["condition"] == "count >= 3 within 1h by actor"
    assert rule.context == (("format", ("csv",)),)
    tuned = rule_from_body({"severity": "low", "enabled": False}, rule)
    assert (tuned.severity, tuned.enabled, tuned.version) == ("low", False, rule.version)
    assert rule_from_body({"condition": None}, rule).version != rule.version
    for body, message in [
        ({"phrase": "x", "severity": "high"}, "needs name"),
        ({"name": "a b", "phrase": "x", "severity": "high"}, "lower-case"),
        ({"name": "r", "phrase": "action:", "severity": "high"}, "phrase:"),
        ({"name": "r", "phrase": "created:>=2026-01-01", "severity": "high"}, "created"),
        ({"name": "r", "phrase": " ", "severity": "high"}, "which events"),
        ({"name": "r", "phrase": "x", "severity": "urgent"}, "severity must be"),
        ({"name": "r", "phrase": "x", "severity": "high", "hours": "night"}, "hours must"),
        ({"name": "r", "phrase": "x", "severity": "high", "context": {"k": "v"}}, "context"),
        ({"name": "r", "phrase": "x", "severity": "high", "colour": 1}, "unknown field"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            rule_from_body(body)
    with pytest.raises(InvalidInput, match="cannot be changed"):
        rule_from_body({"name": "other"}, rule)


def test_the_built_in_rules_are_defined_by_the_catalog() -> None:
    """Phrases name categories and kinds, not lists of actions (the one audit_log
    action is Sealtrail's own export record)."""
    for rule in BUILTIN_RULES:
        assert rule.builtin and rule.enabled
        actions = [t for t in rule.phrase.split() if t.startswith("action:")]
        assert actions in ([], ["action:audit_log.exported"]), rule.name
    assert len({r.name for r in BUILTIN_RULES}) == len(BUILTIN_RULES) == 9
