"""A follower process for the crash test: ``python -m tests.follower.crash_worker URL OUT OWNER``.

Its consumer appends each event's ``seq id`` to OUT and fsyncs before answering, so what
the file holds was "received" even when the process is killed right after.
"""

from __future__ import annotations

import os
import sys

from sealtrail.follower import Follower, LogBatch, Outcome
from sealtrail.store import open_store


def main(url: str, out: str, owner: str) -> None:
    store = open_store(url)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def consumer(batch: LogBatch) -> Outcome:
        os.write(fd, "".join(f"{e.seq} {e.id}\n" for e in batch.events).encode())
        os.fsync(fd)
        return Outcome.success()

    follower = Follower(
        store, "acme", "c", consumer, owner=owner, batch_size=50,
        lease_seconds=1.0, idle_seconds=0.02,
    )  # fmt: skip
    follower.run(max_wait=0.05)


if __name__ == "__main__":
    main(*sys.argv[1:4])
