"""Background delivery in a serving process: a ``FollowerPool`` over the ``AuditLog``.

``start_followers`` is what the server's lifespan runs (unless ``stream_delivery`` is
off). It makes one pool per process, plugs in the stream deliveries
(``AuditLog.stream_plans``), wakes a tenant's followers after each append in this
process, and re-reads what should run whenever a stream changes here (and every few
seconds for changes made by other processes). Every worker runs a pool; each
consumer's lease in the database lets exactly one of them deliver it at a time.

More background work plugs in the same way: hand ``add_source`` any callable returning
``follower_pool.ConsumerPlan``s, e.g. ``pool.add_source(audit_log.detection_plans)``.

A process that only follows (``sealtrail follow``) sees no appends of its own to wake its
stream followers with; ``HeadWatch`` reads the logs' sizes instead, at the streams' pace.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

from sealtrail.audit_log import AuditLog
from sealtrail.follower_pool import FollowerPool, Source
from sealtrail.limits import STREAM_PACE
from sealtrail.settings import Settings

__all__ = ["HeadWatch", "follow", "process_owner", "start_detections", "start_followers"]

log = logging.getLogger(__name__)


def process_owner() -> str:
    """This process's name in a lease: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def start_followers(
    audit_log: AuditLog, *sources: Source, poll_seconds: float = 2.0
) -> FollowerPool:
    """Run the stream deliveries (and any other ``sources``) until ``pool.stop()``."""
    pool = FollowerPool(audit_log.follower, owner=process_owner(), poll_seconds=poll_seconds)
    audit_log.add_listener("appended", pool.nudge)
    audit_log.add_listener("streams", pool.refresh)
    pool.add_source(audit_log.stream_plans)
    for source in sources:
        pool.add_source(source)
    pool.start()
    return pool


def start_detections(audit_log: AuditLog, *, poll_seconds: float = 2.0) -> FollowerPool:
    """Run every tenant's detection consumer (``AuditLog.detection_plans``) until
    ``pool.stop()``.

    A pool of its own, not woken by each append: a detection follower reads what arrived
    every half second (its idle poll), up to 500 events at a time, rather than a few
    events after every request. Fewer, larger batches keep its share of the process and
    of the database's writer small; an alert still shows within about a second.
    """
    pool = FollowerPool(audit_log.follower, owner=process_owner(), poll_seconds=poll_seconds)
    pool.add_source(audit_log.detection_plans)
    pool.start()
    return pool


class HeadWatch:
    """Nudges a pool's followers when their tenant's log grew in another process.

    ``check()`` (called every ``STREAM_PACE`` by ``sealtrail follow``) reads the size of
    each log a follower of the pool works on — one small read per tenant — and wakes the
    tenant's followers when it changed. A follower that is not woken still finds new
    events at its idle poll (half a second); this takes that wait off the streams'
    latency without a write (an idle step renews the consumer's lease).
    """

    def __init__(self, audit_log: AuditLog, pool: FollowerPool) -> None:
        self._audit_log = audit_log
        self._pool = pool
        self._sizes: dict[str, int] = {}

    def check(self) -> None:
        tenants = {tenant for tenant, _ in self._pool.running()}
        for tenant in tenants:
            size = self._audit_log.tree_size(tenant)
            if self._sizes.get(tenant) != size:
                self._sizes[tenant] = size
                self._pool.nudge(tenant)
        for gone in self._sizes.keys() - tenants:
            del self._sizes[gone]


def follow(
    audit_log: AuditLog,
    settings: Settings,
    stopping: threading.Event,
    *,
    parent: int | None = None,
) -> bool:
    """What ``sealtrail follow`` runs: the followers ``settings`` turn on (stream delivery,
    detections), the streams woken by a ``HeadWatch``, until ``stopping`` is set — or,
    given the ``parent`` pid, until that process is gone (a ``serve`` killed with
    SIGKILL), which it returns False for. The followers finish the batches in hand."""
    streams = start_followers(audit_log) if settings.stream_delivery else None
    detecting = start_detections(audit_log) if settings.detections else None
    watch = HeadWatch(audit_log, streams) if streams is not None else None
    failing: str | None = None
    try:
        while not stopping.wait(STREAM_PACE):
            if parent is not None and os.getppid() != parent:
                return False
            if watch is None:
                continue
            try:
                watch.check()
                failing = None
            except Exception as exc:  # the database restarting: said once, not every poll
                if str(exc) != failing:
                    log.warning("could not read the logs' sizes: %s", exc)
                failing = str(exc)
        return True
    finally:
        for pool in (streams, detecting):
            if pool is not None:
                pool.stop()
