"""``sealtrail demo``: an example organisation with ninety days of believable history.

``seed_demo`` creates the tenant ``demo`` (Northwind Labs, with a Production and a
Staging account), writes its history through ``AuditLog.append`` in batches of
1000, and mints an API key to explore it with. A database that already holds the
demo's events keeps them: seeding again only mints a new key, so ``make run`` twice
is quick and shows the same history.

The history is generated from a seed (``sealtrail.demo.history``): the same seed and
the same ``now`` give the same events.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import click

from sealtrail.audit_log import AuditLog, Tenant
from sealtrail.auth import Principal
from sealtrail.demo.cast import (
    ACCOUNTS,
    BUSINESS_HOURS,
    ORG_NAME,
    OWNER_PROFILE,
    TENANT_ID,
    TIMEZONE,
    email,
    user_id,
)
from sealtrail.demo.history import DAYS, MIN_EVENTS, generate
from sealtrail.errors import Conflict, NotFound
from sealtrail.events import EventInput, now_micros
from sealtrail.limits import MAX_BATCH
from sealtrail.privacy import Subject
from sealtrail.query import Page, parse_phrase
from sealtrail.settings import Settings

__all__ = ["BATCH", "MIN_EVENTS", "SCOPES", "DemoInfo", "DemoUser", "generate", "seed_demo"]

BATCH = MAX_BATCH
SCOPES = "events:write,events:read,viewer:mint"
KEY_NAME = "Demo key"
DEMO_SESSION_TTL = 12 * 3600
"""How long the link ``sealtrail demo`` prints stays valid: a working day, not 15 minutes."""


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class DemoInfo:
    """What ``seed_demo`` made, and how to look at it."""

    tenant_id: str
    tenant_name: str
    account_ids: tuple[str, ...]
    owner: DemoUser
    api_key: str
    api_key_id: str
    events: int
    seeded: bool  # False when the database already held the demo's history
    seconds: float
    base_url: str
    viewer_url: str | None = None
    revoked_keys: int = 0  # earlier runs' demo keys, revoked when this one was minted

    def banner(self, base_url: str | None = None) -> str:
        base = (base_url or self.base_url).rstrip("/")
        auth = '-H "Authorization: Bearer $SEALTRAIL_API_KEY"'
        how = f"seeded in {self.seconds:.1f} s" if self.seeded else "already there, kept"
        accounts = " and ".join(self.account_ids)
        lines = [f"Open the audit log: {self.viewer_url}", ""] if self.viewer_url else []
        lines += [
            f"Sealtrail demo: {self.tenant_name} (tenant {self.tenant_id!r};"
            f" accounts {accounts}), owner {self.owner.name} <{self.owner.email}>",
            f"{self.events:,} events over the last 90 days ({how}).",
            "",
        ]
        if not self.viewer_url:
            lines += [
                f"Viewer page: mint a link with POST {base}/v1/viewer-sessions"
                " (scope viewer:mint).",
                "",
            ]
        lines += [
            "API key (events:write, events:read, viewer:mint) — shown only now:",
            f"  export SEALTRAIL_API_KEY={self.api_key}",
        ]
        if self.revoked_keys:
            lines.append(
                "  (a new key each run: the demo key printed before is revoked"
                " and answers 401 from now on)"
            )
        lines += [
            "",
            "Failed sign-ins, newest first:",
            f"  curl -sG {base}/v1/events {auth} \\",
            "    --data-urlencode 'phrase=action:auth.login outcome:failure' -d limit=5",
            "Every role change, as CSV:",
            f"  curl -sG {base}/v1/events/export {auth} \\",
            "    -d format=csv --data-urlencode 'phrase=action:member.role_changed' -o roles.csv",
            "The signed checkpoint (tree size and root hash) that proves all of it:",
            f"  curl -s {base}/v1/checkpoint {auth}",
        ]
        return "\n".join(lines)


def seed_demo(
    log: AuditLog,
    settings: Settings,
    *,
    events: int = 20_000,
    progress: bool = False,
    seed: int = 7,
    now: int | None = None,
    days: int = DAYS,
) -> DemoInfo:
    """Create (once) the demo organisation and its history; mint an API key for it.

    Exactly ``max(events, MIN_EVENTS)`` events are written — the last records
    the real erasure of a member who left (GDPR Art. 17) — and among them every
    built-in event type. ``now`` (microseconds since the epoch) is where the
    ninety days (or ``days``) end; it defaults to the present. A progress bar is drawn on stderr
    when ``progress`` is set and stderr is a terminal.
    """
    tenant = _tenant(log)
    count = _history(log)
    started = time.perf_counter()
    seeded = count == 0
    if seeded:
        # One event fewer is generated: the last is the record of a real erasure.
        target = max(events, MIN_EVENTS)
        history = generate(
            seed=seed, now=now_micros() if now is None else now, count=target - 1, days=days
        )
        count = _write(log, history, target - 1, progress)
        count += _erase_a_former_member(log)
        log.set_detection_settings(
            Principal.operator(TENANT_ID),
            {"timezone": TIMEZONE, "business_hours": BUSINESS_HOURS},
        )
    seconds = time.perf_counter() - started
    # A key's secret is never stored, so it cannot be shown again: each run mints a
    # new demo key and revokes the ones earlier runs printed.
    replaced = [k for k in log.api_keys(TENANT_ID) if k.name == KEY_NAME and k.revoked_at is None]
    key = log.create_api_key(TENANT_ID, SCOPES, name=KEY_NAME)
    for old in replaced:
        log.revoke_api_key(old.id)
    name, local_part = OWNER_PROFILE[0], OWNER_PROFILE[1]
    return DemoInfo(
        tenant_id=TENANT_ID,
        tenant_name=tenant.name,
        account_ids=tuple(account_id for account_id, _ in ACCOUNTS),
        owner=DemoUser(user_id(local_part), name, email(local_part)),
        api_key=key.plain,
        api_key_id=key.record.id,
        events=count,
        seeded=seeded,
        seconds=seconds,
        base_url=settings.base_url,
        revoked_keys=len(replaced),
    )


KEY_RECORDS = (
    "actor:operator action:audit_log.api_key_created action:audit_log.api_key_rotated"
    " action:audit_log.api_key_revoked"
)
"""The operator's records of the demo's keys (the history has key events of its own)."""


def _history(log: AuditLog) -> int:
    """The demo's history: every event of its log but the records of its keys (each run
    mints one and revokes the one before, and the log records both)."""
    operator = Principal.operator(TENANT_ID)
    keys = log.count(operator, parse_phrase(KEY_RECORDS), cap=None) or 0
    return log.tree_size(TENANT_ID) - keys


def _erase_a_former_member(log: AuditLog) -> int:
    """A member who left asks for erasure (GDPR Art. 17); return the events it records."""
    operator = Principal.operator(TENANT_ID)
    left = log.search(operator, parse_phrase("action:member.offboarded"), Page(limit=1))
    if not left.events or left.events[0].target is None:
        return 0
    subject = Subject("id", left.events[0].target.id)
    erasure = log.erase(operator, subject, "erasure request PRIV-1042 (GDPR Art. 17)")
    if erasure.erasure_id is not None:
        erasure = log.run_erasure(TENANT_ID, erasure.erasure_id)
    return 1 if erasure.events_erased else 0


def _tenant(log: AuditLog) -> Tenant:
    try:
        return log.tenant(TENANT_ID)
    except NotFound:
        pass
    try:
        return log.create_tenant(TENANT_ID, ORG_NAME)
    except Conflict:  # another process seeded it a moment ago
        return log.tenant(TENANT_ID)


def _write(log: AuditLog, stream: Iterator[EventInput], events: int, progress: bool) -> int:
    """Append the stream in batches, generating each batch while the previous one is stored."""

    def take() -> list[EventInput]:
        return list(itertools.islice(stream, BATCH))

    written = 0
    operator = Principal.operator(TENANT_ID)
    with (
        _progress(max(events, MIN_EVENTS), progress) as advance,
        ThreadPoolExecutor(1, thread_name_prefix="sealtrail-demo") as generator,
    ):
        pending = generator.submit(take)
        while batch := pending.result():
            pending = generator.submit(take)
            log.append(operator, batch)
            written += len(batch)
            advance(len(batch))
    return written


@contextlib.contextmanager
def _progress(total: int, show: bool) -> Iterator[Callable[[int], None]]:
    if not (show and sys.stderr.isatty()):
        yield lambda _: None
        return
    with click.progressbar(
        length=total, label="Writing 90 days of history", file=sys.stderr
    ) as bar:
        yield bar.update
