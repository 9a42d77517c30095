"""A real rsyslogd on a free loopback port, writing what it parsed to a file.

Without ``/usr/sbin/rsyslogd`` (and the gtls driver for TLS) the tests that need it skip
with the reason, except under ``CI=true``, where they fail: ``.ci/run`` installs Debian's
``rsyslog`` and ``rsyslog-gnutls``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.streams.tls import CertFiles

RSYSLOGD = Path("/usr/sbin/rsyslogd")

# One line per message: what rsyslog's RFC 5424 parser made of it, as JSON.
_CONFIG = """
global(workDirectory="{work}" maxMessageSize="64k"
       parser.escapeControlCharactersOnReceive="off"{tls_global})
module(load="imtcp"{tls_module})
module(load="mmpstrucdata")
template(name="parsed" type="list" option.jsonf="on") {{
  property(outname="pri" name="pri" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="$!rfc5424-sd" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="streams") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out}" template="parsed")
}}
input(type="imtcp" port="{port}" ruleset="streams")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _missing(tls: bool) -> str | None:
    if not RSYSLOGD.exists():
        return f"{RSYSLOGD} is not installed (Debian's rsyslog)"
    if tls and not any(Path("/usr/lib").glob("*/rsyslog/lmnsd_gtls.so")):
        return "rsyslog's gtls driver is not installed (Debian's rsyslog-gnutls)"
    return None


@dataclass
class Rsyslog:
    port: int
    out: Path
    process: subprocess.Popen[bytes]
    log: Path

    def records(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The first ``count`` parsed messages, waiting for rsyslog to write them."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.out.read_text("utf-8").splitlines() if self.out.exists() else []
            if len(lines) >= count:
                records = [json.loads(line) for line in lines[:count]]
                for record in records:  # mmpstrucdata's tree, which the template writes as text
                    record["sd"] = json.loads(record["sd"]) if record["sd"] else {}
                return records
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"rsyslog wrote {len(lines)} of {count} messages; its log:\n"
                    + self.log.read_text(errors="replace")
                )
            time.sleep(0.02)


def start_rsyslog(work: Path, tls: CertFiles | None = None) -> Iterator[Rsyslog]:
    reason = _missing(tls is not None)
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the rsyslog tests, but {reason}")
        pytest.skip(f"rsyslog tests skipped: {reason}")
    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    tls_global = tls_module = ""
    if tls is not None:
        tls_global = (
            f' defaultNetstreamDriverCAFile="{tls.cert}"'
            f' defaultNetstreamDriverCertFile="{tls.cert}"'
            f' defaultNetstreamDriverKeyFile="{tls.key}"'
        )
        tls_module = ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"'
    config = work / "rsyslog.conf"
    out = work / "out.jsonl"
    config.write_text(
        _CONFIG.format(work=work, out=out, port=port, tls_global=tls_global, tls_module=tls_module)
    )
    log = work / "rsyslogd.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(RSYSLOGD), "-n", "-f", str(config), "-i", str(work / "rsyslogd.pid")],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("rsyslogd did not listen:\n" + log.read_text()) from None
                time.sleep(0.02)
        yield Rsyslog(port, out, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
