"""WSGI middleware for any WSGI app (Flask uses it through ``sealtrail.integrations.flask``).

    app = SealtrailWSGIMiddleware(app, trusted_proxies=["10.0.0.0/8"])

The app is called inside ``sealtrail.context(ip=..., user_agent=..., request_id=...)``.
Events recorded while a streamed response body is being iterated (after the
app has returned) are outside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sealtrail.integrations._request import DEFAULT_REQUEST_ID_HEADER, RequestFields

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def environ_key(header: str) -> str:
    """``X-Request-ID`` → ``HTTP_X_REQUEST_ID``, as WSGI and Django name headers."""
    return "HTTP_" + header.upper().replace("-", "_")


class SealtrailWSGIMiddleware:
    """Fill ``ip``, ``user_agent`` and ``request_id`` for events recorded during a request."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        trusted_proxies: Iterable[str] = (),
        request_id_header: str = DEFAULT_REQUEST_ID_HEADER,
    ) -> None:
        self.app = app
        self.fields = RequestFields(
            trusted_proxies=trusted_proxies, request_id_header=request_id_header
        )
        self._request_id = environ_key(request_id_header)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        with self.fields.context(
            peer=environ.get("REMOTE_ADDR"),
            forwarded_for=[forwarded] if forwarded else [],
            user_agent=environ.get("HTTP_USER_AGENT"),
            request_id=environ.get(self._request_id),
        ):
            return self.app(environ, start_response)
