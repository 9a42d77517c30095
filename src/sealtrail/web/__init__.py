"""The viewer page (SPEC §7): the audit log as organisation owners and admins see it.

``install(app)`` adds it to the application ``sealtrail.server.app`` builds:
the pages under ``/ui`` and their static files under ``/ui/static``, every
response carrying a strict Content-Security-Policy. The host product mints the
session links with the API's ``POST /v1/viewer-sessions``; the session cookie the
link sets is read by ``sealtrail.server`` for the pages and the JSON API alike.

    routes          the pages; PageError → an HTML message page
    saved_views     the saved-views menu; saved_view_routes saves and deletes
    alerts          the alerts panel and row marks; alert_routes acknowledges, resolves
    forms           reading the pages' form posts, and the way back
    filters         the query string of /ui ↔ EventQuery
    rows            events as the table shows them
    changes         before/after pairs found in a context
    security        the security headers
    templating      Jinja2 with autoescaping, fingerprinted static URLs
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from sealtrail.web import alert_routes, routes, saved_view_routes
from sealtrail.web.security import SecurityHeaders
from sealtrail.web.templating import STATIC_DIR, STATIC_PATH

__all__ = ["install"]


def install(app: FastAPI) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="viewer-static")
    app.include_router(saved_view_routes.router)
    app.include_router(alert_routes.router)
    app.include_router(routes.router)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, routes.PageError)
        return routes.render_page_error(request, exc)

    app.add_exception_handler(routes.PageError, page_error)
    app.add_middleware(SecurityHeaders, prefix="/ui")
