"""Request-scoped plumbing shared by the routers: the AuditLog and the caller."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from sealtrail.api.requests import bearer_token
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed
from sealtrail.settings import Settings


class SessionAuthenticator(Protocol):
    """Turns a viewer-session cookie into a principal (installed by the viewer)."""

    def __call__(self, request: Request) -> Principal | None: ...


def audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.audit_log
    return log


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def principal(request: Request) -> Principal:
    """The caller: an API key (Bearer) or, failing that, a viewer session cookie."""
    token = bearer_token(request)
    if token is not None:
        return audit_log(request).authenticate_api_key(token)
    session: SessionAuthenticator | None = getattr(request.app.state, "session_authenticator", None)
    if session is not None:
        found = session(request)
        if found is not None:
            return found
    raise AuthenticationFailed("send Authorization: Bearer <API key>")
