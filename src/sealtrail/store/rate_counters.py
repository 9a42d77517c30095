"""Rate-limit counters every API process shares: a ``limits`` storage on PostgreSQL.

The ``limits`` library brings the arithmetic (the sliding window counter: the
current window's hits plus the previous window's, weighted by how much of it
still overlaps) and storages for Redis, Memcached, MongoDB and process memory,
but none for PostgreSQL. This is the smallest one that fits: a row per counter
(tenant, name) holding the current window's number, its hits and the previous
window's hits.

A request is charged to two counters (its key's and its tenant's), and that is
one statement, one round trip (``acquire_sliding_window_entries``): it locks the
counters' rows, rolls each to the current window, and adds the hits to all of
them only when every one has room — otherwise it changes nothing — and answers
with where each counter stands. The row locks make the check and the increment
one atomic step across processes. The rows are made the first time a counter is
charged (one more statement, once per counter: they are rolled over in place
and never removed). The table is UNLOGGED, so a charge writes no WAL and its
commit waits for no flush: counters are worth no fsync, and after a crash they
start again from zero, which a limit can afford. ``limits``' own one-counter
interface (``acquire_sliding_window_entry``: one upsert) is kept for the library.

Counter keys are ``limits``' (``namespace/identifiers/…``) with the tenant id
as the first identifier: the row's tenant_id comes from there, so every
statement names one tenant, like every other statement of the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from limits.storage import SlidingWindowCounterSupport, Storage

Query = Callable[[str, Mapping[str, Any]], Any]
Rows = Callable[[str, Mapping[str, Any]], list[tuple[Any, ...]]]
Window = tuple[int, float, int, float]
"""``limits``' view of a counter: previous hits, seconds the previous window still
weighs, current hits, seconds until the current window's count expires."""

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
_CHARGE: Final = f"""
    WITH wanted AS (
        SELECT name, lim FROM unnest(%(names)s::text[], %(limits)s::bigint[]) AS w(name, lim)
    ), locked AS (
        SELECT c.name, {_ROLL[0]} AS prev_hits,
            greatest(0, {_ROLL[1]} - %(refund)s) AS hits
        FROM rate_counters AS c
        WHERE c.tenant_id = %(t)s AND c.name = ANY(%(names)s::text[])
        ORDER BY c.name FOR UPDATE
    ), standing AS (
        SELECT w.name, l.prev_hits, l.hits,
            floor(l.prev_hits * %(weight)s + l.hits) + %(amount)s <= w.lim AS fits,
            floor(l.prev_hits * %(weight)s + l.hits) + %(amount)s + %(extra)s <= w.lim AS room
        FROM wanted AS w LEFT JOIN locked AS l USING (name)
    ), decision AS (
        SELECT count(prev_hits) = count(*) AND bool_and(fits) AS granted,
            count(prev_hits) = count(*) AND bool_and(room) AS leased
        FROM standing
    ), charged AS (
        UPDATE rate_counters AS c
        SET window_no = %(w)s, prev_hits = s.prev_hits, hits = s.hits + CASE
            WHEN d.leased THEN %(amount)s + %(extra)s WHEN d.granted THEN %(amount)s ELSE 0 END
        FROM standing AS s, decision AS d
        WHERE (d.granted OR %(refund)s > 0) AND c.tenant_id = %(t)s AND c.name = s.name
        RETURNING c.name
    )
    SELECT s.name, s.prev_hits, s.hits, d.granted, d.leased FROM standing AS s, decision AS d
"""
_CREATE: Final = """
    INSERT INTO rate_counters (tenant_id, name, window_no, hits, prev_hits)
    SELECT %(t)s, name, %(w)s, 0, 0 FROM unnest(%(names)s::text[]) AS n(name)
    ON CONFLICT (tenant_id, name) DO NOTHING
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
    its first row or None; ``rows`` (default: ``query``'s connection) runs one and
    returns all its rows.
    """

    STORAGE_SCHEME = None

    def __init__(self, query: Query, rows: Rows) -> None:
        super().__init__()
        self._query = query
        self._rows = rows
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

    def acquire_sliding_window_entries(
        self,
        counters: Sequence[tuple[str, int]],
        expiry: int,
        amount: int,
        *,
        extra: int = 0,
        refund: tuple[int, int] = (0, 0),
    ) -> tuple[int, list[Window]]:
        """Add ``amount`` to every counter of ``counters`` (key, limit; one tenant's)
        if each has room for it, else to none — and ``extra`` more where all have room
        for that too (the caller's advance, ``ratelimit``). First ``refund`` (window
        number, units) is taken back from each counter if it is the current window:
        what an earlier advance of the caller's, counted in it, left unused. Returns
        how much was added (0, ``amount`` or ``amount + extra``) and each counter's
        window after it, in order. One statement once the rows exist."""
        now = time.time()
        window, weight, left = self._window(expiry, now)
        split = [split_key(key) for key, _ in counters]
        tenant = split[0][0]
        assert all(t == tenant for t, _ in split), "one tenant's counters at a time"
        names = [name for _, name in split]
        params = {
            "t": tenant,
            "names": names,
            "limits": [limit for _, limit in counters],
            "w": window,
            "amount": amount,
            "extra": extra,
            "refund": refund[1] if refund[0] == window else 0,
            "weight": weight,
        }
        rows = self._rows(_CHARGE, params)
        if any(row[1] is None for row in rows):  # a counter charged for the first time
            self._rows(_CREATE, params)
            rows = self._rows(_CHARGE, params)
        added = (amount + extra if rows[0][4] else amount) if rows[0][3] else 0
        found = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        windows: list[Window] = []
        for name in names:
            previous, current = found[name]
            windows.append((previous, left if previous else 0.0, current + added, left + expiry))
        return added, windows

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
