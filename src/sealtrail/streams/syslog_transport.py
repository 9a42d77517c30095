"""Syslog over TCP or TLS (RFC 5425): octet-counted frames on one kept-open connection.

TCP syslog has no acknowledgement: a message counts as sent once the kernel took it.
A syslog server never writes to its clients (TLS 1.3 session tickets aside, which are
read and dropped), so a connection that has reached its end was closed by the server (a
restart, an idle timeout): it is replaced before the next batch instead of swallowing it.
A connection found closed right after a batch was written, or that breaks while it is
written, fails the attempt; the follower resends the batch (at least once; receivers deduplicate
by the ``id`` in each message's structured data).
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Sequence
from types import TracebackType

from sealtrail.errors import DestinationRefused
from sealtrail.streams.delivery import DeliveryResult
from sealtrail.streams.guard import DestinationGuard
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
        guard: DestinationGuard | None = None,
    ) -> None:
        self.host = host
        self._guard = guard
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
            if self._sock is not None and _closed_by_peer(self._sock, self._timeout):
                self.close()
            sock = self._sock or self._connect()
            sock.sendall(data)
            if _closed_by_peer(sock, self._timeout):  # also drains what TLS sent meanwhile
                raise ConnectionResetError("the syslog server closed the connection")
        except DestinationRefused as exc:
            self.close()
            return DeliveryResult.failed(
                exc.message, retryable=False, seconds=time.monotonic() - started
            )
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
        sock = self._open_socket()
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_hostname)
            except BaseException:
                sock.close()
                raise
        self._sock = sock
        return sock

    def _open_socket(self) -> socket.socket:
        """A TCP connection; with a guard, to one of the addresses it resolved and checked
        (so DNS cannot point the connection elsewhere after the check)."""
        if self._guard is None:
            return socket.create_connection((self.host, self.port), timeout=self._timeout)
        addresses = self._guard.addresses(self.host, self.port, "destination.host")
        for n, address in enumerate(addresses):
            try:
                return socket.create_connection((address, self.port), timeout=self._timeout)
            except OSError:
                if n == len(addresses) - 1:
                    raise
        raise AssertionError("unreachable: addresses is never empty")

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


def _closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True when the server has closed (or reset) the connection.

    A syslog server sends no data, but a readable socket is not always a closed one: a
    TLS 1.3 server sends session tickets after the handshake. Those are read here (and
    dropped), so the connection is not taken for closed — and, above all, no unread
    bytes are left in it, because closing a socket with unread input makes the kernel
    reset the connection and throw away what it had not yet sent (a batch we counted as
    sent).
    """
    readable, _, errored = select.select([sock], [], [sock], 0)
    if errored:
        return True
    if not readable:
        return False
    sock.settimeout(0)
    try:
        while True:
            if sock.recv(4096) == b"":
                return True  # end of stream: the server closed the connection
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return False  # drained: only TLS records (or stray bytes) were waiting
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)
