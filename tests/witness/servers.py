"""Real ``sealtrail witness serve`` processes on free loopback ports."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import IO

import httpx

from tests.client.live_server import SEALTRAIL, free_port, wait_until


class WitnessServer:
    def __init__(self, workdir: Path, name: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.name = name
        self.state = workdir / "witness.db"
        self.key = workdir / "witness.key"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.vkey = self.cli("init", "--name", name).strip()

    def cli(self, *args: str) -> str:
        keyed = ["--key", str(self.key)] if args[0] in ("init", "serve") else []
        done = subprocess.run(
            [str(SEALTRAIL), "witness", *args, "--state", str(self.state), *keyed],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"sealtrail witness {args} failed: {done.stderr}")
        out: str = done.stdout
        return out

    def trust(self, origin: str, vkey: str) -> None:
        self.cli("add-log", "--origin", origin, "--vkey", vkey)

    def start(self) -> None:
        self._log = (self.workdir / "serve.log").open("ab")
        self._process = subprocess.Popen(
            [
                SEALTRAIL,
                "witness",
                "serve",
                "--port",
                str(self.port),
                "--state",
                str(self.state),
                "--key",
                str(self.key),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        wait_until(self._up, 60, f"witness {self.name} on {self.url}")

    def _up(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            log = (self.workdir / "serve.log").read_text()[-2000:]
            raise AssertionError(f"witness serve exited: {log}")
        try:
            return httpx.get(f"{self.url}/{'0' * 64}/checkpoint", timeout=2).status_code == 404
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=30)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def add_checkpoint(self, body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/add-checkpoint", content=body, timeout=30)
