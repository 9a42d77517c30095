"""kill -9 at any moment loses and skips nothing: follower processes on one consumer,
killed and restarted while events arrive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sealtrail.store.base import EventStore

from .conftest import add_events

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 3000


def _spawn(url: str, out: Path, owner: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.follower.crash_worker", url, str(out), owner],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_followers_lose_and_skip_nothing(
    store: EventStore, store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "received.txt"
    store.add_consumer("acme", "c", 0, 0)
    workers = {name: _spawn(store_url, out, name) for name in ("w1", "w2")}
    kills = 0
    try:
        for chunk in range(TOTAL // 300):
            add_events(store, 300)
            if chunk % 3 == 1:
                # Kill whoever holds the lease (a live process), and start a fresh one.
                def live_holder() -> bool:
                    state = store.get_consumer("acme", "c")
                    owner = None if state is None else state.lease_owner
                    return owner is not None and workers[owner].poll() is None

                _wait_for(live_holder, 120, "a live lease holder")  # a loaded machine starts slowly
                state = store.get_consumer("acme", "c")
                assert state is not None and state.lease_owner is not None
                victim = state.lease_owner
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                replacement = f"{victim}.{kills}"
                workers[replacement] = _spawn(store_url, out, replacement)
        _wait_for(
            lambda: (s := store.get_consumer("acme", "c")) is not None and s.next_seq == TOTAL,
            120,
            "every event delivered",
        )
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(10)
    assert kills == 3
    lines = [line.split() for line in out.read_text().splitlines()]
    first_seen: dict[str, int] = {}
    for seq, ident in lines:
        first_seen.setdefault(ident, int(seq))
    firsts = list(first_seen.values())
    assert firsts == list(range(TOTAL)), "missing, skipped or out of order"
    assert {ident for _, ident in lines} == {f"e{i}" for i in range(TOTAL)}
