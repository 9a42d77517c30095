"""The things the demo organisation's events are about: apps, sources, keys, domains, ….

Each item lives from ``born`` until ``died`` and remembers when it was last touched.
An event may use an item only at or after that moment, so however the generator
visits the timeline, no event touches an item before it exists, after it was
deleted, or out of order with its other events (an app's versions only go up).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Final

from sealtrail.demo.cast import DOMAIN
from sealtrail.events import Resource

_DAY: Final = 86_400_000_000

NAMES: Final[dict[str, tuple[str, ...]]] = {
    "app": (
        "Support Bot",
        "Sales Assistant",
        "Onboarding Guide",
        "Invoice Helper",
        "HR Buddy",
        "Docs Search",
        "Lead Qualifier",
        "Returns Desk",
        "IT Helpdesk",
        "Churn Radar",
        "Meeting Notes",
        "Quote Builder",
    ),
    "knowledge_source": (
        "Help Center",
        "Product docs (Confluence)",
        'Pricing "v2" FAQ.pdf',
        "Returns policy",
        "Sales playbook",
        "Zendesk macros",
        "Engineering handbook",
        "API reference",
        "Onboarding checklist.docx",
        "Security whitepaper.pdf",
    ),
    "knowledge": (
        "Refund policy",
        "Shipping times",
        "Warranty terms",
        "Escalation matrix",
        "Holiday opening hours",
        "Plan comparison",
        "Data processing FAQ",
        "Troubleshooting: sign-in",
        "Größentabelle (DE)",
        "Tarifs 2024 (FR)",
    ),
    "agent": (
        "Triage agent",
        "Billing agent",
        "Escalation agent",
        "Research agent",
        "Scheduling agent",
    ),
    "agent_link": ("Website widget", "Partner portal", "Slack shortcut", "Email signature link"),
    "voice_clone": ("Ava (warm)", "Support voice EN", "Support voice DE", "Narrator"),
    "workspace": (
        "Customer Success",
        "Sales",
        "Engineering",
        "Marketing",
        "Internal Tools",
        "Finance",
    ),
    "channel": (
        "WhatsApp Support",
        "Slack #support",
        "Support email",
        "Discord community",
        "GitHub issues",
        "Web chat",
    ),
    "oauth_connection": (
        "Google Drive",
        "Slack",
        "GitHub",
        "Notion",
        "HubSpot",
        "Salesforce",
        "Microsoft 365",
    ),
    "integration": ("Zendesk", "Intercom", "Jira", "Stripe", "Segment", "Datadog", "PagerDuty"),
    "mcp_integration": (
        "Linear MCP",
        "Postgres MCP",
        "Filesystem MCP",
        "Browser MCP",
        "Sentry MCP",
    ),
    # Ofcom's and the NANP's numbers reserved for drama and examples.
    "phone_number": (
        "+44 20 7946 0321",
        "+44 20 7946 0958",
        "+1 202 555 0143",
        "+1 415 555 0187",
        "+44 161 496 0112",
    ),
    "custom_domain": tuple(f"{host}.{DOMAIN}" for host in ("help", "support", "bots", "chat")),
    "sender_domain": tuple(f"{host}.{DOMAIN}" for host in ("mail", "notify", "billing")),
    "webhook": (
        "Order events → CRM",
        "Escalations → PagerDuty",
        "Analytics sink",
        "Billing events → ERP",
    ),
    "consumer_package": (
        "Starter credits (1,000)",
        "Pro credits (10,000)",
        "Enterprise bundle",
        "Education pack",
    ),
    "role": ("Support lead", "Billing viewer", "Content editor", "Read-only auditor"),
    "payment_method": ("Visa •••• 4242", "Mastercard •••• 4444", "Amex •••• 0005"),
    "stripe_account": ("Northwind Labs Ltd", "Northwind Labs GmbH"),
    "license": ("On-prem connector", "Voice pack", "Analytics add-on"),
    "account": ("Sandbox", "EU region", "Partner demo"),
    "process": (
        "Invoice approval",
        "Employee onboarding",
        "Refund review",
        "Vendor due diligence",
        "Quarter-end close",
        "Contract renewal",
    ),
    "api_key": (
        "Data warehouse export",
        "Mobile app",
        "CI smoke tests",
        "Partner API",
        "Metabase",
        "Support tooling",
        "Zendesk sync",
        "Nightly ETL",
        "Slack bot",
        "Status page",
        "QA automation",
        "Webhook relay",
        "Airflow",
        "Retool",
    ),
}

PREFIXES: Final = {
    "app": "app",
    "knowledge_source": "ks",
    "knowledge": "kn",
    "agent": "agt",
    "agent_link": "lnk",
    "voice_clone": "vc",
    "workspace": "ws",
    "channel": "ch",
    "oauth_connection": "oauth",
    "integration": "int",
    "mcp_integration": "mcp",
    "phone_number": "pn",
    "custom_domain": "dom",
    "sender_domain": "sdom",
    "webhook": "wh",
    "consumer_package": "pkg",
    "role": "role",
    "payment_method": "pm",
    "stripe_account": "acct",
    "license": "lic",
    "account": "acc",
    "process": "proc",
    "api_key": "key",
    "job": "job",
    "message": "msg",
    "invitation": "inv",
    "subscription": "sub",
}

# How many of each thing an account (or the organisation) had before the history starts.
_STANDING: Final = {
    "app": 6,
    "knowledge_source": 5,
    "knowledge": 6,
    "agent": 3,
    "workspace": 3,
    "channel": 3,
    "oauth_connection": 2,
    "integration": 3,
    "process": 4,
    "api_key": 2,
}

_ALPHABET: Final = string.ascii_lowercase + string.digits


def token(rng: random.Random, length: int = 14) -> str:
    return "".join(rng.choices(_ALPHABET, k=length))


def new_id(rng: random.Random, resource_type: str) -> str:
    return f"{PREFIXES.get(resource_type, resource_type[:4])}_{token(rng)}"


@dataclass(eq=False)
class Item:
    resource: Resource
    account_id: str | None
    born: int
    died: int | None = None
    last_used: int = 0
    version: int = 1  # an app's newest version
    live: int = 1  # the version an app serves
    anchored: bool = False  # never deleted, so the story may name it at any time

    def free_at(self, at: int) -> bool:
        return self.born <= at and self.died is None and self.last_used <= at


class Inventory:
    """Every item of every type, per account (``None`` is the organisation)."""

    def __init__(self, rng: random.Random, start: int) -> None:
        self._rng = rng
        self._start = start
        self._items: dict[tuple[str, str | None], list[Item]] = {}
        self._names: dict[tuple[str, str | None], int] = {}
        self._offsets: dict[str, int] = {}

    def create(self, kind: str, account_id: str | None, at: int, name: str | None = None) -> Item:
        """A new item, born at ``at``."""
        item = Item(
            Resource(kind, new_id(self._rng, kind), name or self._name(kind, account_id)),
            account_id,
            born=at,
            last_used=at,
            version=1,
            live=1,
        )
        self._pool(kind, account_id).append(item)
        return item

    def use(self, kind: str, account_id: str | None, at: int) -> Item:
        """An item that exists and is free at ``at``, now used then.

        When none is, one that has stood since before the history began is found.
        """
        free = [i for i in self._pool(kind, account_id) if i.free_at(at)]
        item = self._rng.choice(free) if free else self._standing(kind, account_id)
        item.last_used = at
        return item

    def anchor(self, kind: str, account_id: str | None) -> Item:
        """A long-standing item that is never deleted; naming it claims no moment."""
        for item in self._pool(kind, account_id):
            if item.anchored:
                return item
        item = self._standing(kind, account_id)
        item.anchored = True
        return item

    def retire(self, kind: str, account_id: str | None, at: int) -> Item:
        """An item deleted at ``at``; nothing uses it again."""
        pool = self._pool(kind, account_id)
        free = [i for i in pool if i.free_at(at) and not i.anchored]
        item = self._rng.choice(free) if len(free) > 1 else self._standing(kind, account_id)
        item.last_used = at
        item.died = at
        return item

    def _pool(self, kind: str, account_id: str | None) -> list[Item]:
        key = (kind, account_id)
        pool = self._items.get(key)
        if pool is None:
            pool = self._items[key] = []
            for _ in range(_STANDING.get(kind, 1)):
                self._standing(kind, account_id)
        return pool

    def _standing(self, kind: str, account_id: str | None) -> Item:
        """An item created before the history began."""
        born = self._start - self._rng.randint(5, 400) * _DAY
        item = Item(
            Resource(kind, new_id(self._rng, kind), self._name(kind, account_id)),
            account_id,
            born=born,
            last_used=born,
            version=(version := self._rng.randint(3, 24)),
            live=version,
        )
        self._items.setdefault((kind, account_id), []).append(item)
        return item

    def _name(self, kind: str, account_id: str | None) -> str | None:
        names = NAMES.get(kind)
        if names is None:
            return None
        key = (kind, account_id)
        count = self._names.get(key, 0)
        self._names[key] = count + 1
        if kind not in self._offsets:
            self._offsets[kind] = self._rng.randrange(len(names))
        name = names[(self._offsets[kind] + count) % len(names)]
        return name if count < len(names) else f"{name} ({count // len(names) + 1})"
