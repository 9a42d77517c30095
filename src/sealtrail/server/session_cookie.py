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

AFTERLIFE: Final = 24 * 3600
COOKIE: Final = "sealtrail_viewer"
SECURE_COOKIE: Final = "__Host-sealtrail_viewer"


def is_https(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def session_token(request: Request) -> str | None:
    """The session token the request's cookie carries, if any (not yet checked)."""
    return request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or None


def set_session_cookie(
    request: Request, response: Response, token: str, lifetime: int, public_url: str | None
) -> None:
    """Set the cookie for a session that ends in ``lifetime`` seconds."""
    secure = is_https(request, public_url)
    clear_session_cookie(request, response, public_url)
    response.set_cookie(
        SECURE_COOKIE if secure else COOKIE,
        token,
        max_age=max(lifetime, 0) + AFTERLIFE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response, public_url: str | None) -> None:
    secure = is_https(request, public_url)
    for name in (COOKIE, SECURE_COOKIE):
        if name in request.cookies:
            response.delete_cookie(
                name, path="/", secure=secure or name == SECURE_COOKIE, httponly=True
            )
