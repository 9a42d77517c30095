"""Which looks at the log were recorded lately, so a repeated one is not recorded again.

A viewer's search and a look at one event are recorded in the tenant's log (SPEC §5).
Reloading the page, paging, or sorting through the same filters within
``VIEW_RECORD_WINDOW`` seconds is the same look: it is recorded once per viewer
session and filter set (or event). The memory is per process and bounded; a
second API process may record the same look once more, which errs on the side
of the record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

from sealtrail.limits import VIEW_RECORD_WINDOW

MAX_REMEMBERED: Final = 10_000


class RecentViews:
    """Remembers when each (session, subject) was last recorded, for ``window`` seconds."""

    def __init__(self, window: int = VIEW_RECORD_WINDOW, capacity: int = MAX_REMEMBERED) -> None:
        self._window_us = window * 1_000_000
        self._capacity = capacity
        self._seen: OrderedDict[Hashable, int] = OrderedDict()
        self._lock = threading.Lock()

    def first_in_window(self, key: Hashable, now_us: int) -> bool:
        """True (and remember ``now_us``) unless ``key`` was recorded within the window."""
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now_us - last < self._window_us:
                return False
            self._seen[key] = now_us
            self._seen.move_to_end(key)
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True

    def forget(self, key: Hashable) -> None:
        """Undo ``first_in_window`` when the record it allowed could not be written."""
        with self._lock:
            self._seen.pop(key, None)
