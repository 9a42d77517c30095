"""The viewer page (SPEC §7): the audit log as organisation owners and admins see it.

``install(app)`` adds it to the API application:

* ``POST /v1/viewer-sessions`` (``sealtrail.api.viewer_sessions``), with which the
  host product mints a session link for one user;
* the session cookie as ``app.state.session_authenticator``, so the JSON API
  accepts a viewer's browser session too (with the viewer's scope);
* the pages under ``/ui`` and their static files under ``/ui/static``, every
  response carrying a strict Content-Security-Policy.

    routes          the pages; PageError → an HTML message page
    filters         the query string of /ui ↔ EventQuery
    rows            events as the table shows them
    changes         before/after pairs found in a context
    proofs          the "verified ✓" mark: inclusion in the signed checkpoint
    session_cookie  the HttpOnly cookie that carries a session
    security        the security headers
    templating      Jinja2 with autoescaping, fingerprinted static URLs
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from sealtrail.api import viewer_sessions
from sealtrail.api.viewer_sessions import viewer_url
from sealtrail.sessions import SessionRequest, SessionSigner, ViewerUser
from sealtrail.settings import Settings
from sealtrail.web import routes
from sealtrail.web.security import SecurityHeaders
from sealtrail.web.session_cookie import SessionCookie
from sealtrail.web.templating import STATIC_DIR, STATIC_PATH

__all__ = ["DEMO_SESSION_TTL", "install", "owner_link"]

DEMO_SESSION_TTL = 12 * 3600
"""How long the link ``sealtrail demo`` prints stays valid: a working day, not 15 minutes."""


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    signer = SessionSigner.from_settings(settings)
    app.state.viewer_sessions = signer
    app.state.session_authenticator = SessionCookie(signer, settings.public_url)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="viewer-static")
    app.include_router(viewer_sessions.router)
    app.include_router(routes.router)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, routes.PageError)
        return routes.render_page_error(request, exc)

    app.add_exception_handler(routes.PageError, page_error)
    app.add_middleware(SecurityHeaders, prefix="/ui")


def owner_link(settings: Settings, tenant_id: str, user: ViewerUser, *, ttl: int) -> str:
    """A viewer link for an owner of ``tenant_id``, minted outside any request (the demo)."""
    signer = SessionSigner.from_settings(settings)
    token, _ = signer.mint(tenant_id, SessionRequest(user, "owner", None), ttl)
    return viewer_url(settings.base_url, token)
