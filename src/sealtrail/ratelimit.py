"""Rate limits per API key and per tenant, for writes and for reads.

The rule, in one place: a request made with an API key is charged against two
limits of its direction — its key's and its tenant's. Writes are counted in
events (a batch of 100 costs 100), reads in request units (a search, an event,
a proof, a checkpoint, the catalog, a viewer link: 1; a CSV or NDJSON export:
``EXPORT_COST``; a bundle: ``BUNDLE_COST``). Both limits are charged or
neither: a request either limit refuses raises ``RateLimited``, nothing of it is
done and nothing of it is counted (a key over its own limit does not eat its
tenant's, nor a full tenant its keys'). The operator and
viewer sessions are not limited here (the host product mints viewer links with
a key, and that is counted).

Each limit is N units per second, counted by the ``limits`` library's sliding
window counter over ``RATE_WINDOW`` seconds (N x RATE_WINDOW units per window;
the previous window's count weighs in as it slides out, so a window's edge
grants no double burst). The counters live where the store keeps them
(``EventStore.rate_counters``): in PostgreSQL, shared by every API process, and
charged in one statement for both limits; on SQLite, in the process.

Shared counters are charged ahead: where both limits have room for it, the
statement also counts an *advance* for the key in this process (at most
1/``ADVANCE_PARTS`` of the smaller quota and ``ADVANCE_REQUESTS`` requests of the
size that took it), which the key's next requests here spend without a statement
for up to ``ADVANCE_TTL`` seconds, within the window it was counted in; the next
charge that reaches the database gives back what is left. Every unit granted is
in the shared count first, so processes together never pass a limit; they may
refuse early by what the others hold unspent (docs/operations.md says how much).
A refusal is remembered the same way: the key's requests as large or larger are
refused in the process until the time the shared count said this one would fit,
so a flooding key costs the database one statement per Retry-After, not one per
request.

A refused request's ``Retry-After`` is the longest wait among the limits it does
not fit: after it every one of them has room for it (unless others spend it
first). Those limits report that same wait as their reset (``Quota.reset``, the
``RateLimit`` field's ``t``), so the two fields never disagree; a limit with room
reports when its current window ends.

Limits come from the settings (the defaults) and the operator's per-tenant
overrides, re-read every ``LIMITS_TTL`` seconds. Where a caller stands is kept
for the edge that answers (``observe``): the HTTP API puts it in the
``RateLimit`` / ``RateLimit-Policy`` headers of every limited response.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol, runtime_checkable

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
    from limits import RateLimitItem
    from limits.storage import SlidingWindowCounterSupport, Storage

Direction = Literal["write", "read"]
Window = tuple[int, float, int, float]
"""``limits``' view of a counter: previous hits, seconds the previous window still
weighs, current hits, seconds until the current window's count expires."""


@runtime_checkable
class ChargesTogether(Protocol):
    """Counters that charge several counters in one step, all or none (the store's
    shared ones: ``store.rate_counters.PostgresRateCounters``)."""

    def acquire_sliding_window_entries(
        self,
        counters: Sequence[tuple[str, int]],
        expiry: int,
        amount: int,
        *,
        extra: int = 0,
        refund: tuple[int, int] = (0, 0),
    ) -> tuple[int, list[Window]]: ...


LIMITS_TTL: Final = 5.0
ADVANCE_PARTS: Final = 50
"""An advance is at most 1/ADVANCE_PARTS of each limit's quota (2 %) ..."""
ADVANCE_REQUESTS: Final = 10
"""... and at most ten requests of the size that took it."""
ADVANCE_TTL: Final = 1.0
"""Seconds an advance may be spent (and never past the window it was counted in)."""
MAX_ADVANCES: Final = 10_000
"""Keys with an advance (or a refusal) kept per process before the stale are dropped."""
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


def _publish(quotas: list[Quota]) -> None:
    seen = _observed.get()
    if seen is not None:
        seen[:] = quotas


@dataclass(slots=True)
class _Advance:
    """Units a key's requests in this process may spend without asking the database:
    already counted in the shared counters (``window_no``'s), so spending them
    needs no statement."""

    window_no: int
    taken: float  # time.monotonic() when charged
    left: int
    remaining: tuple[int, ...]  # each limit's remaining when charged, without ``left``


