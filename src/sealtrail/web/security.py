"""Security headers on every viewer response (``/ui`` and its static files).

A strict Content-Security-Policy: nothing loads but this origin's own script,
stylesheet and images, no inline script or style runs, forms post only here,
and only this origin may frame the page — plus, on a session's pages, the
origins its tenant allows (``sealtrail tenants framing set``), which a handler
leaves in ``request.state.frame_ancestors``. Pure ASGI, so streamed exports pass
through untouched.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(frame_ancestors: tuple[str, ...] = ()) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            " ".join(["frame-ancestors 'self'", *frame_ancestors]),
            "base-uri 'none'",
        ]
    )


CONTENT_SECURITY_POLICY: Final = content_security_policy()
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeaders:
    """Adds ``HEADERS`` to every response under ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str = "/ui") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == self.prefix or path.startswith(self.prefix + "/")
        ):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                framing: tuple[str, ...] = tuple(scope.get("state", {}).get("frame_ancestors", ()))
                for name, value in HEADERS.items():
                    if name in headers:
                        continue
                    if framing and name == "X-Frame-Options":
                        continue  # it cannot name other origins; the CSP does
                    if framing and name == "Content-Security-Policy":
                        value = content_security_policy(framing)
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
