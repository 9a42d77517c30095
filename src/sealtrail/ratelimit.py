"""Rate limits per API key and per tenant, for writes and for reads.

The rule, in one place: a request made with an API key is charged against two
limits of its direction — its key's and its tenant's. Writes are counted in
events (a batch of 100 costs 100), reads in request units (a search, an event,
a proof, a checkpoint, the catalog, a viewer link: 1; a CSV or NDJSON export:
``EXPORT_COST``; a bundle: ``BUNDLE_COST``). The key's limit is tried first, so
a key over its own limit does not eat its tenant's; a request either limit
refuses raises ``RateLimited`` and nothing of it is done. The operator and
viewer sessions are not limited here (the host product mints viewer links with
a key, and that is counted).

Each limit is N units per second, counted by the ``limits`` library's sliding
window counter over ``RATE_WINDOW`` seconds (N x RATE_WINDOW units per window;
the previous window's count weighs in as it slides out, so a window's edge
grants no double burst). The counters live where the store keeps them
(``EventStore.rate_counters``): in PostgreSQL, shared by every API process; on
SQLite, in the process.

Limits come from the settings (the defaults) and the operator's per-tenant
overrides, re-read every ``LIMITS_TTL`` seconds. Where a caller stands is kept
for the edge that answers (``observe``): the HTTP API puts it in the
``RateLimit`` / ``RateLimit-Policy`` headers of every limited response.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from sealtrail.errors import InvalidInput, Quota, RateLimited
from sealtrail.limits import (
    BUNDLE_COST,
    EXPORT_COST,
    MAX_RATE,
    MIN_READ_RATE,
    MIN_WRITE_RATE,
    RATE_WINDOW,
)
from sealtrail.store.base import TenantRateLimits

if TYPE_CHECKING:  # ``limits`` is imported when a limiter is made: the CLI rarely needs it
    from limits import RateLimitItemPerSecond
    from limits.storage import SlidingWindowCounterSupport, Storage

Direction = Literal["write", "read"]
LIMITS_TTL: Final = 5.0
NAMESPACE: Final = "sealtrail"

_observed: ContextVar[list[Quota] | None] = ContextVar("sealtrail_quotas", default=None)


LIMIT_NAMES: Final = ("key_writes", "tenant_writes", "key_reads", "tenant_reads")


def check_limits(wanted: TenantRateLimits) -> None:
    """InvalidInput naming a limit outside what can work (a full batch, a bundle must fit)."""
    for name in LIMIT_NAMES:
        value = getattr(wanted, name)
        lowest = MIN_WRITE_RATE if name.endswith("writes") else MIN_READ_RATE
        if value is not None and not lowest <= value <= MAX_RATE:
            unit = "events/s" if name.endswith("writes") else "read units/s"
            raise InvalidInput(f"{name} must be {lowest}..{MAX_RATE} {unit}, not {value}")


def as_dict(limits: TenantRateLimits) -> dict[str, int | None]:
    return {name: getattr(limits, name) for name in LIMIT_NAMES}


REPLAY_COST: Final = EXPORT_COST
"""Testing a detection rule replays the tenant's log, as an export reads it."""


def export_cost(fmt: str) -> int:
    return BUNDLE_COST if fmt == "bundle" else EXPORT_COST


@contextlib.contextmanager
def observe() -> Iterator[list[Quota]]:
    """Collect the quotas of what is charged inside (in this context and the threads
    it hands work to): the last charge's are what an edge reports."""
    seen: list[Quota] = []
    token = _observed.set(seen)
    try:
        yield seen
    finally:
        _observed.reset(token)


@dataclass(frozen=True, slots=True)
class _Limit:
    policy: str  # key-writes, tenant-reads, …
    per_second: int
    identifiers: tuple[str, ...]


