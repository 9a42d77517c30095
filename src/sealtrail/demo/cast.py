"""Who works at the demo organisation, which robots act for it, and where they connect from.

Names, ids and email addresses are fixed (ids are UUIDv5 of the email's local part),
so a demo database seeded with any ``seed`` names the same people. What the seed
varies is the texture: home addresses, browsers, who is busier.

Every address is from a range reserved for documentation (RFC 5737, RFC 3849), the
private network (RFC 1918) or carrier-grade NAT (RFC 6598), and the domain is
reserved by RFC 2606, so the demo names no real network or organisation.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Final

from sealtrail.events import Actor, Target

TENANT_ID: Final = "demo"
ORG_NAME: Final = "Northwind Labs"
DOMAIN: Final = "northwind.example"
PRODUCTION: Final = "acc_production"
STAGING: Final = "acc_staging"
ACCOUNTS: Final = ((PRODUCTION, "Production"), (STAGING, "Staging"))

OWNER: Final = "owner"
ADMIN: Final = "admin"
DEVELOPER: Final = "developer"
MEMBER: Final = "member"
VIEWER: Final = "viewer"
ROLES: Final = (OWNER, ADMIN, DEVELOPER, MEMBER, VIEWER)

_NAMESPACE: Final = uuid.UUID("5f0c8b8e-9d1a-4c57-8a9e-2b7d4e6f1a03")

OFFICE_IPS: Final = ("203.0.113.17", "203.0.113.18", "2001:db8:4e57:100::17")

DESKTOP_AGENTS: Final = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
MOBILE_AGENTS: Final = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Northwind/4.18.2 (iPhone; iOS 17.4.1; Scale/3.00)",
    "Northwind/4.18.0 (Android 14; SM-S918B)",
)
ATTACK_AGENTS: Final = (
    "python-requests/2.31.0",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " HeadlessChrome/122.0.6261.94 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:45.0) Gecko/20100101 Firefox/45.0",
)


def user_id(local_part: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, local_part))


def email(local_part: str) -> str:
    return f"{local_part}@{DOMAIN}"


@dataclass(eq=False)
class Person:
    """Someone in the organisation; role, address and membership change over time."""

    name: str
    local_part: str
    tz: int  # minutes east of UTC
    activity: float
    accounts: tuple[str, ...]
    ips: tuple[str, ...]  # usual addresses, most used first; the last is the phone's
    desktop: str
    mobile: str
    roles: list[tuple[int, str]] = field(default_factory=list)
    emails: list[tuple[int, str]] = field(default_factory=list)
    spells: list[tuple[int, int | None]] = field(default_factory=list)
    mfa_since: int | None = None
    sso: bool = True
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = user_id(self.local_part)

    def role_at(self, at: int) -> str:
        return _at(self.roles, at)

    def email_at(self, at: int) -> str:
        return _at(self.emails, at)

    def set_role(self, at: int, role: str) -> None:
        self.roles.append((at, role))

    def active_at(self, at: int) -> bool:
        return any(begin <= at and (end is None or at < end) for begin, end in self.spells)

    def join(self, at: int) -> None:
        self.spells.append((at, None))

    def leave(self, at: int) -> None:
        begin, _ = self.spells[-1]
        self.spells[-1] = (begin, at)

    def actor(self, at: int) -> Actor:
        return Actor("user", self.id, self.role_at(at), self.name, self.email_at(at))

    def target(self, at: int) -> Target:
        return Target("user", self.id, self.name, self.email_at(at))

    def connection(self, rng: random.Random) -> tuple[str, str]:
        """Where this person connects from this time: usually their desk, sometimes the phone."""
        roll = rng.random()
        if roll < 0.08:
            return self.ips[-1], self.mobile
        return (self.ips[0] if roll < 0.78 else self.ips[1]), self.desktop


def _at(history: list[tuple[int, str]], at: int) -> str:
    index = bisect_right(history, at, key=lambda item: item[0])
    return history[max(index - 1, 0)][1]


@dataclass(frozen=True, slots=True)
class Bot:
    """A non-human actor: a service, an API key, or the platform itself."""

    actor: Actor
    ip: str | None = None
    agent: str | None = None
    account_id: str | None = None


# name, email local part, role, minutes east of UTC, how busy, accounts worked in
_Profile = tuple[str, str, str, int, float, tuple[str, ...]]
_BOTH = (PRODUCTION, STAGING)
_PROD = (PRODUCTION,)

FOUNDING_TEAM: Final[tuple[_Profile, ...]] = (
    ("Amara Okafor", "amara.okafor", OWNER, 60, 0.7, _BOTH),
    ("Daniel Reyes", "daniel.reyes", ADMIN, -300, 1.1, _BOTH),
    ("Priya Natarajan", "priya.natarajan", ADMIN, 330, 1.0, _BOTH),
    ("Lukas Weber", "lukas.weber", ADMIN, 60, 0.9, _BOTH),
    ("Sofia Rossi", "sofia.rossi", DEVELOPER, 60, 1.4, _BOTH),
    ("Kenji Watanabe", "kenji.watanabe", DEVELOPER, 540, 1.2, _BOTH),
    ("Hannah Schmidt", "hannah.schmidt", MEMBER, 60, 1.0, _PROD),
    ("Omar Haddad", "omar.haddad", DEVELOPER, 240, 1.1, _BOTH),
    ("Chloé Martin", "chloe.martin", MEMBER, 60, 0.9, _PROD),
    ("Mateo García", "mateo.garcia", MEMBER, -180, 0.9, _PROD),
    ("Aisha Bello", "aisha.bello", MEMBER, 60, 1.0, _PROD),
    ("Tom O'Brien", "tom.obrien", MEMBER, 0, 0.8, _PROD),
    ("Ingrid Larsen", "ingrid.larsen", VIEWER, 60, 0.4, _PROD),
    ("Wei Zhang", "wei.zhang", DEVELOPER, 480, 1.1, _BOTH),
    ("Grace Kim", "grace.kim", MEMBER, -480, 0.9, _PROD),
    ("Noah Williams", "noah.williams", MEMBER, -300, 0.8, _PROD),
    ("Elif Yılmaz", "elif.yilmaz", MEMBER, 180, 0.9, _PROD),
    ("Rafael Souza", "rafael.souza", DEVELOPER, -180, 1.0, _BOTH),
)
HIRES: Final[tuple[_Profile, ...]] = (
    ("Zanele Dlamini", "zanele.dlamini", MEMBER, 120, 1.0, _PROD),
    ("Jonas Berg", "jonas.berg", DEVELOPER, 60, 1.1, _BOTH),
    ("Lucía Fernández", "lucia.fernandez", MEMBER, 60, 1.0, _PROD),
    ("Arjun Mehta", "arjun.mehta", DEVELOPER, 330, 1.0, _BOTH),
    ("Emma Johansson", "emma.johansson", MEMBER, 60, 0.9, _PROD),
    ("Samuel Osei", "samuel.osei", MEMBER, 0, 0.9, _PROD),
    ("Yuki Tanaka", "yuki.tanaka", MEMBER, 540, 0.9, _PROD),
    ("Maria Kowalska", "maria.kowalska", MEMBER, 60, 0.9, _PROD),
)
OWNER_PROFILE: Final = FOUNDING_TEAM[0]
# Where the company keeps office hours: what its detection rules read as business hours.
TIMEZONE: Final = "Europe/Berlin"
BUSINESS_HOURS: Final = "Mon-Fri 07:00-20:00"
# When its admins change members, keys and settings (local hours, Monday to Friday): inside
# the business hours with room to spare, whichever time zone the admin lives in.
OFFICE_HOURS: Final = (8, 18)


@dataclass(frozen=True, slots=True)
class Robots:
    deploy: Bot
    scim: Bot
    scheduler: Bot
    system: Bot
    keys: tuple[Bot, ...]  # API keys the host product's backends use

    def key_for(self, account_id: str, rng: random.Random) -> Bot:
        return rng.choice([k for k in self.keys if k.account_id == account_id])


ROBOTS: Final = Robots(
    deploy=Bot(
        Actor("service", "svc_deploy", name="Deploy pipeline"),
        "2001:db8:4e57:c1::21",
        "northwind-cli/3.4.1 (linux; GitHub Actions)",
    ),
    scim=Bot(Actor("service", "svc_okta_scim", name="Okta SCIM"), "2001:db8:6b7a::1f", "Okta SCIM"),
    scheduler=Bot(
        Actor("service", "svc_scheduler", name="Job scheduler"),
        "10.20.4.12",
        "northwind-scheduler/2.3.1",
    ),
    system=Bot(Actor("system", "system")),
    keys=(
        Bot(
            Actor("api_key", "key_9f2c41d07ab3e615", name="Production backend"),
            "10.20.8.31",
            "northwind-backend/5.12.0 python-httpx/0.27.2",
            PRODUCTION,
        ),
        Bot(
            Actor("api_key", "key_c03e7a19b6d2f458", name="Zapier"),
            "2001:db8:2a9f::7",
            "Zapier",
            PRODUCTION,
        ),
        Bot(
            Actor("api_key", "key_51be0c7d2a94f380", name="Staging backend"),
            "10.30.8.14",
            "northwind-backend/5.13.0-rc.2 python-httpx/0.27.2",
            STAGING,
        ),
    ),
)


class Addresses:
    """Hands out addresses so that no two people share a home network."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._hosts = rng.sample(range(2, 255), 253)
        self._attack = rng.sample(range(2, 255), 253)

    def home(self) -> str:
        rng = self._rng
        if rng.random() < 0.3:
            network = f"{rng.randrange(0x1000, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}"
            return f"2001:db8:{network}::{rng.randrange(2, 0xFFF):x}"
        return f"198.51.100.{self._hosts.pop()}"

    def mobile(self) -> str:
        rng = self._rng
        return f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def attacker(self) -> str:
        """An address nobody in the organisation uses: the "unusual IP" of a failed-login burst."""
        rng = self._rng
        if rng.random() < 0.25:
            return f"2001:db8:ffff:{rng.randrange(1, 0xFFFF):x}::{rng.randrange(2, 0xFFFF):x}"
        return f"192.0.2.{self._attack.pop()}"

    def attacker_v4(self) -> str:
        """An IPv4 address nobody in the organisation uses, never handed out before."""
        return f"192.0.2.{self._attack.pop()}"


def make_person(profile: _Profile, rng: random.Random, addresses: Addresses) -> Person:
    name, local_part, role, tz, activity, accounts = profile
    in_office = tz in (0, 60) and rng.random() < 0.7
    usual = rng.choice(OFFICE_IPS) if in_office else addresses.home()
    other = addresses.home() if in_office else rng.choice((addresses.home(), usual))
    person = Person(
        name=name,
        local_part=local_part,
        tz=tz,
        activity=activity * rng.uniform(0.8, 1.25),
        accounts=accounts,
        ips=(usual, other, addresses.mobile()),
        desktop=rng.choice(DESKTOP_AGENTS),
        mobile=rng.choice(MOBILE_AGENTS),
        sso=rng.random() < 0.45,
    )
    person.roles.append((0, role))
    person.emails.append((0, email(local_part)))
    return person
