"""``HeadWatch``: what wakes a ``sealtrail follow`` process's stream followers, which sees
no appends of its own — a tenant's followers are nudged when, and only when, its log grew."""

from __future__ import annotations

from pathlib import Path

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.events import Actor, EventInput
from sealtrail.server.background import HeadWatch
from sealtrail.settings import Settings
from sealtrail.store import open_store


class RecordingPool:
    """The two calls ``HeadWatch`` makes of a ``FollowerPool``: which followers run, and
    which tenants it wakes."""

    def __init__(self, running: list[tuple[str, str]]) -> None:
        self.followers = running
        self.nudged: list[str] = []

    def running(self) -> list[tuple[str, str]]:
        return list(self.followers)

    def nudge(self, tenant_id: str) -> None:
        self.nudged.append(tenant_id)


def _append(audit_log: AuditLog, tenant_id: str, count: int) -> None:
    audit_log.append(
        Principal.operator(tenant_id),
        [EventInput(action="document.read", actor=Actor("user", f"u{i}")) for i in range(count)],
    )


def test_a_tenants_followers_are_woken_when_its_log_grows(tmp_path: Path) -> None:
    audit_log = AuditLog(
        open_store(f"sqlite:///{tmp_path / 'watch.db'}"),
        settings=Settings(signing_key_file=str(tmp_path / "signing.key")),
    )
    audit_log.migrate()
    for tenant in ("acme", "globex", "initech"):
        audit_log.create_tenant(tenant)
    try:
        pool = RecordingPool([("acme", "stream-1"), ("acme", "stream-2"), ("globex", "s")])
        watch = HeadWatch(audit_log, pool)  # type: ignore[arg-type]
        watch.check()  # the first look: every watched log is "new"
        assert sorted(pool.nudged) == ["acme", "globex"]

        pool.nudged.clear()
        watch.check()
        assert pool.nudged == [], "nothing was appended: nobody is woken"

        _append(audit_log, "acme", 3)
        _append(audit_log, "initech", 2)  # nobody follows it here
        watch.check()
        assert pool.nudged == ["acme"], "one nudge per grown tenant, none for the others"

        pool.nudged.clear()
        watch.check()
        assert pool.nudged == []
    finally:
        audit_log.close()
