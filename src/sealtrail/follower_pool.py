"""Background followers in a serving process: which consumers run, started and stopped.

A ``FollowerPool`` runs one ``Follower`` thread per consumer that its **sources** say
should run now. A source is any callable returning ``ConsumerPlan``s — stream delivery
is one (``AuditLog.stream_plans``), security detections plug in another the same way:

    pool = FollowerPool(audit_log.follower, owner=...)
    pool.add_source(audit_log.stream_plans)
    pool.add_source(my_detection_plans)   # any (tenant, name, consumer) you like
    pool.start()
    ...
    pool.nudge("acme")                    # new events in acme: wake its followers now
    pool.refresh()                        # a consumer was added, changed or removed
    pool.stop()

A plan names a consumer (``tenant_id``, ``name``), a ``key`` (any comparable value: a
plan whose key changed is restarted with the new consumer, e.g. after a stream was
edited) and ``build``, which makes the consumer when its follower starts. A consumer with
a ``close()`` method is closed when its follower stops. The pool re-reads its sources
every ``poll_seconds`` (a change made by another process is picked up within that time)
and at once on ``refresh``. Every process may run a pool over the same database: the
followers' leases let exactly one process work on each consumer at a time.

A follower being replaced is stopped and joined before its successor starts, so the
two never deliver at once from one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sealtrail.follower import Consumer, Follower

__all__ = ["ConsumerPlan", "FollowerFactory", "FollowerPool", "Source"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerPlan:
    """One consumer that should run: who it is, what version of it, how to make it."""

    tenant_id: str
    name: str
    key: Hashable
    build: Callable[[], Consumer] = field(compare=False)
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    """Keyword arguments for the ``Follower`` (``batch_size``, ``failing_after``, …)."""


Source = Callable[[], Iterable[ConsumerPlan]]
FollowerFactory = Callable[..., Follower]
"""``factory(tenant_id, name, consumer, owner=…, **options)`` → a ``Follower``."""


@dataclass
class _Running:
    plan: ConsumerPlan
    follower: Follower
    consumer: Consumer
    thread: threading.Thread


class FollowerPool:
    def __init__(
        self,
        factory: FollowerFactory,
        *,
        owner: str,
        poll_seconds: float = 5.0,
        join_seconds: float = 30.0,
    ) -> None:
        self._factory = factory
        self.owner = owner
        self._poll = poll_seconds
        self._join = join_seconds
        self._sources: list[Source] = []
        self._running: dict[tuple[str, str], _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add_source(self, source: Source) -> None:
        self._sources.append(source)
        self.refresh()

    def start(self) -> None:
        """Run the supervisor thread (daemon) until ``stop``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._supervise, name="sealtrail-followers", daemon=True
            )
            self._thread.start()

    def refresh(self) -> None:
        """Re-read the sources now (on the supervisor thread)."""
        self._wake.set()

    def nudge(self, tenant_id: str) -> None:
        """Wake the tenant's followers: its log grew."""
        with self._lock:
            running = [r for (tenant, _), r in self._running.items() if tenant == tenant_id]
        for item in running:
            item.follower.nudge()

    def running(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._running)

    def stop(self) -> None:
        """Stop the supervisor and every follower (all told first, then each joined)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self._join)
        with self._lock:
            items = list(self._running.items())
            self._running.clear()
        for _, item in items:
            item.follower.stop()
        for name, item in items:
            self._finish(name, item)

    # -- the supervisor ------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                self.reconcile()
            except Exception:  # a source failing (the database restarting): try again later
                log.exception("follower pool: could not read what should run")
            self._wake.wait(self._poll)
            self._wake.clear()

    def reconcile(self) -> None:
        """Start, restart and stop followers so that exactly the planned ones run."""
        wanted: dict[tuple[str, str], ConsumerPlan] = {}
        for source in self._sources:
            for plan in source():
                wanted[(plan.tenant_id, plan.name)] = plan
        with self._lock:
            current = dict(self._running)
        for name, item in current.items():
            kept = wanted.get(name)
            if kept is None or kept.key != item.plan.key or not item.thread.is_alive():
                self._stop_one(name)
        for name, plan in wanted.items():
            if self._stopping.is_set():
                return
            with self._lock:
                if name in self._running:
                    continue
            try:
                self._start_one(plan)
            except Exception:
                log.exception("follower pool: could not start %s/%s", *name)

    def _start_one(self, plan: ConsumerPlan) -> None:
        consumer = plan.build()
        follower = self._factory(
            plan.tenant_id, plan.name, consumer, owner=self.owner, **plan.options
        )
        thread = threading.Thread(
            target=follower.run,
            name=f"sealtrail-follower-{plan.tenant_id}-{plan.name}",
            daemon=True,
        )
        with self._lock:
            self._running[(plan.tenant_id, plan.name)] = _Running(plan, follower, consumer, thread)
        thread.start()

    def _stop_one(self, name: tuple[str, str]) -> None:
        with self._lock:
            item = self._running.pop(name, None)
        if item is not None:
            item.follower.stop()
            self._finish(name, item)

    def _finish(self, name: tuple[str, str], item: _Running) -> None:
        item.thread.join(self._join)
        if item.thread.is_alive():
            log.warning("follower %s/%s did not stop within %.0f s", *name, self._join)
        close = getattr(item.consumer, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("follower %s/%s: closing its consumer failed", *name)
