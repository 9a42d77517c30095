"""Looking rules and alerts up by what a client sends, on both engines (found by fuzzing)."""

from __future__ import annotations

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import NotFound

OPERATOR = Principal.operator("acme")


@pytest.mark.parametrize("alert_id", ["\x00", "0197e1c2-\x00", "nope"])
def test_an_alert_id_no_alert_can_have_is_not_found(log: AuditLog, alert_id: str) -> None:
    """A NUL reached PostgreSQL (which refuses it in text) as a 500; now it is unknown."""
    with pytest.raises(NotFound):
        log.alert(OPERATOR, alert_id)
    with pytest.raises(NotFound):
        log.alerts(OPERATOR, before=alert_id)
    with pytest.raises(NotFound):
        log.acknowledge_alert(OPERATOR, alert_id)


def test_a_rule_is_found_by_its_name_in_any_case(log: AuditLog) -> None:
    """Names are kept lower-case; the name a rule was created with reads it back."""
    created = log.add_detection(
        OPERATOR, {"name": "Big-Exports", "phrase": "category:export", "severity": "high"}
    )
    assert created.name == "big-exports"
    assert log.detection_rule(OPERATOR, "Big-Exports").name == "big-exports"
    changed = log.update_detection(
        OPERATOR, "BIG-exports", {"name": "Big-Exports", "severity": "low"}
    )
    assert changed.severity == "low"
    assert log.remove_detection(OPERATOR, "Big-Exports") is None
    with pytest.raises(NotFound):
        log.detection_rule(OPERATOR, "big-exports")
