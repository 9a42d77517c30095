"""Request-scoped plumbing shared by the API and the viewer: the AuditLog and the caller."""

from __future__ import annotations

from starlette.requests import Request

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed
from sealtrail.server.requests import bearer_token
from sealtrail.server.session_cookie import refuse_cross_site, session_token
from sealtrail.settings import Settings


def audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.audit_log
    return log


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def principal(request: Request) -> Principal:
    """The caller: an API key (Bearer) or, failing that, a viewer session cookie —
    which answers only requests from the viewer's own pages (``refuse_cross_site``)."""
    token = bearer_token(request)
    if token is not None:
        return audit_log(request).authenticate_api_key(token)
    cookie = session_token(request)
    if cookie is not None:
        refuse_cross_site(request, settings(request).public_url)
        return audit_log(request).authenticate_viewer(cookie)
    raise AuthenticationFailed("send Authorization: Bearer <API key>")
