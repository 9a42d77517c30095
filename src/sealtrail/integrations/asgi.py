"""Pure ASGI middleware for FastAPI, Starlette or any ASGI app (no framework import).

    app.add_middleware(SealtrailMiddleware, trusted_proxies=["10.0.0.0/8"])

HTTP and WebSocket scopes run inside ``sealtrail.context(ip=..., user_agent=...,
request_id=...)``; lifespan and other scopes pass straight through. Starlette
and FastAPI run sync endpoints in a thread pool that copies the context, so
those see it too. If uvicorn's ``--proxy-headers`` already rewrote the client
address, the peer seen here is the real client and is used as is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from sealtrail.integrations._request import (
    DEFAULT_REQUEST_ID_HEADER,
    RequestFields,
    header_values,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SealtrailMiddleware:
    """Fill ``ip``, ``user_agent`` and ``request_id`` for events recorded during a request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: Iterable[str] = (),
        request_id_header: str = DEFAULT_REQUEST_ID_HEADER,
    ) -> None:
        self.app = app
        self.fields = RequestFields(
            trusted_proxies=trusted_proxies, request_id_header=request_id_header
        )
        self._request_id = request_id_header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        client = scope.get("client")
        with self.fields.context(
            peer=client[0] if client else None,
            forwarded_for=header_values(headers, b"x-forwarded-for"),
            user_agent=next(header_values(headers, b"user-agent"), None),
            request_id=next(header_values(headers, self._request_id), None),
        ):
            await self.app(scope, receive, send)