class RateLimiter:
    """Charges requests against key and tenant limits kept in ``counters``."""

    def __init__(
        self,
        counters: Storage,
        defaults: TenantRateLimits,
        overrides: Callable[[str], TenantRateLimits],
        *,
        window: int = RATE_WINDOW,
    ) -> None:
        from limits import RateLimitItemPerSecond
        from limits.strategies import SlidingWindowCounterRateLimiter

        self._counters = counters
        self._windows: SlidingWindowCounterSupport = counters  # type: ignore[assignment]
        self._strategy = SlidingWindowCounterRateLimiter(counters)
        self._item = RateLimitItemPerSecond
        self._defaults = defaults
        self._overrides = overrides
        self._window = window
        self._cache: dict[str, tuple[float, TenantRateLimits]] = {}
        self._lock = threading.Lock()

    def limits_for(self, tenant_id: str) -> TenantRateLimits:
        """The tenant's limits in force: its own where set, the defaults elsewhere."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] <= LIMITS_TTL:
            return cached[1]
        own = self._overrides(tenant_id)
        d = self._defaults
        found = TenantRateLimits(
            own.key_writes or d.key_writes,
            own.tenant_writes or d.tenant_writes,
            own.key_reads or d.key_reads,
            own.tenant_reads or d.tenant_reads,
        )
        with self._lock:
            self._cache[tenant_id] = (now, found)
        return found

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)

    def charge(self, tenant_id: str, key_id: str, direction: Direction, cost: int) -> list[Quota]:
        """Charge ``cost`` units to the key's and the tenant's limits of ``direction``;
        where the caller stands after it, or ``RateLimited`` (nothing charged to the
        tenant when the key's own limit refuses)."""
        limits = self.limits_for(tenant_id)
        writes = direction == "write"
        per_key = limits.key_writes if writes else limits.key_reads
        per_tenant = limits.tenant_writes if writes else limits.tenant_reads
        assert per_key is not None and per_tenant is not None
        kind = f"{direction}s"
        checks = (
            _Limit(f"key-{kind}", per_key, (tenant_id, "key", key_id, kind)),
            _Limit(f"tenant-{kind}", per_tenant, (tenant_id, "tenant", kind)),
        )
        quotas: list[Quota] = []
        refused: tuple[_Limit, int] | None = None
        for limit in checks:
            item = self._item(limit.per_second * self._window, self._window, namespace=NAMESPACE)
            granted = refused is None and self._strategy.hit(item, *limit.identifiers, cost=cost)
            quota, wait = self._standing(item, limit, cost, writes)
            quotas.append(quota)
            if refused is None and not granted:
                refused = (limit, wait)
        seen = _observed.get()
        if seen is not None:
            seen[:] = quotas
        if refused is not None:
            limit, wait = refused
            unit = "events" if writes else "read units"
            raise RateLimited(
                f"over the {limit.policy} limit of {limit.per_second} {unit}/s"
                f" ({limit.per_second * self._window} per {self._window} s; this request"
                f" costs {cost}): retry after {wait} s",
                wait,
                tuple(quotas),
            )
        return quotas

    def _standing(
        self, item: RateLimitItemPerSecond, limit: _Limit, cost: int, writes: bool
    ) -> tuple[Quota, int]:
        """The quota as it stands, and how long until ``cost`` more would fit."""
        expiry = item.get_expiry()
        previous, previous_ttl, current, current_ttl = self._windows.get_sliding_window(
            item.key_for(*limit.identifiers), expiry
        )
        weighted = previous * previous_ttl / expiry + current
        left = max(0.0, current_ttl - expiry)  # seconds until the current window ends
        quota = Quota(
            policy=limit.policy,
            quota=item.amount,
            window=expiry,
            unit="events" if writes else "requests",
            remaining=max(0, item.amount - math.floor(weighted)),
            reset=math.ceil(left),
        )
        return quota, _wait(previous, current, item.amount, cost, expiry, left)


def _wait(previous: int, current: int, amount: int, cost: int, expiry: int, left: float) -> int:
    """Seconds until ``cost`` fits: while this window lasts, the previous window's
    weight drains; after it, this window's count drains the same way."""
    room = amount - cost
    if current <= room:
        if previous == 0:
            return 1
        seconds = left - max(0, room - current) * expiry / previous
    else:
        seconds = left + expiry * (1 - room / current)
    return max(1, math.ceil(seconds))
