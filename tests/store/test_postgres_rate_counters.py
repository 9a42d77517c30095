"""PostgreSQL's shared rate-limit counters: what one charge costs in statements, and
that several processes with advances (``sealtrail.ratelimit``) never pass a limit.

The cost is counted, not timed: every statement of every connection of the store is
recorded (a cursor wrapper, as tests/store/citus.py does), pool checks included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from sealtrail.errors import RateLimited
from sealtrail.ratelimit import ADVANCE_PARTS, ADVANCE_REQUESTS, RateLimiter
from sealtrail.store.base import TenantRateLimits
from sealtrail.store.postgres import PostgresStore

from ..rate_clock import Clock
from .factory import add_tenant
from .recording import Sent

pytestmark = pytest.mark.postgres

SENT = Sent()


@pytest.fixture
def stores(postgres_url: str) -> Iterator[list[PostgresStore]]:
    """Two stores on one database, as two API processes have."""
    made = [PostgresStore(postgres_url, configure=SENT.configure) for _ in range(2)]
    made[0].migrate()
    add_tenant(made[0])
    try:
        yield made
    finally:
        for store in made:
            store.close()
        SENT.clear()


def _limiter(store: PostgresStore, key_writes: int, tenant_writes: int) -> RateLimiter:
    limits = TenantRateLimits(key_writes, tenant_writes, 1000, 1000)
    return RateLimiter(store.rate_counters(), limits, lambda _: TenantRateLimits())


def test_a_charge_is_one_statement_and_one_round_trip(
    stores: list[PostgresStore], rate_clock: Clock
) -> None:
    limiter = _limiter(stores[0], 100, 200)  # 1,000 and 2,000 events per window
    limiter.charge("acme", "k", "write", 100)  # the counters' rows are made here
    for cost in (100, 900):  # no advance: 2 % of the key's limit is less than a request
        SENT.clear()
        with pytest.raises(RateLimited) if cost == 900 else _nothing():
            limiter.charge("acme", "k", "write", cost)
        assert len(SENT) == 1, SENT  # no pool check, no transaction, no second counter
        assert SENT[0].startswith("WITH wanted AS") and "FOR UPDATE" in SENT[0]


def test_an_advance_spares_the_statements_of_the_next_requests(
    stores: list[PostgresStore], rate_clock: Clock
) -> None:
    limiter = _limiter(stores[0], 10_000_000, 10_000_000)
    advance = ADVANCE_REQUESTS * 100  # less than 2 % of these limits: ten requests' worth
    assert advance < 10_000_000 * 10 // ADVANCE_PARTS
    SENT.clear()
    for _ in range(60):
        limiter.charge("acme", "k", "write", 100)
    # The first charge makes the rows (charge, create, charge again), then every
    # eleventh goes to the database: 1, 12, 23, 34, 45, 56.
    assert len(SENT) == 3 + 5, SENT
    # Each advance was spent whole before the next was taken, and the last has 600 left.
    assert _hits(stores[0]) == {"key/k/writes": 60 * 100 + 600, "tenant/writes": 60 * 100 + 600}
    rate_clock.now += 1.5  # an advance lives a second: the next charge asks the database
    SENT.clear()
    quotas = limiter.charge("acme", "k", "write", 100)
    assert len(SENT) == 1
    assert quotas[0].remaining == 100_000_000 - 61 * 100  # what this caller may still spend
    # …and gave back the 600 the old advance left before taking a new one.
    assert _hits(stores[0])["key/k/writes"] == 61 * 100 + advance


def _hits(store: PostgresStore) -> dict[str, int]:
    with psycopg.connect(store.url) as connection:
        rows = connection.execute("SELECT name, hits FROM rate_counters").fetchall()
    return {name.rsplit("/", 3)[0]: hits for name, hits in rows}  # less the limit's part


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_processes_with_advances_never_pass_the_shared_limit(
    stores: list[PostgresStore], rate_clock: Clock
) -> None:
    """Two stores (processes), four threads each, spend one key's limit: what is granted
    never passes it, and falls short of it by at most the advances left unspent."""
    quota = 100 * 10  # 100 events/s, 10 s windows
    cost = 7
    limiters = [_limiter(store, 100, 1000) for store in stores]
    advance = min(quota // ADVANCE_PARTS, ADVANCE_REQUESTS * cost)
    assert advance >= cost  # the advances are in play
    granted = [0] * 8
    start = threading.Barrier(8)

    def spend(worker: int) -> None:
        limiter = limiters[worker % 2]
        start.wait(timeout=30)
        while True:
            try:
                limiter.charge("acme", "k", "write", cost)
            except RateLimited:
                return
            granted[worker] += cost

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    total = sum(granted)
    counted = _hits(stores[0])["key/k/writes"]
    assert total <= counted <= quota  # nothing granted that the shared count does not hold
    assert total >= quota - 2 * advance - cost, (total, counted)


def test_a_refused_key_is_refused_again_in_the_process_until_it_would_fit(
    stores: list[PostgresStore], rate_clock: Clock
) -> None:
    """A flood of refused requests costs one statement per key, process and
    Retry-After, not one per request; the refusals say the same as the first."""
    limiter = _limiter(stores[0], 10, 1000)  # the key: 100 events per window
    limiter.charge("acme", "k", "write", 100)
    SENT.clear()
    first = _refused_charge(limiter, 10)
    assert len(SENT) == 1
    # Full at the window's start: 10 more fit once 10 of the 100 have slid out of the
    # next window, 10 + 1 s from now.
    assert first.retry_after == first.quotas[0].reset == 11
    SENT.clear()
    for _ in range(5):
        again = _refused_charge(limiter, 10)
        assert (again.retry_after, again.quotas) == (first.retry_after, first.quotas)
        assert str(again) == str(first)
    assert _refused_charge(limiter, 50).retry_after == 11  # larger: refused here too
    assert SENT == []
    rate_clock.now += 5
    assert _refused_charge(limiter, 10).retry_after == 6 and SENT == []
    _refused_charge(limiter, 1)  # smaller: it may fit sooner, so the database decides
    assert len(SENT) == 1
    other = _limiter(stores[1], 10, 1000)  # another process asks the database itself
    SENT.clear()
    assert _refused_charge(other, 10).retry_after == 6 and len(SENT) == 1
    rate_clock.now += 6
    SENT.clear()
    limiter.charge("acme", "k", "write", 10)  # fits now, decided by the database
    assert len(SENT) == 1


def _refused_charge(limiter: RateLimiter, cost: int) -> RateLimited:
    with pytest.raises(RateLimited) as refused:
        limiter.charge("acme", "k", "write", cost)
    return refused.value
