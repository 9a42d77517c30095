"""The CLI through its entry point, as a subprocess, like an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Cli:
    cwd: Path
    database: str
    # Local receivers (127.0.0.1) are private destinations: allowed here, refused by default.
    env: dict[str, str] = field(
        default_factory=lambda: {"SEALTRAIL_STREAM_ALLOW_PRIVATE_DESTINATIONS": "true"}
    )

    def run(
        self, *args: str, stdin: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        env = {
            **os.environ,
            "SEALTRAIL_DATABASE_URL": self.database,
            "SEALTRAIL_SIGNING_KEY_FILE": str(self.cwd / "signing.key"),
            **self.env,
        }
        result = subprocess.run(
            [sys.executable, "-m", "sealtrail", *args],
            cwd=self.cwd,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{args} exited {result.returncode}: {result.stderr.decode()}")
        return result

    def json(self, *args: str, stdin: bytes | None = None) -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    runner.run("migrate")
    runner.run("tenants", "create", "acme", "--name", "Acme Inc")
    return runner
