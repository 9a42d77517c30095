"""The ninety days' plot: who joins and leaves, who is promoted, what is bought, who attacks.

It is decided in two passes. First the facts — when people join and leave, whose
role changes when — so that every later event reads one consistent organisation.
Then the events that tell them. The routine work of the organisation is written
around this plot by ``sealtrail.demo.history``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sealtrail.demo.actions import Actions
from sealtrail.demo.cast import (
    ADMIN,
    ATTACK_AGENTS,
    DEVELOPER,
    DOMAIN,
    MEMBER,
    OWNER,
    PRODUCTION,
    TENANT_ID,
    TIMEZONE,
    VIEWER,
    Person,
)
from sealtrail.demo.habits import GROUPS
from sealtrail.demo.inventory import new_id
from sealtrail.demo.world import DAY, HOUR, MINUTE, SECOND, Who, World
from sealtrail.events import Actor, Resource, from_micros, to_micros

# Promotions and demotions a small company makes.
_NEXT_ROLE: Final = {
    VIEWER: (MEMBER,),
    MEMBER: (DEVELOPER, DEVELOPER, VIEWER),
    DEVELOPER: (ADMIN, MEMBER, MEMBER),
    ADMIN: (DEVELOPER,),
}
_MOST_ADMINS: Final = 5  # the owner included; beyond this, nobody more is made an admin
_MONTHLY_PER_SEAT: Final = {"Team": 49, "Studio Pro": 99}
# Someone who left before the ninety days and asked to be forgotten.
_GUESSED_LOGINS: Final = ("admin", "root", "test", "support", "info", "billing", "it")


@dataclass(frozen=True, slots=True)
class RoleChange:
    at: int
    person: Person
    by: Person
    previous: str
    new: str


@dataclass(frozen=True, slots=True)
class Hire:
    person: Person
    invited_at: int
    joined_at: int | None  # None: never accepted
    way: str  # "invite", "resent", "revoked", "account", "account_revoked", "scim"


@dataclass(frozen=True, slots=True)
class Departure:
    person: Person
    at: int
    returns_at: int | None


class Story:
    def __init__(self, world: World, actions: Actions) -> None:
        self.world = world
        self.actions = actions
        self.rng = world.rng
        self.last_day = len(world.days) - 1
        self.sso_day = 27
        self.mfa_day = 33

    def tell(self) -> None:
        self.world.sso_since = self._when(self.world.owner, self.sso_day)
        hires = self._hire_facts()
        departures = self._departure_facts()
        changes = self._role_facts()
        self._hires(hires)
        self._departures(departures)
        for change in changes:
            self._role_change(change)
        self._first_week()
        self._security()
        self._email_change()
        self._billing()
        self._attacks()
        self._odd_hours()
        self._incident()

    # -- when --------------------------------------------------------------------------
    def _day_of(self, fraction: float) -> int:
        """The day ``fraction`` of the way through the history, jittered by a few days."""
        return max(
            1, min(self.last_day - 2, round(fraction * self.last_day) + self.rng.randint(-3, 3))
        )

    def _when(self, person: Person, day: int) -> int:
        """A moment in office hours on ``day`` or the next weekday (the story's changes are
        made in office hours; its night-time ones say so)."""
        return self._office(day)

    def _office(self, day: int) -> int:
        world = self.world
        for index in range(day, day + 7):
            at = world.office_time(world.day(index))
            if at is not None:
                return at
        return world.work_time(60, world.day(day), weekend=False)

    def _who(self, person: Person, at: int) -> Who:
        return self.world.as_who(person, at)

    def _admin(self, at: int, besides: Person | None = None) -> Person:
        return self.world.pick(at, GROUPS["admin"], besides=besides) or self.world.owner

    # -- facts ----------------------------------------------------------------------
    def _hire_facts(self) -> list[Hire]:
        rng, world = self.rng, self.world
        ways = [
            "invite",
            "invite",
            "resent",
            "revoked",
            "account",
            "account_revoked",
            "scim",
            "scim",
        ]
        days = sorted(rng.sample(range(3, self.last_day - 6), len(world.hires)))
        hires = []
        for person, day in zip(world.hires, days, strict=True):
            way = ways.pop(rng.randrange(len(ways)))
            if way == "scim" and day <= self.sso_day + 1:
                way = "invite"
            invited = self._office(day)
            delay = {"resent": rng.randint(3, 5), "scim": 0}.get(way, rng.choice((0, 0, 1, 2)))
            joined = None
            if way not in ("revoked", "account_revoked"):
                joined = max(
                    self._when(person, day + delay), invited + rng.randint(20, 90) * MINUTE
                )
                person.join(joined)
                person.mfa_since = joined if day > self.mfa_day else None
            hires.append(Hire(person, invited, joined, way))
        return hires

    def _departure_facts(self) -> list[Departure]:
        rng, world = self.rng, self.world
        leavers = rng.sample([p for p in world.team[4:] if p.role_at(0) != ADMIN], 3)
        plan = ((0.2, 0.58), (0.4, None), (0.8, None))  # (leaves, comes back), as fractions
        departures = []
        for person, (leave, back) in zip(leavers, plan, strict=True):
            at = self._when(person, self._day_of(leave))
            person.leave(at)
            returns = None if back is None else self._when(person, self._day_of(back))
            if returns is not None:
                person.join(returns)
            departures.append(Departure(person, at, returns))
        return departures

    def _role_facts(self) -> list[RoleChange]:
        rng, world = self.rng, self.world
        days = sorted(rng.sample(range(2, self.last_day - 1), 9))
        changes = []
        for number, day in enumerate(days):
            at = self._office(day)
            if number == 3:  # an admin working through the night
                at = world.night_time(60, world.day(day))
            candidates = [p for p in world.staff(at, _NEXT_ROLE) if p is not world.owner]
            if not candidates:
                continue
            person = rng.choice(candidates)
            by = self._admin(at, besides=person)
            previous = person.role_at(at)
            choices = _NEXT_ROLE[previous]
            if len(world.staff(at, GROUPS["admin"])) >= _MOST_ADMINS:
                choices = tuple(role for role in choices if role != ADMIN) or choices
            new = rng.choice(choices)
            person.set_role(at, new)
            changes.append(RoleChange(at, person, by, previous, new))
        return changes

    # -- events ---------------------------------------------------------------------
    def _hires(self, hires: list[Hire]) -> None:
        world, rng = self.world, self.rng
        system = world.bot(world.robots.system)
        for hire in hires:
            person, at, joined = hire.person, hire.invited_at, hire.joined_at
            admin = self._admin(at)
            by = self._who(admin, at)
            target = person.target(at)
            role = person.role_at(joined or at)
            account = person.accounts[0]
            if hire.way == "scim":
                scim = world.bot(world.robots.scim)
                user = Resource("user", person.id, person.name)
                world.emit(
                    at,
                    "user.created",
                    scim,
                    target=target,
                    resource=user,
                    context={"source": "Okta", "groups": ["Everyone", "Northwind Labs"]},
                )
                world.emit(
                    at + 2 * SECOND,
                    "member.added",
                    scim,
                    account=account,
                    target=target,
                    context={"role": role},
                )
            elif hire.way.startswith("account"):
                invitation = Resource("invitation", new_id(rng, "invitation"))
                world.emit(
                    at,
                    "invitation.created",
                    by,
                    account=account,
                    target=target,
                    resource=invitation,
                    context={"role": role, "expires_in_days": 7},
                )
                if joined is None:
                    world.emit(
                        at + 7 * DAY + rng.randint(0, 5 * HOUR),
                        "invitation.revoked",
                        by,
                        account=account,
                        target=target,
                        resource=invitation,
                        context={"reason": "not accepted within 7 days"},
                    )
                    continue
                accepted = self._who(person, joined)
                world.emit(
                    joined, "invitation.accepted", accepted, account=account, resource=invitation
                )
                world.emit(
                    joined + 3 * SECOND,
                    "member.added",
                    system,
                    account=account,
                    target=person.target(joined),
                    context={"role": role},
                )
            else:
                context = {"role": role, "accounts": list(person.accounts)}
                world.emit(at, "member.invited", by, target=target, context=context)
                if hire.way == "resent":
                    world.emit(
                        at + 2 * DAY + rng.randint(0, 4 * HOUR),
                        "member.invite_resent",
                        by,
                        target=target,
                    )
                if joined is None:
                    world.emit(
                        at + 7 * DAY + rng.randint(0, 5 * HOUR),
                        "member.invite_revoked",
                        by,
                        target=target,
                        context={"reason": "not accepted within 7 days"},
                    )
                    continue
                where = person.connection(rng)
                world.emit(
                    joined,
                    "member.invite_accepted",
                    world.as_who(person, joined, where),
                    context={"role": role},
                )
                world.emit(
                    joined + 2 * SECOND,
                    "user.created",
                    system,
                    target=person.target(joined),
                    resource=Resource("user", person.id, person.name),
                )
            if joined is None:
                continue
            where = person.connection(rng)
            login = "auth.sso_login" if hire.way == "scim" else "auth.login"
            world.emit(
                joined + rng.randint(20, 120) * SECOND,
                login,
                world.as_who(person, joined, where),
                context={
                    "method": "sso" if login == "auth.sso_login" else "password",
                    "first_login": True,
                },
            )
            if person.mfa_since is not None:
                world.emit(
                    joined + 3 * MINUTE,
                    "auth.mfa_enabled",
                    world.as_who(person, joined, where),
                    context={"factor": "totp"},
                )
            welcome = max(
                self._office(world.day_index(joined) + rng.randint(0, 1)),
                joined + rng.randint(5, 30) * MINUTE,
            )
            greeter = self._admin(welcome)
            workspace = world.items.anchor("workspace", account)
            world.emit(
                welcome,
                "workspace.member_added",
                self._who(greeter, welcome),
                account=account,
                target=person.target(welcome),
                resource=workspace.resource,
                context={"permissions": ["apps:read", "knowledge:write"]},
            )

    def _departures(self, departures: list[Departure]) -> None:
        world, rng = self.world, self.rng
        for number, leave in enumerate(departures):
            person, at = leave.person, leave.at
            admin = self._admin(at, besides=person)
            by = self._who(admin, at)
            request = world.request_id()
            reason = "extended leave" if leave.returns_at else "left the company"
            key = Resource("api_key", new_id(rng, "api_key"), f"{person.name.split()[0]}'s laptop")
            made = at - rng.randint(10, 40) * DAY
            if made > world.start and person.active_at(made):
                world.emit(
                    made,
                    "api_key.create",
                    self._who(person, made),
                    account=person.accounts[0],
                    resource=key,
                    context={"scopes": ["knowledge:read"], "expires_in_days": 365},
                )
            target = person.target(at)
            world.emit(
                at,
                "member.offboarded",
                by,
                target=target,
                request=request,
                context={"reason": reason, "previous_role": person.role_at(at - 1)},
            )
            world.emit(
                at + 2 * SECOND,
                "auth.session_revoked",
                by,
                target=target,
                request=request,
                context={"sessions": rng.randint(1, 3), "reason": "offboarding"},
            )
            if made > world.start:
                world.emit(
                    at + 3 * SECOND,
                    "api_key.deactivated",
                    by,
                    account=person.accounts[0],
                    resource=key,
                    request=request,
                    context={"reason": "owner offboarded"},
                )
            for offset, account in enumerate(person.accounts):
                workspace = world.items.anchor("workspace", account)
                world.emit(
                    at + (4 + offset) * SECOND,
                    "workspace.member_removed",
                    by,
                    account=account,
                    target=target,
                    resource=workspace.resource,
                    request=request,
                )
                if number == 1:
                    world.emit(
                        at + (6 + offset) * SECOND,
                        "member.removed",
                        by,
                        account=account,
                        target=target,
                        request=request,
                    )
            if leave.returns_at is not None:
                back = leave.returns_at
                world.emit(
                    back - 10 * MINUTE,
                    "member.reactivated",
                    self._who(self._admin(back), back),
                    target=person.target(back),
                    context={"role": person.role_at(back)},
                )
            elif number == 1:  # a month later, the identity provider deletes the account
                later = self._when(admin, world.day_index(at) + rng.randint(25, 30))
                world.emit(
                    later,
                    "user.deleted",
                    world.bot(world.robots.scim),
                    target=target,
                    resource=Resource("user", person.id),
                    context={"reason": "deprovisioned"},
                )

    def _role_change(self, change: RoleChange) -> None:
        context = {"previous_role": change.previous, "new_role": change.new}
        self.world.emit(
            change.at,
            "member.role_changed",
            self._who(change.by, change.at),
            target=change.person.target(change.at),
            context=context,
        )

    def _first_week(self) -> None:
        """Everyone signs in from each of their usual places in the first days, as the
        detection rules learn who signs in from where (their first week)."""
        world, rng = self.world, self.rng
        for person in world.team:
            for ip in dict.fromkeys(person.ips):
                at = world.work_time(person.tz, world.day(rng.randint(1, 5)))
                if not person.active_at(at):
                    continue
                mobile = ip == person.ips[-1]
                who = Who(person.actor(at), ip, person.mobile if mobile else person.desktop, person)
                login = "user.login" if mobile else "auth.login"
                world.emit(at, login, who, context={"method": "password"})
        # The admins' week of setting up: a key for the backend, a setting, a first export.
        for person in world.staff(world.day(1).lo, GROUPS["admin"]):
            for action in ("api_key.created", "settings.updated", "audit_log.exported"):
                at = self._office(rng.randint(1, 4))
                self.actions.act(action, at, self._who(person, at))

    def _security(self) -> None:
        world, rng = self.world, self.rng
        owner = world.owner
        at = world.sso_since or self._when(owner, self.sso_day)
        world.emit(
            at,
            "auth.sso_configured",
            self._who(owner, at),
            context={"provider": "Okta", "protocol": "SAML 2.0", "enforced": False},
        )
        world.sso_since = at
        at = self._when(owner, self.mfa_day)
        world.emit(
            at,
            "organisation.settings_updated",
            self._who(owner, at),
            context={"previous": {"require_mfa": False}, "new": {"require_mfa": True}},
        )
        for person in world.people:
            when = at + rng.randint(1, 96) * HOUR
            if person.mfa_since is None and person.active_at(when):
                person.mfa_since = when
                world.emit(
                    when, "auth.mfa_enabled", self._who(person, when), context={"factor": "totp"}
                )
        # Someone loses a phone: MFA off, an admin resets it, the person sets it up again.
        person = rng.choice([p for p in world.team[1:] if p.active_at(at + 20 * DAY)])
        lost = self._when(person, self.mfa_day + 20)
        helper = self._admin(lost, besides=person)
        world.emit(
            lost,
            "auth.mfa_reset",
            self._who(helper, lost),
            target=person.target(lost),
            context={"reason": "lost device"},
        )
        world.emit(
            lost + 4 * MINUTE,
            "auth.mfa_disabled",
            self._who(person, lost),
            context={"factor": "totp"},
        )
        world.emit(
            lost + 11 * MINUTE,
            "auth.mfa_enabled",
            self._who(person, lost),
            context={"factor": "webauthn"},
        )
        for _ in range(5):  # forgotten passwords
            day = rng.randint(1, self.last_day - 1)
            person = rng.choice(world.team)
            at = self._when(person, day)
            if not person.active_at(at):
                continue
            who = self._who(person, at)
            world.emit(at, "auth.password_reset_requested", who, context={"delivery": "email"})
            world.emit(at + rng.randint(2, 25) * MINUTE, "auth.password_reset_completed", who)

    def _email_change(self) -> None:
        world, rng = self.world, self.rng
        person = rng.choice([p for p in world.team[4:] if p.active_at(world.end - DAY)])
        at = self._when(person, self._day_of(0.5))
        previous = person.email_at(at)
        new = f"{person.local_part.split('.')[0]}@{DOMAIN}"
        person.emails.append((at, new))
        admin = self._admin(at, besides=person)
        world.emit(
            at,
            "user.email_changed",
            self._who(admin, at),
            target=person.target(at),
            resource=Resource("user", person.id, person.name),
            context={"previous_email": previous, "new_email": new},
        )

    def _billing(self) -> None:
        world, rng = self.world, self.rng
        owner = world.owner
        system = world.bot(world.robots.system)
        plan = Resource("subscription", new_id(rng, "subscription"), "Platform subscription")
        upgrade = self._when(owner, self._day_of(0.25))
        more_seats = self._when(owner, self._day_of(0.7))
        terms = [(0, "Team", 15), (upgrade, "Studio Pro", 25), (more_seats, "Studio Pro", 30)]
        for (_, was, seats), (at, now, new_seats) in itertools.pairwise(terms):
            context: dict[str, Any] = {"previous_seats": seats, "new_seats": new_seats}
            if now != was:
                context = {"previous_plan": was, "new_plan": now, **context}
            world.emit(
                at, "subscription.changed", self._who(owner, at), resource=plan, context=context
            )
        renewal = world.start + rng.randint(3, 25) * DAY + rng.randint(1, 5) * HOUR
        while renewal < world.end:
            _, name, seats = [term for term in terms if term[0] <= renewal][-1]
            context = {
                "plan": name,
                "seats": seats,
                "amount": f"{_MONTHLY_PER_SEAT[name] * seats:.2f}",
                "currency": "EUR",
            }
            world.emit(renewal, "subscription.renewed", system, resource=plan, context=context)
            renewal += 30 * DAY
        addon = Resource("subscription", new_id(rng, "subscription"), "Voice add-on")
        for fraction, action, context in (
            (
                0.45,
                "subscription.created",
                {"plan": "Voice add-on", "amount": "29.00", "currency": "EUR"},
            ),
            (
                0.75,
                "subscription.cancelled",
                {"reason": "too expensive for current usage", "effective": "end_of_period"},
            ),
            (0.92, "subscription.reactivated", {"plan": "Voice add-on"}),
        ):
            at = self._when(owner, self._day_of(fraction))
            world.emit(at, action, self._who(owner, at), resource=addon, context=context)
        at = world.start + rng.randint(2, 6) * DAY
        while at < world.end:  # automatic top-ups when credit runs low
            credits = rng.choice((5000, 10000))
            world.emit(
                at,
                "billing.top_up_purchased",
                system,
                context={
                    "credits": credits,
                    "amount": f"{credits / 100:.2f}",
                    "currency": "EUR",
                    "automatic": True,
                },
            )
            at += rng.randint(7, 15) * DAY + rng.randint(0, 23) * HOUR
        at = self._when(owner, self._day_of(0.55))
        card = world.items.create("payment_method", None, at, "Mastercard •••• 4444")
        old = Resource("payment_method", new_id(rng, "payment_method"), "Visa •••• 4242")
        who = self._who(owner, at)
        world.emit(at, "billing.payment_method_added", who, resource=card.resource)
        world.emit(
            at + 90 * SECOND,
            "billing.payment_method_removed",
            who,
            resource=old,
            context={"reason": "card expiring"},
        )

    def _attacks(self) -> None:
        """Bursts of failed sign-ins from addresses nobody here uses.

        One, shortly before MFA becomes mandatory (and the reason it does), gets in.
        """
        world, rng = self.world, self.rng
        breach = rng.randint(self.mfa_day - 10, self.mfa_day - 3)
        calm = [d for d in range(4, self.last_day - 3) if abs(d - breach) > 3]
        for number, day in enumerate(sorted([breach, *rng.sample(calm, 2)])):
            if rng.random() < 0.7:
                at = world.night_time(0, world.day(day))
            else:
                at = world.uniform(world.day(day).lo, world.day(day).hi)
            ip, agent = world.addresses.attacker(), rng.choice(ATTACK_AGENTS)
            staff = world.staff(at, GROUPS["anyone"])
            exposed = [p for p in staff if p.mfa_since is None or p.mfa_since > at + DAY]
            if day == breach and exposed:
                victims = [rng.choice(exposed)]
            elif number % 2:
                victims = rng.sample(staff, min(6, len(staff)))  # credential stuffing
            else:
                victims = [rng.choice(staff)]  # one account, many guesses
            for attempt in range(rng.randint(12, 40)):
                at += rng.randint(1, 20) * SECOND
                if rng.random() < 0.2:
                    local = rng.choice(_GUESSED_LOGINS)
                    actor = Actor("user", "unknown", email=f"{local}@{DOMAIN}")
                    context: dict[str, Any] = {"reason": "unknown_user", "method": "password"}
                else:
                    actor = rng.choice(victims).actor(at)
                    context = {
                        "reason": "invalid_password",
                        "method": "password",
                        "attempt": attempt + 1,
                    }
                world.failed_sign_in(at, Who(actor, ip, agent), context)
            if day == breach and exposed:
                self._breach(at + rng.randint(30, 200) * SECOND, victims[0], ip, agent)

    def _breach(self, at: int, victim: Person, ip: str, agent: str) -> None:
        """A guessed password: the intruder signs in, mints a key; next morning it is cleaned up."""
        world, rng = self.world, self.rng
        intruder = Who(victim.actor(at), ip, agent, None)
        world.emit(at, "auth.login", intruder, context={"method": "password", "mfa": False})
        account = victim.accounts[0]
        key = Resource("api_key", new_id(rng, "api_key"), "sync")
        world.emit(
            at + 3 * MINUTE,
            "api_key.create",
            intruder,
            account=account,
            resource=key,
            context={"scopes": ["knowledge:read", "messages:send"], "expires_in_days": 365},
        )
        for step in range(rng.randint(3, 6)):
            world.emit(
                at + (5 + step) * MINUTE,
                "knowledge.update",
                intruder,
                account=account,
                resource=world.items.anchor("knowledge", account).resource,
            )
        morning = max(at + 6 * HOUR, self._office(world.day_index(at) + 1))
        admin = self._admin(morning, besides=victim)
        who = self._who(admin, morning)
        request = world.request_id()
        target = victim.target(morning)
        context = {"reason": "sign-in from an unrecognised address", "address": ip}
        world.emit(
            morning,
            "audit_log.viewed",
            who,
            resource=Resource("audit_log", TENANT_ID),
            context={
                "phrase": f"actor:{victim.email_at(morning)} outcome:failure",
                "offset": 0,
                "results": 50,
            },
        )
        world.emit(
            morning + 2 * MINUTE,
            "auth.session_revoked",
            who,
            target=target,
            request=request,
            context=context,
        )
        world.emit(
            morning + 2 * MINUTE + SECOND,
            "api_key.deactivated",
            who,
            account=account,
            resource=key,
            request=request,
            context={"reason": "created from a compromised session"},
        )
        world.emit(morning + 3 * MINUTE, "auth.mfa_reset", who, target=target, context=context)
        own = self._who(victim, morning)
        world.emit(morning + 40 * MINUTE, "auth.password_reset_completed", own)
        world.emit(
            morning + 41 * MINUTE, "auth.login", own, context={"method": "password", "mfa": True}
        )
        world.emit(
            morning + 50 * MINUTE,
            "audit_log.exported",
            who,
            resource=Resource("audit_log", TENANT_ID),
            context={"format": "csv", "phrase": f"ip:{ip}"},
        )

    def _odd_hours(self) -> None:
        """An admin change at three in the morning: the kind of thing a reviewer looks for."""
        world, rng = self.world, self.rng
        for day, action in ((self._day_of(0.62), "settings.updated"),):
            admin = rng.choice(world.staff(world.day(day).lo, {OWNER, ADMIN}))
            at = world.night_time(admin.tz, world.day(day))
            account = PRODUCTION if action != "organisation.settings_updated" else None
            self.actions.act(action, at, self._who(admin, at), account)

    def _incident(self) -> None:
        """Last night, the incident the detection rules catch (docs/detections.md):

        a password spray from a range nobody here uses, one admin's password guessed, a
        sign-in from there, and at three in the morning (office time) a viewer made an
        owner and thirty knowledge sources deleted in Production.
        """
        world, rng = self.world, self.rng
        zone = ZoneInfo(TIMEZONE)
        local = from_micros(world.end - 20 * MINUTE).astimezone(zone)
        three = local.replace(hour=3, minute=0, second=0, microsecond=0)
        if three > local:
            three -= timedelta(days=1)
        at = to_micros(three)
        if at - HOUR < world.start:
            return
        admins = [p for p in world.staff(at, {ADMIN}) if p is not world.owner]
        viewers = world.staff(at, {VIEWER, MEMBER})
        if not admins or not viewers:
            return
        victim, promoted = admins[-1], viewers[0]
        agent = ATTACK_AGENTS[0]
        sprayers = [world.addresses.attacker_v4() for _ in range(3)]
        staff = world.staff(at, GROUPS["anyone"])
        spray = at - 55 * MINUTE
        for ip in sprayers:
            for person in rng.sample(staff, min(12, len(staff))):
                spray += rng.randint(2, 9) * SECOND
                who = Who(person.actor(spray), ip, agent)
                context = {"reason": "invalid_password", "method": "password"}
                world.failed_sign_in(spray, who, context)
        intruder = Who(victim.actor(at), sprayers[1], agent, None)
        world.emit(at - 12 * MINUTE, "auth.login", intruder, context={"method": "password"})
        world.emit(
            at,
            "member.role_updated",
            intruder,
            target=promoted.target(at),
            context={"previous_role": promoted.role_at(at), "new_role": OWNER},
        )
        for n in range(30):
            world.emit(
                at + 4 * MINUTE + n * 9 * SECOND,
                "knowledge_source.deleted",
                intruder,
                account=PRODUCTION,
                resource=Resource("knowledge_source", new_id(rng, "knowledge_source")),
            )
