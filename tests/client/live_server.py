"""A real ``sealtrail serve`` subprocess on a temporary SQLite database, for SDK tests."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx

SEALTRAIL = Path(sys.executable).with_name("sealtrail")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def missing_cli() -> str | None:
    """Why ``sealtrail serve`` cannot be used here, or None."""
    if not SEALTRAIL.exists():
        return f"no {SEALTRAIL}"
    done = subprocess.run(
        [SEALTRAIL, "serve", "--help"], capture_output=True, text=True, check=False
    )
    return None if done.returncode == 0 else f"`sealtrail serve` is not available: {done.stderr}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer:
    """``sealtrail serve`` on one port and database; ``kill()`` is SIGKILL, ``start()`` again."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        self.workdir = workdir
        self.database = f"sqlite:///{workdir / 'sealtrail.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")
        }
        self.env["SEALTRAIL_SIGNING_KEY_FILE"] = str(workdir / "signing.key")
        # No background detections unless a test asks: their alert events would join
        # the logs these tests count exactly (tests/detections turns them on).
        self.env["SEALTRAIL_DETECTIONS"] = "false"
        self.env.update({f"SEALTRAIL_{name.upper()}": value for name, value in settings.items()})
        self.log_path = workdir / "serve.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [SEALTRAIL, *args, "--database", self.database],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.workdir,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"sealtrail {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def create_key(self, tenant: str) -> str:
        self.cli("migrate")
        self.cli("tenants", "create", tenant, "--json")
        created = json.loads(
            self.cli(
                "keys",
                "create",
                "--tenant",
                tenant,
                "--scopes",
                "events:write,events:read",
                "--json",
            )
        )
        key: str = created["key"]
        return key

    def start(self, timeout: float = 60) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                SEALTRAIL,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database",
                self.database,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
        )
        wait_until(self._ready, timeout, f"{self.url}/readyz (log: {self.log_path})")

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def follow_pids(self) -> list[int]:
        """The pids of the ``sealtrail follow`` children this server started, in order
        (its log says ``started sealtrail follow (pid N)`` for each)."""
        text = self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""
        return [int(pid) for pid in re.findall(r"started sealtrail follow \(pid (\d+)\)", text)]

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        assert self._process is not None, "not started"
        self._process.send_signal(signal.SIGTERM)
        status = self._process.wait(timeout)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return status

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; whatever was in flight is cut off."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"sealtrail serve exited: {self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def event_ids(self, key: str) -> Iterator[str]:
        """Every stored event id, paging ``GET /v1/events`` by cursor, 200 at a time;
        Sealtrail's own records (``audit_log.*``, such as the key's creation) left out."""
        params: dict[str, str | int] = {
            "limit": 200,
            "order": "asc",
            "phrase": "-action:audit_log.*",
        }
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}) as http:
            while True:
                response = http.get("/v1/events", params=params, timeout=30)
                response.raise_for_status()
                page = response.json()
                yield from (event["id"] for event in page["events"])
                if not page.get("next_cursor"):
                    return
                params["cursor"] = page["next_cursor"]
