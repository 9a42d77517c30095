"""A generated history with planted incidents and benign look-alikes, and the alerts it
must open — no more, no fewer.

Two weeks from a Monday three weeks ago. Ten people sign in on weekdays between 09:00
and 17:00 UTC from their two usual addresses, change apps, delete a little, fail a
sign-in now and then; the admin (u1) changes roles to "editor", created an API key,
changed the settings and exported the log during the first (learning) week. The
second week plants one incident per built-in rule, each beside look-alikes that must
stay quiet (nine failed sign-ins, twelve spread over eleven minutes, a first sign-in
of a new hire, nineteen deletions, the admin's usual changes …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DAY = timedelta(days=1)


def _monday_weeks_ago(weeks: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)


T0 = _monday_weeks_ago(3)


@dataclass(frozen=True)
class Expected:
    rule: str
    group: dict[str, str]
    event_ids: tuple[str, ...]


def _user(n: int) -> dict[str, str]:
    return {"type": "user", "id": f"u{n}", "email": f"u{n}@acme.test", "name": f"User {n}"}


class History:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.expected: list[Expected] = []
        self._n = 0

    def add(self, at: datetime, action: str, actor: int | str, **fields: Any) -> str:
        self._n += 1
        ident = f"ev{self._n:05d}"
        body: dict[str, Any] = {
            "id": ident,
            "action": action,
            "actor": _user(actor)
            if isinstance(actor, int)
            else {"type": "user", "id": actor, "email": f"{actor}@acme.test"},
            "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        body.update(fields)
        self.events.append(body)
        return ident

    def expect(self, rule: str, group: dict[str, str], ids: list[str]) -> None:
        self.expected.append(Expected(rule, group, tuple(ids)))


def _benign_day(h: History, day: int) -> None:
    base = T0 + day * DAY
    for n in range(1, 11):
        ip = f"10.0.{n}.{1 + (day + n) % 2}"
        h.add(base + timedelta(hours=9, minutes=n), "auth.login", n, ip=ip)
        h.add(
            base + timedelta(hours=10, minutes=n),
            "app.updated",
            n,
            ip=ip,
            resource={"type": "app", "id": f"app_{n}_{day}"},
        )
        for k in range(2):
            h.add(
                base + timedelta(hours=11 + 2 * k, minutes=n),
                "app.deleted",
                n,
                ip=ip,
                resource={"type": "app", "id": f"old_{n}_{day}_{k}"},
            )
    h.add(base + timedelta(hours=9, minutes=30), "auth.login", 2, ip="10.0.2.1", outcome="failure")
    h.add(
        base + timedelta(hours=11),
        "member.role_updated",
        1,
        target=_user(5),
        context={"previous_role": "viewer", "new_role": "editor"},
    )
    if day == 1:
        h.add(
            base + timedelta(hours=14),
            "api_key.created",
            1,
            resource={"type": "api_key", "id": "k1"},
        )
    if day == 2:
        h.add(base + timedelta(hours=14), "organisation.settings_updated", 1)
    if day == 3:
        h.add(base + timedelta(hours=14), "audit_log.exported", 1)


def build() -> History:
    """Days 0-4 and 7-11 are weekdays (Monday to Friday)."""
    h = History()
    for day in (0, 1, 2, 3, 4, 7):
        _benign_day(h, day)

    day8 = T0 + 8 * DAY
    _benign_day(h, 8)
    # A: twelve failed sign-ins for u3 within three minutes, each from another address.
    ids = [
        h.add(
            day8 + timedelta(hours=13, seconds=15 * i),
            "auth.login",
            3,
            ip=f"172.16.0.{i + 1}",
            outcome="failure",
        )
        for i in range(12)
    ]
    h.expect("failed-logins-per-actor", {"actor": "u3@acme.test"}, ids)
    # B: a spray from one address across twelve accounts, known and unknown.
    victims: list[int | str] = [*range(2, 11), "x1", "x2", "x3"]
    ids = [
        h.add(
            day8 + timedelta(hours=14, seconds=10 * i),
            "auth.login",
            who,
            ip="203.0.113.7",
            outcome="failure",
        )
        for i, who in enumerate(victims)
    ]
    h.expect("failed-logins-per-ip", {"ip": "203.0.113.7"}, ids)

    day9 = T0 + 9 * DAY
    _benign_day(h, 9)
    # Look-alikes: nine failures in four minutes; twelve over eleven minutes.
    for i in range(9):
        h.add(
            day9 + timedelta(hours=10, seconds=25 * i),
            "auth.login",
            4,
            ip="10.0.4.1",
            outcome="failure",
        )
    for i in range(12):
        h.add(
            day9 + timedelta(hours=11, minutes=i), "auth.login", 5, ip="10.0.5.1", outcome="failure"
        )
    # C: u6 signs in from an address never seen for u6 ...
    ident = h.add(day9 + timedelta(hours=15), "auth.login", 6, ip="198.51.100.20")
    h.expect("login-from-new-ip", {"actor": "u6@acme.test", "ip": "198.51.100.20"}, [ident])
    # ... while u7 uses its second usual address, and a new hire signs in for the first time.
    h.add(day9 + timedelta(hours=15, minutes=5), "auth.login", 7, ip="10.0.7.2")
    h.add(day9 + timedelta(hours=15, minutes=6), "auth.login", 11, ip="10.0.11.1")

    # D: at 03:00 on Thursday u1 makes u5 an admin, then deletes 25 apps.
    day10 = T0 + 10 * DAY
    ident = h.add(
        day10 + timedelta(hours=3),
        "member.role_updated",
        1,
        target=_user(5),
        context={"previous_role": "editor", "new_role": "admin"},
    )
    h.expect("role-escalation", {"actor": "u1@acme.test"}, [ident])
    h.expect("admin-change-after-hours", {"actor": "u1@acme.test"}, [ident])
    ids = [
        h.add(
            day10 + timedelta(hours=3, minutes=5, seconds=10 * i),
            "app.deleted",
            1,
            resource={"type": "app", "id": f"prod_{i}"},
        )
        for i in range(25)
    ]
    h.expect("mass-deletion", {"actor": "u1@acme.test"}, ids)
    _benign_day(h, 10)
    # Look-alikes: nineteen deletions in five minutes; twenty-five over two and a half hours.
    for i in range(19):
        h.add(
            day10 + timedelta(hours=15, seconds=15 * i),
            "app.deleted",
            8,
            resource={"type": "app", "id": f"tmp8_{i}"},
        )
    for i in range(25):
        h.add(
            day10 + timedelta(hours=14, minutes=6 * i),
            "knowledge.delete",
            9,
            resource={"type": "knowledge", "id": f"doc9_{i}"},
        )

    day11 = T0 + 11 * DAY
    _benign_day(h, 11)
    ident = h.add(
        day11 + timedelta(hours=11), "api_key.created", 2, resource={"type": "api_key", "id": "k2"}
    )
    h.expect("api-key-by-new-actor", {"actor": "u2@acme.test"}, [ident])
    h.add(
        day11 + timedelta(hours=11, minutes=5),
        "api_key.created",
        1,
        resource={"type": "api_key", "id": "k3"},
    )
    ident = h.add(day11 + timedelta(hours=12), "organisation.settings_updated", 3)
    h.expect("settings-by-new-actor", {"actor": "u3@acme.test"}, [ident])
    h.add(day11 + timedelta(hours=12, minutes=5), "organisation.settings_updated", 1)
    ident = h.add(day11 + timedelta(hours=13), "audit_log.exported", 4)
    h.expect("export-by-new-actor", {"actor": "u4@acme.test"}, [ident])
    h.add(day11 + timedelta(hours=13, minutes=5), "audit_log.exported", 1)
    # Someone's own alert event never feeds back.
    h.add(day11 + timedelta(hours=13, minutes=10), "audit_log.alert_opened", 1)
    h.events.sort(key=lambda e: (e["occurred_at"], e["id"]))
    return h


def split_point(h: History) -> int:
    """Mid-incident A: six of u3's twelve failures before the restart, six after."""
    first_a = h.expected[0].event_ids[5]
    return next(i for i, e in enumerate(h.events) if e["id"] == first_a) + 1
