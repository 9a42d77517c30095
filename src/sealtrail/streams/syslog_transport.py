"""Syslog over TCP or TLS (RFC 5425): octet-counted frames on one kept-open connection.

TCP syslog has no acknowledgement: a message counts as sent once the kernel took it.
A syslog server never writes to its clients, so a connection that has become readable
was closed by the server (a restart, an idle timeout): it is replaced before the next
batch instead of swallowing it. A connection that breaks while a batch is being written
fails the attempt; the follower resends the batch (at least once; receivers deduplicate
by the ``id`` in each message's structured data).
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Sequence
from types import TracebackType

from sealtrail.streams.delivery import DeliveryResult
from sealtrail.streams.syslog import frame

__all__ = ["SyslogTransport"]


class SyslogTransport:
    """One syslog destination; ``tls`` is the client context for RFC 5425 (None: plain TCP)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._tls = tls
        self._server_hostname = server_hostname or host
        self._timeout = timeout
        self._sock: socket.socket | None = None

    def send(self, messages: Sequence[bytes]) -> DeliveryResult:
        """Write every message, framed, in order; reconnect first if the last write failed."""
        started = time.monotonic()
        data = b"".join(frame(m) for m in messages)
        try:
            if self._sock is not None and _closed_by_peer(self._sock):
                self.close()
            sock = self._sock or self._connect()
            sock.sendall(data)
        except ssl.SSLCertVerificationError as exc:
            self.close()
            return DeliveryResult.failed(
                f"TLS certificate refused: {exc.verify_message}",
                retryable=False,
                seconds=time.monotonic() - started,
            )
        except OSError as exc:
            self.close()
            return DeliveryResult.failed(
                f"{type(exc).__name__}: {exc}", retryable=True, seconds=time.monotonic() - started
            )
        return DeliveryResult.ok(seconds=time.monotonic() - started)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self._timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_hostname)
            except BaseException:
                sock.close()
                raise
        self._sock = sock
        return sock

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    def __enter__(self) -> SyslogTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the server has closed (or reset) the connection: it never sends data."""
    readable, _, errored = select.select([sock], [], [sock], 0)
    return bool(readable or errored)
