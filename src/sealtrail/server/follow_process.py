"""``sealtrail serve``'s follower child: one ``sealtrail follow`` process, supervised.

With ``followers = "process"`` (the default) the API processes run no followers: stream
delivery and detections run in a child process of their own, so encoding, signing and
posting batches and evaluating rules do not take the GIL from request handling. The
child is started with ``serve``, started again when it dies (after a second, longer
when it keeps dying at once), and stopped (SIGTERM, then SIGKILL after ``stop_seconds``)
when ``serve`` stops. It watches for its parent too (``--parent``): a ``serve`` killed
with SIGKILL leaves no follower behind for longer than a second. Nothing is lost either
way: the followers' cursors and leases are in the database, so a restarted child goes
on from each consumer's cursor, and a batch cut off mid-delivery is delivered again.

The child runs in a session of its own, so a Ctrl-C at the terminal reaches ``serve``
alone, which then stops the child in order. It writes to ``serve``'s stderr.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

__all__ = ["FollowProcess", "follow_command"]

QUICK_EXIT: Final = 60.0
"""A child that dies sooner than this after starting waits longer before the next start."""


def follow_command() -> list[str]:
    """``sealtrail follow`` run by this interpreter (the settings go by environment)."""
    return [sys.executable, "-m", "sealtrail", "follow"]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class FollowProcess:
    """Keeps one ``command --parent <our pid>`` child running until ``stop()``."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
        stop_seconds: float = 30.0,
        announce: Callable[[str], None] = _to_stderr,
    ) -> None:
        self._command = [*command, "--parent", str(os.getpid())]
        self._env = env
        self._restart_delay = restart_delay
        self._max_restart_delay = max_restart_delay
        self._stop_seconds = stop_seconds
        self._announce = announce
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The running child's pid, if one runs."""
        with self._lock:
            return None if self._process is None else self._process.pid

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._supervise, name="sealtrail-follow-process", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop supervising, then stop the child: SIGTERM, SIGKILL if it lingers."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self._stop_seconds)
            except subprocess.TimeoutExpired:
                self._announce(
                    f"sealtrail follow (pid {process.pid}) did not stop within "
                    f"{self._stop_seconds:.0f} s; killing it"
                )
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(self._stop_seconds)

    def _supervise(self) -> None:
        delay = 0.0
        quick_exits = 0
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    process = subprocess.Popen(  # noqa: S603 (our own interpreter and CLI)
                        self._command, env=self._env, start_new_session=True
                    )
                except OSError as exc:
                    process = None
                    delay = self._max_restart_delay
                    self._announce(f"could not start sealtrail follow: {exc}")
                self._process = process
            if process is not None:
                self.starts += 1
                self._announce(f"started sealtrail follow (pid {process.pid})")
                started = time.monotonic()
                status = process.wait()
                with self._lock:
                    self._process = None
                if self._stopping.is_set():
                    return
                quick_exits = quick_exits + 1 if time.monotonic() - started < QUICK_EXIT else 1
                delay = min(
                    self._max_restart_delay, self._restart_delay * 2 ** min(quick_exits - 1, 10)
                )
                self._announce(
                    f"sealtrail follow (pid {process.pid}) exited with status {status};"
                    f" starting it again in {delay:.0f} s"
                )
            self._stopping.wait(delay)