@dataclass(frozen=True, slots=True)
class _Refusal:
    """The shared counters' last refusal of a key's request in this process: requests
    of at least ``cost`` are refused here until each limit's ``fits_at`` (time.time())."""

    cost: int
    fits_at: tuple[tuple[_Limit, float], ...]
    quotas: tuple[Quota, ...]


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

        self._counters = counters
        self._windows: SlidingWindowCounterSupport = counters  # type: ignore[assignment]
        self._together = counters if isinstance(counters, ChargesTogether) else None
        self._item = RateLimitItemPerSecond
        self._defaults = defaults
        self._overrides = overrides
        self._window = window
        self._cache: dict[str, tuple[float, TenantRateLimits]] = {}
        self._lock = threading.Lock()
        self._charge_lock = threading.Lock()
        self._advance_lock = threading.Lock()
        self._advances: dict[tuple[str, str, str], _Advance] = {}
        self._refusals: dict[tuple[str, str, str], _Refusal] = {}

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
        with self._advance_lock:  # reckoned with the old limits
            for holder in [h for h in self._advances if h[0] == tenant_id]:
                del self._advances[holder]
            for holder in [h for h in self._refusals if h[0] == tenant_id]:
                del self._refusals[holder]

    def charge(self, tenant_id: str, key_id: str, direction: Direction, cost: int) -> list[Quota]:
        """Charge ``cost`` units to the key's and the tenant's limits of ``direction``,
        both or neither; where the caller stands after it, or ``RateLimited``."""
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
        items = [
            self._item(limit.per_second * self._window, self._window, namespace=NAMESPACE)
            for limit in checks
        ]
        counters = [
            (item.key_for(*limit.identifiers), item.amount)
            for limit, item in zip(checks, items, strict=True)
        ]
        holder = (tenant_id, key_id, kind)
        unit = "events" if writes else "requests"
        advance = window_no = 0
        if self._together is None:
            granted, windows = self._acquire_in_process(counters, cost)
        else:
            self._refuse_again(holder, cost, writes)
            spent = self._spend_advance(holder, checks, items, cost, unit)
            if spent is not None:
                _publish(spent)
                return spent
            window_no, granted, windows, advance = self._acquire_shared(
                self._together, holder, counters, cost
            )
        quotas: list[Quota] = []
        refused: list[tuple[_Limit, float]] = []
        for limit, item, window in zip(checks, items, windows, strict=True):
            quota, wait = _standing(limit, item.amount, self._window, window, cost, writes)
            if not granted and wait is not None:
                # when this request would fit: the same as Retry-After for the longest
                quota = dataclasses.replace(quota, reset=_seconds(wait))
                refused.append((limit, wait))
            quotas.append(quota)
        if advance:
            self._keep_advance(holder, window_no, advance, quotas)
            quotas = [dataclasses.replace(q, remaining=q.remaining + advance) for q in quotas]
        if self._together is not None:
            now = time.time()
            with self._advance_lock:
                if granted:
                    self._refusals.pop(holder, None)
                else:
                    if len(self._refusals) >= MAX_ADVANCES:  # drop the ones past
                        for gone in [
                            h
                            for h, r in self._refusals.items()
                            if all(at <= now for _, at in r.fits_at)
                        ]:
                            del self._refusals[gone]
                    self._refusals[holder] = _Refusal(
                        cost, tuple((limit, now + wait) for limit, wait in refused), tuple(quotas)
                    )
        if granted:
            _publish(quotas)
            return quotas
        raise self._refusal(refused, quotas, cost, writes)

    def _refusal(
        self,
        refused: Sequence[tuple[_Limit, float]],
        quotas: Sequence[Quota],
        cost: int,
        writes: bool,
    ) -> RateLimited:
        _publish(list(quotas))
        retry_after = _seconds(max((wait for _, wait in refused), default=1))
        unit = "events" if writes else "read units"
        over = "; ".join(
            f"over the {limit.policy} limit of {limit.per_second} {unit}/s"
            f" ({limit.per_second * self._window} per {self._window} s)"
            for limit, _ in refused
        )
        return RateLimited(
            f"{over or 'over a rate limit'}; this request costs {cost}:"
            f" retry after {retry_after} s",
            retry_after,
            tuple(quotas),
        )

    def _refuse_again(self, holder: tuple[str, str, str], cost: int, writes: bool) -> None:
        """Refuse in the process, without a statement, a request the shared counters
        refused (as large or larger) until the time that refusal said it would fit:
        spending only adds to a count, so it cannot fit sooner (but for what an
        advance of another process gives back). A flood of refused requests costs
        the database one statement per key and process per Retry-After."""
        with self._advance_lock:
            refusal = self._refusals.get(holder)
        if refusal is None or cost < refusal.cost:
            return
        now = time.time()
        waits = [(limit, until - now) for limit, until in refusal.fits_at]
        if all(wait <= 0 for _, wait in waits):
            with self._advance_lock:
                if self._refusals.get(holder) is refusal:
                    del self._refusals[holder]
            return
        resets = {limit.policy: _seconds(wait) for limit, wait in waits if wait > 0}
        quotas = [
            dataclasses.replace(q, reset=resets.get(q.policy, q.reset)) for q in refusal.quotas
        ]
        raise self._refusal([w for w in waits if w[1] > 0], quotas, cost, writes)

    # -- advances: shared counters charged ahead, spent in the process ---------------
    def _acquire_shared(
        self,
        counters: ChargesTogether,
        holder: tuple[str, str, str],
        wanted: Sequence[tuple[str, int]],
        cost: int,
    ) -> tuple[int, bool, list[Window], int]:
        """Charge the shared counters (one statement): ``cost``, plus an advance for this
        process's next requests where every limit has room for it, less what this
        holder's previous advance left unused in this window. The window's number,
        whether it was granted, the windows, and the advance taken (0: none)."""
        window_no = int(time.time() // self._window)
        with self._advance_lock:
            previous = self._advances.pop(holder, None)
        refund = (previous.window_no, previous.left) if previous else (0, 0)
        extra = min(min(amount for _, amount in wanted) // ADVANCE_PARTS, ADVANCE_REQUESTS * cost)
        added, windows = counters.acquire_sliding_window_entries(
            wanted, self._window, cost, extra=extra if extra >= cost else 0, refund=refund
        )
        return window_no, added > 0, windows, max(0, added - cost)

    def _keep_advance(
        self, holder: tuple[str, str, str], window_no: int, units: int, quotas: list[Quota]
    ) -> None:
        with self._advance_lock:
            if len(self._advances) >= MAX_ADVANCES:  # drop the ones no longer of use
                for stale in [h for h, a in self._advances.items() if a.window_no != window_no]:
                    del self._advances[stale]
            kept = self._advances.get(holder)
            if kept is not None and kept.window_no == window_no:
                units += kept.left  # another thread's advance, taken meanwhile
            self._advances[holder] = _Advance(
                window_no, time.monotonic(), units, tuple(q.remaining for q in quotas)
            )

    def _spend_advance(
        self,
        holder: tuple[str, str, str],
        checks: Sequence[_Limit],
        items: Sequence[RateLimitItem],
        cost: int,
        unit: str,
    ) -> list[Quota] | None:
        """The quotas after spending ``cost`` of this holder's advance, or None when
        there is none fit to spend (none, too small, too old, or of a past window)."""
        now = time.time()
        window_no = int(now // self._window)
        with self._advance_lock:
            advance = self._advances.get(holder)
            if (
                advance is None
                or advance.window_no != window_no
                or time.monotonic() - advance.taken > ADVANCE_TTL
                or advance.left < cost
            ):
                return None
            advance.left -= cost
            left = advance.left
        reset = math.ceil((window_no + 1) * self._window - now)
        return [
            Quota(limit.policy, item.amount, self._window, unit, base + left, reset)
            for limit, item, base in zip(checks, items, advance.remaining, strict=True)
        ]

    def _acquire_in_process(
        self, counters: Sequence[tuple[str, int]], cost: int
    ) -> tuple[bool, list[Window]]:
        """Both counters or neither, in a storage of this process (one lock makes the
        test and the hits one step)."""
        expiry = self._window
        with self._charge_lock:
            windows = [self._windows.get_sliding_window(key, expiry) for key, _ in counters]
            granted = all(
                _fits(window, amount, cost, expiry)
                for window, (_, amount) in zip(windows, counters, strict=True)
            )
            if granted:
                for key, amount in counters:
                    granted = (
                        self._windows.acquire_sliding_window_entry(key, amount, expiry, cost)
                        and granted
                    )
                windows = [self._windows.get_sliding_window(key, expiry) for key, _ in counters]
            return granted, windows


def _weighted(window: Window, expiry: int) -> float:
    """``limits``' sliding window count: the previous window's hits weighted by how much
    of it still overlaps, plus the current window's."""
    previous, previous_ttl, current, _ = window
    return previous * previous_ttl / expiry + current


def _fits(window: Window, amount: int, cost: int, expiry: int) -> bool:
    return math.floor(_weighted(window, expiry)) + cost <= amount


def _standing(
    limit: _Limit, amount: int, expiry: int, window: Window, cost: int, writes: bool
) -> tuple[Quota, float | None]:
    """The quota as it stands, and how long until ``cost`` more would fit (None: it
    fits now)."""
    previous, _, current, current_ttl = window
    left = max(0.0, current_ttl - expiry)  # seconds until the current window ends
    quota = Quota(
        policy=limit.policy,
        quota=amount,
        window=expiry,
        unit="events" if writes else "requests",
        remaining=max(0, amount - math.floor(_weighted(window, expiry))),
        reset=math.ceil(left),
    )
    if _fits(window, amount, cost, expiry):
        return quota, None
    return quota, _wait(previous, current, amount, cost, expiry, left)


def _wait(previous: int, current: int, amount: int, cost: int, expiry: int, left: float) -> float:
    """Seconds until ``cost`` fits: while this window lasts, the previous window's
    weight drains; after it, this window's count drains the same way."""
    room = amount - cost
    if current <= room:
        if previous == 0:
            return 0.0
        return left - max(0, room - current) * expiry / previous
    return left + expiry * (1 - room / current)


def _seconds(wait: float) -> int:
    """A wait as the whole seconds of ``Retry-After`` and ``t``: rounded up, at least 1."""
    return max(1, math.ceil(wait))
