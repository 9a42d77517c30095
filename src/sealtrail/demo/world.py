"""The demo organisation at any moment, and the timeline its events are written to.

Scenarios schedule events in whatever order suits them (an invitation now, its
acceptance two days later); the ``Timeline`` hands them back strictly in time order.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from sealtrail.demo.cast import (
    FOUNDING_TEAM,
    HIRES,
    OFFICE_HOURS,
    ROBOTS,
    TIMEZONE,
    Addresses,
    Bot,
    Person,
    make_person,
)
from sealtrail.demo.inventory import Inventory
from sealtrail.events import Actor, EventInput, Resource, Target, from_micros, to_micros
from sealtrail.limits import Outcome

SECOND: Final = 1_000_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR

# How busy each local hour of a working day is (0 h … 23 h).
_WORK_HOURS: Final = (
    0.15, 0.08, 0.04, 0.03, 0.03, 0.06, 0.3, 1.2, 3.2, 5.5, 6.2, 6.0,
    4.4, 5.0, 5.9, 5.8, 5.0, 3.6, 2.0, 1.2, 1.1, 0.9, 0.6, 0.3,
)  # fmt: skip
_WEEKEND_HOURS: Final = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.6, 1.8,
    1.6, 1.5, 1.5, 1.4, 1.3, 1.2, 1.1, 1.1, 1.2, 1.0, 0.7, 0.4,
)  # fmt: skip
# When the organisation's own customers are busy, in UTC (they are mostly in Europe).
_CUSTOMER_HOURS: Final = (
    0.5, 0.4, 0.3, 0.3, 0.4, 0.6, 1.2, 2.5, 4.0, 5.0, 5.4, 5.5,
    5.3, 5.4, 5.6, 5.5, 5.0, 4.4, 3.8, 3.2, 2.6, 2.0, 1.3, 0.8,
)  # fmt: skip
_HOURS: Final = range(24)


@dataclass(frozen=True, slots=True)
class Day:
    index: int
    lo: int  # the part of this UTC day inside the history: [lo, hi)
    hi: int
    weekday: int  # Monday is 0

    @property
    def weekend(self) -> bool:
        return self.weekday >= 5


@dataclass(frozen=True, slots=True)
class Who:
    """Who acts, and from where."""

    actor: Actor
    ip: str | None = None
    agent: str | None = None
    person: Person | None = None


class Timeline:
    """Events scheduled in any order, released in time order; those outside the history dropped."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.added = 0
        self.seen: set[str] = set()
        self._heap: list[tuple[int, int, EventInput]] = []
        self._order = itertools.count()

    def add(self, event: EventInput) -> int:
        at = event.occurred_at
        if at is None or not self.start <= at < self.end:
            return 0
        heapq.heappush(self._heap, (at, next(self._order), event))
        self.seen.add(event.action)
        self.added += 1
        return 1

    def release(self, before: int) -> Iterator[EventInput]:
        heap = self._heap
        while heap and heap[0][0] < before:
            yield heapq.heappop(heap)[2]


