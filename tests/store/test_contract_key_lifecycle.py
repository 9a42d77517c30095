"""Contract: API key rotation and last use, per-tenant rate limits, rate-limit counters."""

from __future__ import annotations

from pathlib import Path

import pytest
from limits import RateLimitItemPerSecond
from limits.strategies import SlidingWindowCounterRateLimiter

from sealtrail.errors import NotFound, RateLimited
from sealtrail.limits import RATE_WINDOW
from sealtrail.ratelimit import RateLimiter
from sealtrail.store import open_store
from sealtrail.store.base import ApiKeyRecord, EventStore, TenantRateLimits

from ..rate_clock import Clock
from .factory import T0, add_tenant

MINUTE = 60_000_000


def _key(ident: str, **fields: object) -> ApiKeyRecord:
    return ApiKeyRecord(
        ident * 16,
        "acme",
        b"\x07" * 32,
        frozenset({"events:write"}),
        T0,
        "ci",
        **fields,  # type: ignore[arg-type]
    )


def test_a_key_keeps_its_expiry_and_last_use(store: EventStore) -> None:
    add_tenant(store)
    key = _key("a", expires_at=T0 + MINUTE)
    store.add_api_key(key)
    assert store.get_api_key(key.id) == key
    assert key.active_at(T0) and not key.active_at(T0 + MINUTE)
    store.touch_api_key(key.id, T0 + 5)
    store.touch_api_key(key.id, T0 + 3)  # an older use (another process) does not go back
    found = store.get_api_key(key.id)
    assert found is not None and found.last_used_at == T0 + 5
    assert store.list_api_keys("acme") == [found]


def test_rotation_adds_the_new_key_and_ends_the_old_one_at_the_overlap(store: EventStore) -> None:
    add_tenant(store)
    old = _key("a")
    store.add_api_key(old)
    new = _key("b", expires_at=T0 + 90 * MINUTE)
    assert store.rotate_api_key(old.id, new, T0 + MINUTE) is True
    rotated = store.get_api_key(old.id)
    assert rotated is not None
    assert (rotated.replaced_by, rotated.expires_at) == (new.id, T0 + MINUTE)
    assert store.get_api_key(new.id) == new
    # A key is rotated once; the loser of a race adds nothing.
    third = _key("c")
    assert store.rotate_api_key(old.id, third, T0 + MINUTE) is False
    assert store.get_api_key(third.id) is None


def test_rotation_keeps_an_earlier_expiry_and_refuses_a_revoked_key(store: EventStore) -> None:
    add_tenant(store)
    soon = _key("a", expires_at=T0 + MINUTE)
    store.add_api_key(soon)
    assert store.rotate_api_key(soon.id, _key("b"), T0 + 60 * MINUTE) is True
    kept = store.get_api_key(soon.id)
    assert kept is not None and kept.expires_at == T0 + MINUTE
    revoked = _key("c")
    store.add_api_key(revoked)
    assert store.revoke_api_key(revoked.id, T0)
    assert store.rotate_api_key(revoked.id, _key("d"), T0 + MINUTE) is False
    assert store.get_api_key("d" * 16) is None


