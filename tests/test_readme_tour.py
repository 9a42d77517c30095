"""The README's five-minute tour, run as a newcomer runs it: its shell blocks verbatim.

``make run`` starts the demo (its port, database and key file moved to a temporary
place through the environment); the tour's block runs in bash with the
``export SEALTRAIL_API_KEY=…`` line the demo printed; "Running your own" runs in
an empty folder until its server answers. Only ``localhost:8000`` and
``--port 8000`` are rewritten, to free ports. Every curl reports its status, and
any status but 2xx, any failing command and any "command not found" fails the test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VENV = Path(sys.prefix)

pytestmark = pytest.mark.slow

# Each curl writes its HTTP status to stderr; the commands themselves stay as written.
CURL_STATUS = "curl() { command curl -w '%{stderr}HTTP-STATUS %{http_code}\\n' \"$@\"; }\n"


def tour_blocks() -> list[str]:
    text = README.read_text()
    tour = text[text.index("## A five-minute tour") : text.index("\n## ", text.index("## A five"))]
    return re.findall(r"```sh\n(.*?)```", tour, flags=re.DOTALL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env.pop("VIRTUAL_ENV", None)
    return env


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited {process.returncode} before serving:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling interval, not a guessed duration
    pytest.fail(f"no answer on port {port} after {timeout} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _start(script: str, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            ["bash", "-c", script],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _with_port(block: str, port: int) -> str:
    return block.replace("localhost:8000", f"localhost:{port}").replace(
        "--port 8000", f"--port {port}"
    )


def _workdir(tmp_path: Path, name: str) -> Path:
    """An empty folder beside a checkout's ``.venv``, as the tour assumes."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)
    return folder


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """``make run``, verbatim, on a free port; yields the port and the export line it printed."""
    [make_run] = [b for b in tour_blocks() if b.strip() == "make run"]
    port = _free_port()
    env = {
        **_clean_environment(),
        "SEALTRAIL_PORT": str(port),
        "SEALTRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "SEALTRAIL_SIGNING_KEY_FILE": str(tmp_path / "demo.key"),
    }
    log = tmp_path / "make-run.log"
    process = _start(make_run, ROOT, env, log)
    try:
        _wait_ready(port, process, log, timeout=600)
        [export] = re.findall(r"^\s*(export SEALTRAIL_API_KEY=\S+)$", log.read_text(), re.M)
        yield port, export
    finally:
        _stop(process)


def _check_output(output: str, returncode: int, curls: int) -> None:
    assert "command not found" not in output, output
    assert returncode == 0, output
    statuses = re.findall(r"HTTP-STATUS (\d{3})", output)
    assert len(statuses) == curls, output
    assert all(s.startswith("2") for s in statuses), output


def test_the_tour_runs_against_make_run(demo: tuple[int, str], tmp_path: Path) -> None:
    port, export = demo
    [tour] = [b for b in tour_blocks() if "curl" in b]
    script = f"set -eo pipefail\n{CURL_STATUS}{export}\n{_with_port(tour, port)}"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=_workdir(tmp_path, "tour"),
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    _check_output(output, done.returncode, tour.count("curl -"))
    assert re.search(r"OK: \d+ events and \d+ checkpoints? checked", done.stdout), output


def test_running_your_own_serves(tmp_path: Path) -> None:
    [own] = [b for b in tour_blocks() if "sealtrail serve" in b]
    port = _free_port()
    log = tmp_path / "own.log"
    process = _start(
        f"set -e\n{_with_port(own, port)}", _workdir(tmp_path, "own"), _clean_environment(), log
    )
    try:
        _wait_ready(port, process, log, timeout=300)
    finally:
        _stop(process)
    output = log.read_text()
    assert "command not found" not in output, output
    assert "created tenant acme" in output, output
