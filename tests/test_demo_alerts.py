"""What ``make run`` shows in the alerts panel: the scripted incident, and only a handful of
other, plausible alerts — not a flood of routine admin work read as "after hours"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.demo import seed_demo
from sealtrail.demo.cast import TENANT_ID
from sealtrail.events import Actor
from sealtrail.settings import Settings
from sealtrail.store.base import AlertRecord
from sealtrail.web import alerts as web_alerts
from sealtrail.web.alerts import AlertPanel

# A fixed "now" (Sunday 2026-12-06, 09:00 UTC) and the seed `sealtrail demo` uses.
NOW = 1_796_547_600_000_000
HOUR = 3_600_000_000

# The incident of the last night (demo.story.Story._incident): a spray from three
# addresses nobody uses, an admin's password guessed, a sign-in from there, then at 3 am
# Berlin a member made an owner and thirty deletions.
INCIDENT = Counter(
    {
        "failed-logins-per-ip": 3,
        "login-from-new-ip": 1,
        "role-escalation": 1,
        "admin-change-after-hours": 1,
        "mass-deletion": 1,
    }
)
# Everything else over the ninety days: two earlier attacks and the breach before MFA
# was required (its key made on a Saturday), two promotions to admin, a settings change
# and a role change at night, and the first key, setting or export of people promoted or
# hired later.
OTHERS = Counter(
    {
        "failed-logins-per-ip": 3,
        "failed-logins-per-actor": 3,
        "login-from-new-ip": 1,
        "api-key-by-new-actor": 3,
        "admin-change-after-hours": 3,
        "role-escalation": 2,
        "settings-by-new-actor": 2,
        "export-by-new-actor": 2,
    }
)


def _evaluated(tmp: Path) -> tuple[list[AlertRecord], AlertPanel]:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'demo.db'}", signing_key_file=str(tmp / "signing.key")
    )
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()
        seed_demo(log, settings, now=NOW)
        # What `sealtrail serve` does in the background, here until the log is read.
        for tenant_id, name, consumer in log.detection_consumers():
            follower = log.follower(tenant_id, name, consumer, owner="test")
            while follower.step().result != "idle":
                pass
        owner = Principal(
            TENANT_ID,
            "viewer",
            Actor("user", "usr_owner", role="owner"),
            scopes=frozenset({"events:read"}),
            role="owner",
        )
        return log.alerts(Principal.operator(TENANT_ID), limit=200), web_alerts.panel(log, owner)
    finally:
        log.close()


@pytest.mark.slow
def test_the_demo_opens_the_incident_and_a_handful_of_others(tmp_path: Path) -> None:
    alerts, panel = _evaluated(tmp_path)
    last_night = [a for a in alerts if a.first_at >= NOW - 12 * HOUR]
    assert Counter(a.rule for a in last_night) == INCIDENT
    # One intruder did it all, from one of the spraying addresses.
    intruder = {a.group["actor"] for a in last_night if "actor" in a.group}
    assert len(intruder) == 1
    [new_ip] = [a for a in last_night if a.rule == "login-from-new-ip"]
    sprayers = {a.group["ip"] for a in last_night if a.rule == "failed-logins-per-ip"}
    assert new_ip.group["ip"] in sprayers
    [deletion] = [a for a in last_night if a.rule == "mass-deletion"]
    assert deletion.event_count == 30
    # The viewer's alerts panel opens on the incident: all of it, and only it.
    assert {a.id for a in alerts[: len(last_night)]} == {a.id for a in last_night}
    assert {item.id for item in panel.items[: len(last_night)]} == {a.id for a in last_night}
    older = Counter(a.rule for a in alerts if a.first_at < NOW - 12 * HOUR)
    assert older == OTHERS
    assert sum(older.values()) <= 20
