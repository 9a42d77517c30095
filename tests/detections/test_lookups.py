"""Looking rules and alerts up by what a client sends, on both engines (found by fuzzing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import NotFound
from sealtrail.settings import Settings
from sealtrail.store import open_store

from ..store.conftest import ENGINES

OPERATOR = Principal.operator("acme")


@pytest.fixture(params=ENGINES)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lookups.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    audit_log = AuditLog(
        open_store(url), settings=Settings(signing_key_file=str(tmp_path / "signing.key"))
    )
    audit_log.migrate()
    audit_log.create_tenant("acme")
    try:
        yield audit_log
    finally:
        audit_log.close()


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
