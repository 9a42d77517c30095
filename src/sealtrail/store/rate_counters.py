"""Rate-limit counters every API process shares: a ``limits`` storage on PostgreSQL.

The ``limits`` library brings the arithmetic (the sliding window counter: the
current window's hits plus the previous window's, weighted by how much of it
still overlaps) and storages for Redis, Memcached, MongoDB and process memory,
but none for PostgreSQL. This is the smallest one that fits: a row per counter
(tenant, name) holding the current window's number, its hits and the previous
window's hits. One upsert rolls the row over to the current window, adds the
hits and refuses them — changing nothing — when the weighted count would pass
the limit; the row lock ``ON CONFLICT DO UPDATE`` takes makes that check and
the increment one atomic step across processes. So a granted hit costs one
statement, and the window's state comes back with it (``get_sliding_window``
right after serves it without asking again).

Counter keys are ``limits``' (``namespace/identifiers/…``) with the tenant id
as the first identifier: the row's tenant_id comes from there, so every
statement names one tenant, like every other statement of the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from limits.storage import SlidingWindowCounterSupport, Storage

Query = Callable[[str, Mapping[str, Any]], Any]

_ROLL: Final = (
    # The previous and current hits as of window %(w)s, from the row's columns.
    "CASE WHEN c.window_no = %(w)s THEN c.prev_hits"
    " WHEN c.window_no = %(w)s - 1 THEN c.hits ELSE 0 END",
    "CASE WHEN c.window_no = %(w)s THEN c.hits ELSE 0 END",
)
_ACQUIRE: Final = f"""
    INSERT INTO rate_counters AS c (tenant_id, name, window_no, hits, prev_hits)
    VALUES (%(t)s, %(n)s, %(w)s, %(amount)s, 0)
    ON CONFLICT (tenant_id, name) DO UPDATE SET
        window_no = %(w)s,
        prev_hits = {_ROLL[0]},
        hits = {_ROLL[1]} + %(amount)s
    WHERE floor(({_ROLL[0]}) * %(weight)s + {_ROLL[1]}) + %(amount)s <= %(limit)s
    RETURNING prev_hits, hits
"""
_READ: Final = f"""
    SELECT {_ROLL[0]}, {_ROLL[1]} FROM rate_counters AS c
    WHERE c.tenant_id = %(t)s AND c.name = %(n)s
"""


def split_key(key: str) -> tuple[str, str]:
    """``namespace/tenant/rest…`` → (tenant, rest): the row's key."""
    _, tenant, rest = key.split("/", 2)
    return tenant, rest


class PostgresRateCounters(Storage, SlidingWindowCounterSupport):
    """``limits``' sliding-window-counter storage over the ``rate_counters`` table.

    ``query`` runs one statement (psycopg placeholders) in autocommit and returns
    its first row or None.
    """

    STORAGE_SCHEME = None

    def __init__(self, query: Query) -> None:
        super().__init__()
        self._query = query
        self._last = threading.local()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ()

    @staticmethod
    def _window(expiry: int, now: float) -> tuple[int, float, float]:
        """The current window's number, the previous window's weight and ttl."""
        window = int(now / expiry)
        left = (window + 1) * expiry - now  # seconds until this window ends
        return window, left / expiry, left

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        window, weight, left = self._window(expiry, now)
        tenant, name = split_key(key)
        params = {
            "t": tenant,
            "n": name,
            "w": window,
            "amount": amount,
            "weight": weight,
            "limit": limit,
        }
        row = self._query(_ACQUIRE, params)
        if row is None:
            self._last.value = None
            return False
        self._last.value = (key, window, (int(row[0]), left, int(row[1]), left + expiry))
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        window, _, left = self._window(expiry, now)
        last = getattr(self._last, "value", None)
        self._last.value = None
        if last is not None and last[0] == key and last[1] == window:
            return last[2]  # type: ignore[no-any-return]
        tenant, name = split_key(key)
        row = self._query(_READ, {"t": tenant, "n": name, "w": window})
        previous, current = (0, 0) if row is None else (int(row[0]), int(row[1]))
        return previous, left if previous else 0.0, current, left + expiry

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        self.clear(key)

    # -- the plain counter interface ``limits`` requires of every storage ----------
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("only the sliding window counter is kept in PostgreSQL")

    def get(self, key: str) -> int:
        raise NotImplementedError("only the sliding window counter is kept in PostgreSQL")

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return None

    def clear(self, key: str) -> None:
        tenant, name = split_key(key)
        self._query(
            "DELETE FROM rate_counters WHERE tenant_id = %(t)s AND name = %(n)s RETURNING 1",
            {"t": tenant, "n": name},
        )
