"""The server's pruning chore: ``AuditLog.prune`` every ``prune_interval`` seconds.

One daemon thread per process, started and stopped by the app's lifespan. When
several processes serve one database, each tenant's prune lease (a log
consumer named ``retention:prune``) lets one of them prune it at a time; the
others skip it that round. With ``prune_interval = 0`` the server never prunes
(``sealtrail prune`` from cron does it instead).
"""

from __future__ import annotations

import logging
import threading

from sealtrail.audit_log import AuditLog

log = logging.getLogger(__name__)


class ScheduledPruning:
    """Prune on a schedule until stopped; the first run comes one interval after start."""

    def __init__(self, audit_log: AuditLog, interval: float) -> None:
        self._log = audit_log
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="sealtrail-pruning", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                report = self._log.prune()
            except Exception:  # a background chore: log it, never take the server down
                log.exception("scheduled pruning failed; it runs again in %ss", self._interval)
                continue
            self.runs += 1
            for found in report.tenants:
                if found.events or found.skipped:
                    log.info("pruning: %s", found.summary())
