"""A clock the rate limiter and its counters read instead of the real one, so a test
says where in a window it stands (``rate_clock`` in tests/conftest.py)."""

from __future__ import annotations

from sealtrail.limits import RATE_WINDOW

START = 1_000_000 * RATE_WINDOW  # the start of a window


class Clock:
    """Stands in for the ``time`` module where the limiter and its counters read it
    (``sealtrail.ratelimit``, ``sealtrail.store.rate_counters``, ``limits``' memory
    storage); it moves only when a test moves ``now``."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now
