"""The viewer-session cookie, and the one check that keeps other sites from driving it.

The cookie holds a random secret naming a server-side session (``sealtrail.sessions``),
never the link's token. It is HttpOnly, SameSite=Lax, Path=/ (the JSON API accepts
it too), and over HTTPS is Secure and named with the ``__Host-`` prefix so no
subdomain can plant one. Its Max-Age is what is left of the session, so the browser
drops it when the session ends.

**Cross-site requests.** SameSite=Lax keeps the cookie off another site's
subresource requests and POSTs, but not off a top-level link from another site,
and not off anything from another port or subdomain of the *same* site. So a
request authenticated by the cookie must also come from the viewer's own pages:
``cross_site`` reads the browser's ``Sec-Fetch-Site`` (``same-origin``, or ``none``
for a typed address or a bookmark, pass; ``same-site`` and ``cross-site`` do not),
and, from a browser that sends no Fetch Metadata, the ``Origin`` header when there
is one. A request with neither is not from a browser that could have been driven.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from sealtrail.errors import CrossSiteRequest

COOKIE: Final = "sealtrail_viewer"
SECURE_COOKIE: Final = "__Host-sealtrail_viewer"
SAFE_SITES: Final = frozenset({"same-origin", "none"})


def is_https(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def own_origin(request: Request, public_url: str | None) -> str:
    if public_url:
        scheme, _, rest = public_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}".lower()
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def cross_site(request: Request, public_url: str | None) -> bool:
    """Whether a browser sent this request on behalf of another origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in SAFE_SITES
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin.strip().rstrip("/").lower() != own_origin(request, public_url)


def refuse_cross_site(request: Request, public_url: str | None) -> None:
    if cross_site(request, public_url):
        raise CrossSiteRequest(
            "the viewer session answers only requests from the viewer's own pages"
        )


def session_token(request: Request) -> str | None:
    """The session cookie's value, if any (not yet checked)."""
    return request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or None


def set_session_cookie(
    request: Request, response: Response, value: str, lifetime: int, public_url: str | None
) -> None:
    """Set the cookie for a session that ends in ``lifetime`` seconds."""
    secure = is_https(request, public_url)
    clear_session_cookie(request, response, public_url)
    response.set_cookie(
        SECURE_COOKIE if secure else COOKIE,
        value,
        max_age=max(lifetime, 0),
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
