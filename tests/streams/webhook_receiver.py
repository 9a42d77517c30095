"""A local HTTPS webhook receiver (http.server + ssl, self-signed cert) for the tests.

It records every request and answers with the queued ``replies`` (then 204).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.streams.tls import CertFiles, make_cert


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    cert: CertFiles
    received: list[Received] = field(default_factory=list)
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hold: threading.Event | None = None


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    cert = make_cert(tmp_path)
    state = Receiver("", cert)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            if state.hold is not None:
                state.hold.wait(10)
            status, headers = state.replies.pop(0) if state.replies else (204, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = cert.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"https://localhost:{server.server_address[1]}/hooks/sealtrail"
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
