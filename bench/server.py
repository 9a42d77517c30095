"""A real ``sealtrail serve`` in a subprocess, on a free port, with a tenant and a key."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from sealtrail.audit_log import AuditLog
from sealtrail.limits import MAX_RATE
from sealtrail.settings import Settings


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    api_key: str
    tenant_id: str
    database_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far: a figure that,
        unlike a rate, does not depend on what else the shared machine is running."""
        return cpu_seconds(self.pid)

    def follower_pids(self) -> list[int]:
        """The server's ``sealtrail follow`` children (``followers = "process"``, the
        default): where stream delivery and detections run."""
        return follower_pids(self.pid)

    def follower_cpu_seconds(self) -> float:
        """CPU time the server's follower children have used so far (0 with none)."""
        return sum(cpu_seconds(pid) for pid in self.follower_pids())


def follower_pids(pid: int) -> list[int]:
    """Children of ``pid`` running ``sealtrail follow`` (any of its threads may have
    started them: /proc/PID/task/TID/children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"follow" in command:
                found.append(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process, from ``/proc/<pid>/stat``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the command name: state is field 3; utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_FOLLOWING: Final = re.compile(r"sealtrail follow \(pid \d+\): (streams|detections)")

UNLIMITED: Final = (
    "rate_limit_key_writes",
    "rate_limit_tenant_writes",
    "rate_limit_key_reads",
    "rate_limit_tenant_reads",
)
"""Throughput benchmarks count every request against limits (``MAX_RATE``) too high to
refuse any: the limiter's work is in their figures, its refusals are not
(bench/ratelimit_load.py measures those)."""


def settings_for(directory: Path) -> Settings:
    """Settings for a fresh SQLite database and signing key inside ``directory``."""
    return Settings(
        database_url=f"sqlite:///{directory / 'sealtrail.db'}",
        signing_key_file=str(directory / "signing.key"),
        rate_limit_key_writes=MAX_RATE,
        rate_limit_tenant_writes=MAX_RATE,
        rate_limit_key_reads=MAX_RATE,
        rate_limit_tenant_reads=MAX_RATE,
    )


def prepare(settings: Settings, tenant_id: str, scopes: str = "events:write,events:read") -> str:
    """Migrate, create the tenant and return a new API key for it."""
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()
        log.create_tenant(tenant_id)
        return log.create_api_key(tenant_id, scopes, name="bench").plain
    finally:
        log.close()


@contextlib.contextmanager
def serve(
    directory: Path,
    tenant_id: str = "bench",
    *,
    timeout: float = 60,
    scopes: str = "events:write,events:read",
    extra_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Run ``sealtrail serve`` on a fresh SQLite database in ``directory`` until the block ends."""
    settings = settings_for(directory)
    api_key = prepare(settings, tenant_id, scopes)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env["SEALTRAIL_SIGNING_KEY_FILE"] = settings.signing_key_file
    env.update({Settings.env_name(name): str(MAX_RATE) for name in UNLIMITED})
    env.update(extra_env or {})
    log_path = directory / "server.log"
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sealtrail",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database",
                settings.database_url,
            ],
            cwd=directory,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, url, timeout, log_path)
            yield LiveServer(url, api_key, tenant_id, settings.database_url, process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sealtrail serve exited early:\n{log.read_text()[-2000:]}")
        try:
            ready = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            ready = False
        # The follower child (the default deployment) too: its start-up is not measured.
        if ready and (
            _FOLLOWING.search(log.read_text()) or "started sealtrail" not in log.read_text()
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"sealtrail serve was not ready within {timeout} s")
