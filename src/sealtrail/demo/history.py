"""Ninety days of the demo organisation's audit trail, generated in time order.

The story (``sealtrail.demo.story``) is planned first; then each day, oldest first,
is filled with routine work until the running total matches the day's share of the
requested count. A day's share follows the calendar (weekends are quiet, the company
grows), and the work follows people's local hours. Whatever the routine has not
produced of the catalog by the last fortnight is added then, so every built-in type
appears. Events are released as soon as no later scene can precede them, so memory
stays flat however many are asked for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Final

from sealtrail.catalog import Catalog
from sealtrail.demo.actions import Actions
from sealtrail.demo.cast import OWNER, PRODUCTION, ROLES, STAGING, VIEWER, Person
from sealtrail.demo.habits import ACTIONS, ADMIN_CHANGES, GROUPS, WORK
from sealtrail.demo.story import Story
from sealtrail.demo.world import DAY, MINUTE, SECOND, Day, World
from sealtrail.events import EventInput

DAYS: Final = 90
# Fewer events than this cannot tell the story and still cover the catalog.
MIN_EVENTS: Final = 1000
ERASURE_ACTION: Final = "audit_log.subject_erased"
PRUNED_ACTION: Final = "audit_log.events_pruned"  # only a real prune records it
_WEEKDAY_LOAD: Final = (1.0, 1.06, 1.05, 1.0, 0.86, 0.24, 0.2)
_COVERAGE_DAYS: Final = 12
_ACTIONS_PER_SESSION: Final = (14, 16, 15, 13, 11, 9, 7, 5, 4)  # weights of 0 … 8

Scene = tuple[int, Callable[[], int]]


def generate(
    *, seed: int, now: int, count: int, catalog: Catalog | None = None, days: int = DAYS
) -> Iterator[EventInput]:
    """``max(count, MIN_EVENTS - 1)`` events of the ``days`` (90) days before ``now``,
    oldest first (``seed_demo`` adds one: the record of a real erasure).

    The same seed, ``now`` and ``days`` give the same events.
    """
    history = History(seed=seed, now=now, catalog=catalog or Catalog.builtin(), days=days)
    return history.events(count)


class History:
    def __init__(self, *, seed: int, now: int, catalog: Catalog, days: int = DAYS) -> None:
        self.rng = random.Random(seed)
        self.world = World(self.rng, now - days * DAY, now)
        self.actions = Actions(self.world, catalog)
        # audit_log.subject_erased is not invented: seed_demo really erases someone.
        self.catalog_actions = [
            t.name
            for t in catalog.types()
            if t.builtin and t.name not in (ERASURE_ACTION, PRUNED_ACTION)
        ]
        self._work = {role: _work_for(role) for role in ROLES}
        self._work[VIEWER] = ([], [])  # viewers look; they change nothing
        self._admin = {role: _admin_for(role) for role in ROLES}
        planners: tuple[tuple[Callable[[Day], Scene | None], float, float], ...] = (
            (self._session, 52, 5),
            (self._slip, 1.5, 0.2),
            (self._jobs, 14, 13),
            (self._messages, 8, 5),
            (self._sync, 6, 4),
            (self._deploy, 3, 0.3),
            (self._admin_change, 5.5, 0.4),
            (self._review, 1.2, 0.05),
        )
        self._planners = [p for p, _, _ in planners]
        self._weekday_weights = [w for _, w, _ in planners]
        self._weekend_weights = [w for _, _, w in planners]

    def events(self, count: int) -> Iterator[EventInput]:
        target = max(count, MIN_EVENTS - 1)
        world = self.world
        Story(world, self.actions).tell()
        loads = [self._load(day) for day in world.days]
        share = max(target - world.timeline.added, 0) / sum(loads)  # routine events per load
        planned = 0.0
        produced = scenes_run = from_scenes = 0
        emitted = 0
        last = world.start
        for day, load in zip(world.days, loads, strict=True):
            planned += share * load
            if day.index >= len(world.days) - _COVERAGE_DAYS:
                produced += self._cover(day)
            per_scene = max(1.0, from_scenes / scenes_run) if scenes_run else 3.0
            wanted = max(0, round((planned - produced) / per_scene))
            scenes = [s for s in (self._plan(day) for _ in range(wanted)) if s is not None]
            scenes.sort(key=lambda scene: scene[0])
            for _, run in scenes:
                from_scenes += (made := run())
                produced += made
            scenes_run += len(scenes)
            for event in world.timeline.release(day.hi):
                yield event
                emitted += 1
                last = event.occurred_at or last
                if emitted == target:
                    return
        yield from self._top_up(target - emitted, last)

    # -- the calendar -------------------------------------------------------------------
    def _load(self, day: Day) -> float:
        growth = 0.85 + 0.3 * (day.lo - self.world.start) / (self.world.end - self.world.start)
        return _WEEKDAY_LOAD[day.weekday] * growth * (day.hi - day.lo) / DAY

    def _plan(self, day: Day) -> Scene | None:
        weights = self._weekend_weights if day.weekend else self._weekday_weights
        planner = self.rng.choices(self._planners, weights)[0]
        return planner(day)

    def _someone(self, day: Day, group: str) -> Person | None:
        return self.world.pick(day.lo + (day.hi - day.lo) // 2, GROUPS[group])

    # -- routine scenes -------------------------------------------------------------------
    def _session(self, day: Day) -> Scene | None:
        person = self._someone(day, "anyone")
        if person is None:
            return None
        at = self.world.work_time(person.tz, day)
        return (at, lambda: self.session(person, at)) if person.active_at(at) else None

    def session(self, person: Person, at: int) -> int:
        """Someone signs in, does a few things over the next hour or two, maybe signs out."""
        rng, world = self.rng, self.world
        where = person.connection(rng)
        who = world.as_who(person, at, where)
        mobile = where[1] == person.mobile
        sso = world.sso_since is not None and at >= world.sso_since and person.sso and not mobile
        mfa = person.mfa_since is not None and at >= person.mfa_since
        login = "auth.sso_login" if sso else "user.login" if mobile else "auth.login"
        count = 0
        if login == "auth.login" and rng.random() < 0.03:
            context = {"reason": "invalid_password", "method": "password"}
            before = at - rng.randint(8, 50) * SECOND
            count += world.failed_sign_in(before, who, context)
        method = (
            {"method": "sso", "provider": "Okta"} if sso else {"method": "password", "mfa": mfa}
        )
        count += world.emit(at, login, who, context=method)
        if mfa and not sso:
            later = at + rng.randint(6, 40) * SECOND
            count += world.emit(later, "auth.mfa_verified", who, context={"factor": "totp"})
        actions, weights = self._work[person.role_at(at)]
        steps = rng.choices(range(len(_ACTIONS_PER_SESSION)), _ACTIONS_PER_SESSION)[0]
        moment = at + MINUTE
        for _ in range(steps if actions else 0):
            moment += rng.randint(1, 25) * MINUTE + rng.randrange(MINUTE)
            action = rng.choices(actions, weights)[0]
            if self.actions.is_admin_change(action) and not world.in_office_hours(moment):
                continue  # left for office hours, as the organisation does
            count += self.actions.act(action, moment, world.as_who(person, moment, where))
        if rng.random() < 0.3:
            logout = "user.logout" if login == "user.login" else "auth.logout"
            moment += rng.randint(1, 9) * MINUTE
            count += world.emit(moment, logout, world.as_who(person, moment, where))
        return count

    def _slip(self, day: Day) -> Scene | None:
        person = self._someone(day, "anyone")
        if person is None:
            return None
        at = self.world.work_time(person.tz, day)
        return (at, lambda: self._mistyped(person, at)) if person.active_at(at) else None

    def _mistyped(self, person: Person, at: int) -> int:
        """A few wrong passwords, then in (or, once in a while, a reset first)."""
        rng, world = self.rng, self.world
        who = world.as_who(person, at)
        count = 0
        for attempt in range(rng.choices((1, 2, 3), (6, 2, 1))[0]):
            at += rng.randint(5, 40) * SECOND
            context = {"reason": "invalid_password", "method": "password", "attempt": attempt + 1}
            count += world.failed_sign_in(at, who, context)
        if rng.random() < 0.15:
            count += world.emit(at + MINUTE, "auth.password_reset_requested", who)
            at += rng.randint(3, 15) * MINUTE
            count += world.emit(at, "auth.password_reset_completed", who)
        return count + self.session(person, at + rng.randint(10, 60) * SECOND)

    def _jobs(self, day: Day) -> Scene | None:
        rng, world = self.rng, self.world
        at = world.uniform(day.lo, day.hi)
        at = at - at % (15 * MINUTE) + rng.randrange(3 * SECOND)
        if at < day.lo:
            return None
        account = PRODUCTION if rng.random() < 0.7 else STAGING
        if rng.random() < 0.75:
            bot, trigger = world.robots.scheduler, "schedule"
        else:
            bot, trigger = world.robots.key_for(account, rng), "api"
        return at, lambda: self.actions.run_job(at, world.bot(bot), account, trigger=trigger)

    def _messages(self, day: Day) -> Scene | None:
        rng, world = self.rng, self.world
        account = PRODUCTION if rng.random() < 0.85 else STAGING
        who = world.bot(world.robots.key_for(account, rng))
        at = world.customer_time(day)

        def send() -> int:
            count, moment = 0, at
            for _ in range(rng.choices((1, 2, 3, 4, 5), (6, 4, 3, 2, 1))[0]):
                count += self.actions.message("message.send", moment, who, account)
                moment += rng.randint(2, 300) * SECOND
            return count

        return at, send

    def _sync(self, day: Day) -> Scene | None:
        rng, world = self.rng, self.world
        account = PRODUCTION if rng.random() < 0.75 else STAGING
        who = world.bot(world.robots.key_for(account, rng))
        at = world.customer_time(day)

        def write() -> int:
            count, moment = 0, at
            for _ in range(rng.randint(1, 6)):
                action = rng.choices(("db.create", "db.update", "db.delete"), (3, 5, 1))[0]
                count += self.actions.db_write(action, moment, who, account)
                moment += rng.randint(1, 40) * SECOND
            return count

        return at, write

    def _deploy(self, day: Day) -> Scene | None:
        world = self.world
        at = world.work_time(60, day)
        account = STAGING if self.rng.random() < 0.55 else PRODUCTION
        who = world.bot(world.robots.deploy)
        return at, lambda: self.actions.act("app.published", at, who, account)

    def _admin_change(self, day: Day) -> Scene | None:
        rng, world = self.rng, self.world
        person = self._someone(day, "admin")
        if person is None:
            return None
        at = world.office_time(day)  # the night's changes are the story's (Story._odd_hours)
        if at is None:
            return None
        actions, weights = self._admin[person.role_at(at)]
        if not person.active_at(at) or not actions:
            return None
        action = rng.choices(actions, weights)[0]
        return at, lambda: self.actions.act(action, at, world.as_who(person, at))

    def _review(self, day: Day) -> Scene | None:
        rng, world = self.rng, self.world
        person = self._someone(day, "admin")
        if person is None:
            return None
        at = world.work_time(person.tz, day)

        def read() -> int:
            count, moment = 0, at
            who = world.as_who(person, at)
            pages = rng.randint(1, 4)
            for page in range(pages):
                exported = page == pages - 1 and rng.random() < 0.2
                count += self.actions.audit_read(moment, who, exported=exported)
                moment += rng.randint(20, 240) * SECOND
            return count

        return (at, read) if person.active_at(at) else None

    # -- completeness -------------------------------------------------------------------
    def _cover(self, day: Day) -> int:
        """Some of the catalog's types the history has not shown yet, on this day."""
        world = self.world
        missing = [a for a in self.catalog_actions if a not in world.timeline.seen]
        days_left = max(1, len(world.days) - 3 - day.index)
        count = 0
        for action in missing[: math.ceil(len(missing) / days_left)]:
            pool = self.actions.pool(action)
            if pool == "system":
                at = world.uniform(day.lo, day.hi)
                count += self.actions.act(action, at, world.bot(world.robots.system))
                continue
            person = self._someone(day, "anyone" if pool == "self" else pool)
            person = person or world.owner
            at = world.office_time(day) or world.work_time(person.tz, day)
            if not person.active_at(at):
                person = world.owner
            count += self.actions.act(action, at, world.as_who(person, at))
        return count

    def _top_up(self, missing: int, after: int) -> Iterator[EventInput]:
        """Sign-ins in the last moments, when the days fell a few events short."""
        world = self.world
        times = sorted(world.uniform(after + 1, world.end) for _ in range(missing))
        for at in times:
            person = world.pick(at, GROUPS["anyone"]) or world.owner
            world.emit(at, "auth.login", world.as_who(person, at), context={"method": "password"})
        yield from world.timeline.release(world.end)


def _work_for(role: str) -> tuple[list[str], list[float]]:
    allowed = [(a, w) for a, w in WORK if _may(role, a)]
    return [a for a, _ in allowed], [w for _, w in allowed]


def _admin_for(role: str) -> tuple[list[str], list[float]]:
    allowed = [(a, w) for a, w in ADMIN_CHANGES if _may(role, a)]
    return [a for a, _ in allowed], [w for _, w in allowed]


def _may(role: str, action: str) -> bool:
    pool = ACTIONS[action][0]
    if pool == "self":
        return True
    if pool == "owner":
        return role == OWNER
    return role in GROUPS.get(pool, frozenset())
