"""``Cache-Control: no-store`` and ``nosniff`` on every response to a request with credentials.

An API response read with an API key or the viewer cookie holds a tenant's data:
no shared or browser cache may keep it, and no browser may guess it is anything
but what its Content-Type says. The viewer's pages (``/ui``) carry their own
headers (``sealtrail.web.security``), and their fingerprinted static files stay
cacheable. Pure ASGI, so streamed exports pass through untouched.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealtrail.server.session_cookie import COOKIE, SECURE_COOKIE

CREDENTIAL_HEADERS: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _has_credentials(scope: Scope) -> bool:
    request = Headers(scope=scope)
    if "authorization" in request:
        return True
    cookie = request.get("cookie", "")
    return COOKIE in cookie or SECURE_COOKIE in cookie


class CredentialHeaders:
    def __init__(self, app: ASGIApp, exempt: str = "/ui") -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if (
            scope["type"] != "http"
            or path == self.exempt
            or path.startswith(self.exempt + "/")
            or not _has_credentials(scope)
        ):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CREDENTIAL_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
