"""HTTPS webhooks: POST a body signed per Standard Webhooks, report a ``DeliveryResult``.

The transport knows nothing of formats: it gets the exact body bytes, their media type
and the delivery's ``webhook-id`` (the same on every retry, so receivers deduplicate).
Redirects are not followed; timeouts default to 5 s to connect and 15 s in all
(Standard Webhooks suggests receivers answer within 15–30 s).

With a ``DestinationGuard`` the host is resolved before each POST, every address is
checked, and the request goes to a checked address (the URL's host kept for ``Host``, TLS
SNI and certificate verification), so DNS cannot point it elsewhere after the check.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

import httpx

import sealtrail
from sealtrail.errors import ConfigurationError, DestinationRefused
from sealtrail.streams.delivery import DeliveryResult, result_for_status
from sealtrail.streams.guard import DestinationGuard
from sealtrail.streams.signing import WebhookSigner

__all__ = ["DEFAULT_TIMEOUT", "WebhookTransport"]

DEFAULT_TIMEOUT: Final = httpx.Timeout(15.0, connect=5.0)


class WebhookTransport:
    """One webhook destination. Not thread-safe; one follower owns it."""

    def __init__(
        self,
        url: str,
        signer: WebhookSigner,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        verify: ssl.SSLContext | bool = True,
        allow_http: bool = False,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        guard: DestinationGuard | None = None,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme != "https" and not (allow_http and parsed.scheme == "http"):
            raise ConfigurationError(f"a webhook URL must be https://, not {url!r}")
        self.url = url
        self._parsed = parsed
        self._guard = guard
        self.signer = signer
        self._clock = clock
        self._client = httpx.Client(
            timeout=timeout,
            verify=verify,
            follow_redirects=False,
            transport=transport,
            headers={"user-agent": f"Sealtrail/{sealtrail.__version__} (webhooks)"},
        )

    def send(self, body: bytes, *, msg_id: str, content_type: str) -> DeliveryResult:
        """POST ``body`` once and classify what happened."""
        timestamp = int(self._clock())
        headers = {"content-type": content_type, **self.signer.headers(msg_id, timestamp, body)}
        started = time.monotonic()
        try:
            response = self._post(body, headers)
        except DestinationRefused as exc:
            return DeliveryResult.failed(exc.message, retryable=False, seconds=_since(started))
        except OSError as exc:  # the name did not resolve
            return DeliveryResult.failed(
                f"{type(exc).__name__}: {exc}", retryable=True, seconds=_since(started)
            )
        except httpx.TimeoutException as exc:
            return DeliveryResult.failed(
                f"timed out: {type(exc).__name__}", retryable=True, seconds=_since(started)
            )
        except httpx.TransportError as exc:
            return DeliveryResult.failed(
                f"{type(exc).__name__}: {exc}",
                retryable=not _certificate_refused(exc),
                seconds=_since(started),
            )
        return result_for_status(
            response.status_code,
            retry_after=response.headers.get("retry-after"),
            seconds=_since(started),
        )

    def _post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        if self._guard is None:
            return self._client.post(self.url, content=body, headers=headers)
        url = self._parsed
        port = url.port or 443
        addresses = self._guard.addresses(url.host, port, "destination.url")
        host = url.netloc.decode("ascii")
        for n, address in enumerate(addresses):
            try:
                return self._client.post(
                    url.copy_with(host=address),
                    content=body,
                    headers={**headers, "host": host},
                    extensions={"sni_hostname": url.host},
                )
            except httpx.ConnectError:
                if n == len(addresses) - 1:
                    raise
        raise AssertionError("unreachable: addresses is never empty")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _since(started: float) -> float:
    return time.monotonic() - started


def _certificate_refused(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