def test_a_tenants_rate_limits_are_kept_and_replaced(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    assert store.get_rate_limits("acme") == TenantRateLimits()
    store.set_rate_limits("acme", TenantRateLimits(key_writes=150, tenant_reads=40), T0)
    assert store.get_rate_limits("acme") == TenantRateLimits(150, None, None, 40)
    store.set_rate_limits("acme", TenantRateLimits(key_reads=9), T0 + 1)
    assert store.get_rate_limits("acme") == TenantRateLimits(None, None, 9, None)
    assert store.get_rate_limits("globex") == TenantRateLimits()
    with pytest.raises(NotFound):
        store.set_rate_limits("nobody", TenantRateLimits(key_writes=150), T0)


def _hits(store: EventStore, item: RateLimitItemPerSecond, ident: str, n: int) -> list[bool]:
    limiter = SlidingWindowCounterRateLimiter(store.rate_counters())
    return [limiter.hit(item, "acme", ident, cost=1) for _ in range(n)]


def test_rate_counters_count_to_the_limit_per_counter(store: EventStore) -> None:
    add_tenant(store)
    item = RateLimitItemPerSecond(5, 3600)  # an hour's window: the test cannot cross it
    assert _hits(store, item, "k1", 7) == [True] * 5 + [False] * 2
    assert _hits(store, item, "k2", 1) == [True]  # another counter starts at zero
    limiter = SlidingWindowCounterRateLimiter(store.rate_counters())
    assert limiter.hit(item, "acme", "k2", cost=4) is True
    assert limiter.hit(item, "acme", "k2", cost=1) is False
    assert limiter.get_window_stats(item, "acme", "k2").remaining == 0
    assert limiter.get_window_stats(item, "acme", "k3").remaining == 5


def test_rate_counters_are_shared_where_the_engine_says_so(
    store: EventStore, tmp_path: Path
) -> None:
    """PostgreSQL shares counters between processes (two stores on one database here);
    SQLite keeps them in the process, so another store starts from zero."""
    add_tenant(store)
    item = RateLimitItemPerSecond(4, 3600)
    other = open_store(store.url)
    try:
        assert _hits(store, item, "k", 3) == [True] * 3
        expected = [True, False] if store.shares_rate_counters else [True, True]
        assert _hits(other, item, "k", 2) == expected
    finally:
        other.close()
    assert store.shares_rate_counters == store.url.startswith("postgresql")


def _limiter(store: EventStore, key_writes: int, tenant_writes: int) -> RateLimiter:
    limits = TenantRateLimits(key_writes, tenant_writes, 1000, 1000)
    return RateLimiter(store.rate_counters(), limits, lambda _: TenantRateLimits())


def _refused(limiter: RateLimiter, key: str, cost: int) -> RateLimited:
    with pytest.raises(RateLimited) as refused:
        limiter.charge("acme", key, "write", cost)
    return refused.value


def test_a_request_is_charged_to_both_limits_or_to_neither(
    store: EventStore, rate_clock: Clock
) -> None:
    add_tenant(store)
    limiter = _limiter(store, 20, 30)  # 200 and 300 events per window
    limiter.charge("acme", "a", "write", 200)  # key a is full, the tenant has 100 left
    limiter.charge("acme", "b", "write", 100)  # now the tenant is full too
    over = _refused(limiter, "b", 50)
    assert "tenant-writes" in str(over) and "key-writes" not in str(over)
    key_b, tenant = over.quotas
    assert (key_b.remaining, tenant.remaining) == (100, 0)  # b's own count did not move
    both = _refused(limiter, "a", 50)  # over its key's limit and the tenant's
    assert "key-writes" in str(both) and "tenant-writes" in str(both)
    rate_clock.now += 2 * RATE_WINDOW  # both windows slid out: everything fits again
    assert [q.remaining for q in limiter.charge("acme", "b", "write", 100)] == [100, 200]


def test_retry_after_is_when_the_refused_request_fits_and_its_limits_say_so(
    store: EventStore, rate_clock: Clock
) -> None:
    """Retry-After is the longest wait among the limits that cannot take the request;
    those limits report that wait as their reset, and after it the request fits."""
    add_tenant(store)
    limiter = _limiter(store, 10, 1000)  # the key: 100 events per window of 10 s
    start = rate_clock.now
    limiter.charge("acme", "k", "write", 100)
    # Half into the next window the previous one weighs 50: 60 more must wait until
    # it weighs 40, one more second; the key's window itself ends in five.
    rate_clock.now = start + RATE_WINDOW + 5
    refused = _refused(limiter, "k", 60)
    key, tenant = refused.quotas
    assert refused.retry_after == key.reset == 1
    assert tenant.reset == 5 and tenant.remaining >= 60  # room there: its window's end
    rate_clock.now += refused.retry_after - 0.5
    assert _refused(limiter, "k", 60).retry_after == 1
    rate_clock.now += 0.5
    limiter.charge("acme", "k", "write", 60)
    # Now this window's own 60 is in the way: wait past its end (4 s), until enough of
    # it has slid out, 10 · (1 − 40/60) s more: 7.3 s, so 8.
    again = _refused(limiter, "k", 60)
    assert again.retry_after == again.quotas[0].reset == 8
    rate_clock.now += 7
    assert _refused(limiter, "k", 60).retry_after == 1
    rate_clock.now += 1
    limiter.charge("acme", "k", "write", 60)
