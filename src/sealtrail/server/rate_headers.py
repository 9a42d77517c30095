"""The ``RateLimit`` and ``RateLimit-Policy`` fields (draft-ietf-httpapi-ratelimit-headers-11).

``AuditLog`` charges each API-key request against its key's and its tenant's
limits (``sealtrail.ratelimit``); this middleware reports where the caller
stands on the response, success or not, as two Structured Field lists naming
each limit:

    RateLimit-Policy: "key-reads";q=1000;w=10, "tenant-reads";q=2000;w=10
    RateLimit: "key-reads";r=997;t=6, "tenant-reads";r=1990;t=6

``q`` is the quota per window of ``w`` seconds, ``r`` what is left of it and
``t`` the seconds until the current window ends — on a refusal, for a limit the
request does not fit, the seconds until it would, which is what ``Retry-After``
says too (the longest of them; ``sealtrail.ratelimit``). Writes are counted in events,
not requests; the registry of quota units has no such unit, so it is said with
a vendor parameter (``sealtrail-unit="events"``), as the draft asks. A ``429``
adds ``Retry-After`` (``sealtrail.server.errors``). Responses to requests that
were not charged (no API key, the viewer, health) carry neither field.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealtrail import ratelimit
from sealtrail.errors import Quota


def policy_field(quotas: Sequence[Quota]) -> str:
    return ", ".join(
        f'"{q.policy}";q={q.quota};w={q.window}'
        + ("" if q.unit == "requests" else f';sealtrail-unit="{q.unit}"')
        for q in quotas
    )


def limit_field(quotas: Sequence[Quota]) -> str:
    return ", ".join(f'"{q.policy}";r={q.remaining};t={q.reset}' for q in quotas)


class RateLimitHeaders:
    """Adds the fields to every response whose request was charged (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with ratelimit.observe() as seen:

            async def with_fields(message: Message) -> None:
                if message["type"] == "http.response.start" and seen:
                    headers = list(message.get("headers", []))
                    headers.append((b"ratelimit-policy", policy_field(seen).encode("ascii")))
                    headers.append((b"ratelimit", limit_field(seen).encode("ascii")))
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, with_fields)