class World:
    """The demo organisation: its people, robots, things and clock, and a way to record events."""

    def __init__(self, rng: random.Random, start: int, end: int) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self.timeline = Timeline(start, end)
        self.addresses = Addresses(rng)
        self.robots = ROBOTS
        self.items = Inventory(rng, start)
        self.team = [make_person(p, rng, self.addresses) for p in FOUNDING_TEAM]
        self.hires = [make_person(p, rng, self.addresses) for p in HIRES]
        for person in self.hires:
            # A new hire works from one place (laptop and phone on the same network), so
            # the login-from-new-ip rule has nothing to learn about them but the incident.
            person.ips = (person.ips[0],) * len(person.ips)
        self.people = self.team + self.hires
        for person in self.team:
            person.join(start - rng.randint(60, 900) * DAY)
            if rng.random() < 0.35:
                person.mfa_since = start - DAY
        self.days = self._days()
        self.sso_since: int | None = None

    @property
    def owner(self) -> Person:
        return self.team[0]

    # -- the calendar --------------------------------------------------------
    def _days(self) -> list[Day]:
        first = self.start - self.start % DAY
        days = []
        for index, midnight in enumerate(range(first, self.end, DAY)):
            weekday = from_micros(midnight).weekday()
            days.append(
                Day(index, max(midnight, self.start), min(midnight + DAY, self.end), weekday)
            )
        return days

    def day_index(self, at: int) -> int:
        return (at - self.days[0].lo + self.days[0].lo % DAY) // DAY

    def day(self, index: int) -> Day:
        return self.days[min(max(index, 0), len(self.days) - 1)]

    def uniform(self, lo: int, hi: int) -> int:
        return self.rng.randrange(lo, max(hi, lo + 1))

    def work_time(self, tz: int, day: Day, *, weekend: bool | None = None) -> int:
        """A moment of ``day`` in someone's (local) working rhythm."""
        table = _WEEKEND_HOURS if (day.weekend if weekend is None else weekend) else _WORK_HOURS
        return self._local(tz, day, table)

    def office_time(self, day: Day) -> int | None:
        """A moment of ``day`` within the company's office hours (``cast.OFFICE_HOURS``, its
        own time zone), or None on a weekend: when its admins change members, keys and
        settings, wherever they live — so the admin-change-after-hours rule stays quiet
        but for the changes the story makes at night on purpose."""
        zone = ZoneInfo(TIMEZONE)
        date = from_micros(day.lo).date()
        if date.weekday() >= 5:
            return None
        first, last = OFFICE_HOURS
        hours = range(first, last)
        for _ in range(12):
            hour = self.rng.choices(hours, [_WORK_HOURS[h] for h in hours])[0]
            start = to_micros(datetime.combine(date, time(hour), zone))
            at = start + self.rng.randrange(HOUR)
            if day.lo <= at < day.hi:
                return at
        return None

    def in_office_hours(self, at: int) -> bool:
        local = from_micros(at).astimezone(ZoneInfo(TIMEZONE))
        return local.weekday() < 5 and OFFICE_HOURS[0] <= local.hour < OFFICE_HOURS[1]

    def night_time(self, tz: int, day: Day) -> int:
        """A moment well outside someone's working hours."""
        return self._local(tz, day, _night_table())

    def customer_time(self, day: Day) -> int:
        return self._local(0, day, _CUSTOMER_HOURS)

    def _local(self, tz: int, day: Day, weights: Sequence[float]) -> int:
        rng = self.rng
        midnight = day.lo - day.lo % DAY - tz * MINUTE
        for _ in range(12):
            hour = rng.choices(_HOURS, weights)[0]
            at = midnight + hour * HOUR + rng.randrange(HOUR)
            for shift in (0, DAY, -DAY):  # the same local hour on a neighbouring local day
                if day.lo <= at + shift < day.hi:
                    return at + shift
        return self.uniform(day.lo, day.hi)

    # -- people --------------------------------------------------------------
    def staff(self, at: int, roles: Collection[str]) -> list[Person]:
        return [p for p in self.people if p.active_at(at) and p.role_at(at) in roles]

    def pick(
        self, at: int, roles: Collection[str], *, besides: Person | None = None
    ) -> Person | None:
        found = [p for p in self.staff(at, roles) if p is not besides]
        if not found:
            return None
        return self.rng.choices(found, [p.activity for p in found])[0]

    def as_who(self, person: Person, at: int, where: tuple[str, str] | None = None) -> Who:
        ip, agent = where or person.connection(self.rng)
        return Who(person.actor(at), ip, agent, person)

    @staticmethod
    def bot(bot: Bot) -> Who:
        return Who(bot.actor, bot.ip, bot.agent)

    # -- recording -----------------------------------------------------------
    def request_id(self) -> str:
        return f"req_{self.rng.getrandbits(80):020x}"

    def emit(
        self,
        at: int,
        action: str,
        who: Who,
        *,
        account: str | None = None,
        target: Target | None = None,
        resource: Resource | None = None,
        context: dict[str, Any] | None = None,
        outcome: Outcome = "success",
        request: str | None = None,
        description: str | None = None,
    ) -> int:
        """Schedule one event; 1 if it falls inside the history, else 0."""
        automatic = who.actor.type == "system"
        return self.timeline.add(
            EventInput(
                action=action,
                actor=who.actor,
                occurred_at=at,
                outcome=outcome,
                target=target,
                resource=resource,
                account_id=account,
                description=description,
                context=context,
                ip=who.ip,
                user_agent=who.agent,
                request_id=None if automatic else (request or self.request_id()),
            )
        )

    def failed_sign_in(self, at: int, who: Who, context: dict[str, Any]) -> int:
        """A refused ``auth.login``, described as one: the catalog template reads "signed in"."""
        actor = who.actor
        reason = str(context.get("reason", "refused")).replace("_", " ")
        return self.emit(
            at,
            "auth.login",
            who,
            outcome="failure",
            context=context,
            description=f"Failed sign-in as {actor.name or actor.email or actor.id}: {reason}",
        )


def _night_table() -> tuple[float, ...]:
    return tuple(1.0 if hour >= 22 or hour < 5 else 0.0 for hour in _HOURS)
