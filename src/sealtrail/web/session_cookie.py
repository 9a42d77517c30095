"""The viewer-session cookie: set from a session link, read on every request.

The cookie holds the signed session token itself (see ``sealtrail.sessions``),
so any worker can check it; it is HttpOnly, SameSite=Lax, Path=/ (the JSON API
accepts it too), and over HTTPS is Secure and named with the ``__Host-`` prefix so
no subdomain can plant one. The token's own expiry is what counts; the cookie is
kept a day longer (``AFTERLIFE``) so that a page opened after the session ended can
say "this session has expired" instead of not knowing there ever was one.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from sealtrail.auth import Principal
from sealtrail.sessions import SessionSigner, ViewerSession

AFTERLIFE: Final = 24 * 3600
COOKIE: Final = "sealtrail_viewer"
SECURE_COOKIE: Final = "__Host-sealtrail_viewer"


def is_https(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


class SessionCookie:
    """Reads and writes the session cookie; also the API's session authenticator."""

    def __init__(self, signer: SessionSigner, public_url: str | None = None) -> None:
        self.signer = signer
        self.public_url = public_url

    def token(self, request: Request) -> str | None:
        return request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or None

    def session(self, request: Request) -> ViewerSession | None:
        """The request's session; None without a cookie; raises if expired or forged."""
        token = self.token(request)
        return None if token is None else self.signer.open(token)

    def __call__(self, request: Request) -> Principal | None:
        """``app.state.session_authenticator``: the viewer's principal, for the JSON API."""
        session = self.session(request)
        return None if session is None else session.principal()

    def set(self, request: Request, response: Response, token: str, lifetime: int) -> None:
        """Set the cookie for a session that ends in ``lifetime`` seconds."""
        secure = is_https(request, self.public_url)
        self.clear(request, response)
        response.set_cookie(
            SECURE_COOKIE if secure else COOKIE,
            token,
            max_age=max(lifetime, 0) + AFTERLIFE,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, request: Request, response: Response) -> None:
        secure = is_https(request, self.public_url)
        for name in (COOKIE, SECURE_COOKIE):
            if name in request.cookies:
                response.delete_cookie(
                    name, path="/", secure=secure or name == SECURE_COOKIE, httponly=True
                )
