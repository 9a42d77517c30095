"""What a transport reports after one attempt: delivered, or why not and whether to retry.

The follower that drives deliveries (next) decides when to try again; a transport only
says whether trying again can help and, when the receiver said so, after how long.
Standard Webhooks' status handling: 2xx is success; 410 Gone asks the sender to stop
(``gone``); 408, 425, 429 and 5xx are worth retrying, honouring ``Retry-After``; other
4xx and 3xx (redirects are not followed) fail the same way each time, so they are not
retried but shown as the stream's error. Network errors and timeouts are retried; a TLS
certificate the client refuses is a configuration error and is not.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = ["DeliveryResult", "parse_retry_after", "result_for_status"]

_RETRYABLE_4XX: Final = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """One attempt's outcome. ``retry_after`` is in seconds, as the receiver asked."""

    delivered: bool
    retryable: bool = False
    status: int | None = None
    retry_after: float | None = None
    error: str | None = None
    gone: bool = False
    seconds: float = 0.0

    @classmethod
    def ok(cls, *, status: int | None = None, seconds: float = 0.0) -> DeliveryResult:
        return cls(True, status=status, seconds=seconds)

    @classmethod
    def failed(cls, error: str, *, retryable: bool, seconds: float = 0.0) -> DeliveryResult:
        return cls(False, retryable=retryable, error=error, seconds=seconds)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 ``Retry-After``: delay-seconds or an HTTP-date; None when absent or bad.

    A date in the past means "now" (0.0).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def result_for_status(
    status: int,
    *,
    retry_after: str | None = None,
    seconds: float = 0.0,
    now: datetime | None = None,
) -> DeliveryResult:
    """Classify an HTTP response status (see the module docstring)."""
    if 200 <= status < 300:
        return DeliveryResult.ok(status=status, seconds=seconds)
    if status == 410:
        return DeliveryResult(
            False,
            status=status,
            error="410 Gone: the receiver asked to stop",
            gone=True,
            seconds=seconds,
        )
    retryable = status >= 500 or status in _RETRYABLE_4XX
    return DeliveryResult(
        False,
        retryable=retryable,
        status=status,
        retry_after=parse_retry_after(retry_after, now) if retryable else None,
        error=f"HTTP {status}",
        seconds=seconds,
    )
