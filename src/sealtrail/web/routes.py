"""The viewer's pages: session link, the audit log, one event, CSV export, sign-out.

Each handler turns the request into calls on ``AuditLog`` with the viewer's
principal, which applies the tenant and account scope and records every view
and export; the handlers only render. Anything that stops a page (no session,
an expired or forged one, a member, an event out of scope) is a ``PageError``,
rendered as a plain HTML page by one handler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from sealtrail import export
from sealtrail.api import deps
from sealtrail.api.requests import client_ip
from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery, NotFound, PhraseSyntaxError
from sealtrail.events import now_micros
from sealtrail.query import Cursor, EventQuery, Page, TimeRange
from sealtrail.sessions import SessionExpired, SessionInvalid, ViewerSession
from sealtrail.store.base import SearchResult
from sealtrail.web.filters import Filters, page_limit, start_index
from sealtrail.web.proofs import verify_events
from sealtrail.web.rows import KIND_LABELS, Row, build_row
from sealtrail.web.session_cookie import SessionCookie
from sealtrail.web.templating import render

router = APIRouter(include_in_schema=False)

NOT_ALLOWED_PATH: Final = "/ui/not-allowed"
ROLE_LABELS: Final = {
    "owner": "Owner",
    "admin": "Admin",
    "account_admin": "Account admin",
    "member": "Member",
}


class PageError(Exception):
    """Stop and show a message page (``reason`` picks it) or redirect to ``location``."""

    def __init__(self, status: int, reason: str = "", location: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.location = location


MESSAGES: Final = {
    "no_session": (
        "Open the audit log from your product",
        "This page opens through a viewer link that your product creates when you open "
        "its audit log. Go back to your product's settings and open the audit log from there.",
    ),
    "expired": (
        "This session has expired",
        "Your viewer session expired: sessions are short-lived. Open the audit log again "
        "from your product's settings to get a fresh one.",
    ),
    "invalid": (
        "This link is not valid",
        "The viewer link is invalid: it was changed, cut short or issued by another "
        "server. Open the audit log again from your product's settings.",
    ),
    "not_allowed": (
        "You don't have access to the audit log",
        "Viewing the audit log is not allowed for your role: it is available to "
        "organisation owners and admins. Ask an owner of your organisation if you need "
        "to see it.",
    ),
    "not_found": (
        "Event not found",
        "There is no event with this id among the events you may see.",
    ),
    "no_page": (
        "Page not found",
        "There is no such page in the audit log viewer.",
    ),
    "signed_out": (
        "You're signed out",
        "Your viewer session has ended on this browser. Open the audit log again from "
        "your product to sign back in.",
    ),
    "bad_export": (
        "These filters cannot be exported",
        "The export link holds a filter that is not valid. Go back to the audit log, fix "
        "the filters and export again.",
    ),
}


def render_page_error(request: Request, exc: PageError) -> Response:
    if exc.location is not None:
        return RedirectResponse(exc.location, exc.status)
    title, text = MESSAGES[exc.reason]
    return render(
        "message.html",
        exc.status,
        title=title,
        text=text,
        reason=exc.reason,
        viewer=None,
        can_retry=exc.reason in ("not_found", "no_page"),
    )


# -- sessions --------------------------------------------------------------------------


def _cookie(request: Request) -> SessionCookie:
    cookie: SessionCookie = request.app.state.session_authenticator
    return cookie


def _open(cookie: SessionCookie, request: Request, token: str | None = None) -> ViewerSession:
    """The session of ``token`` (or of the request's cookie); PageError when there is none."""
    try:
        session = cookie.signer.open(token) if token else cookie.session(request)
    except SessionExpired:
        raise PageError(401, "expired") from None
    except SessionInvalid:
        raise PageError(401, "invalid") from None
    if session is None:
        raise PageError(401, "no_session")
    return session


def _reader(request: Request) -> ViewerSession:
    """The request's session, for a page with event data: members are sent away."""
    session = _open(_cookie(request), request)
    if not session.may_read:
        raise PageError(303, location=NOT_ALLOWED_PATH)
    return session


@router.get("/ui/session")
def open_session(request: Request) -> Response:
    """Trade a session link's token for a cookie and drop the token from the address bar."""
    token = request.query_params.get("token", "")
    if not token:
        raise PageError(401, "no_session")
    cookie = _cookie(request)
    session = _open(cookie, request, token)
    response = RedirectResponse("/ui" if session.may_read else NOT_ALLOWED_PATH, 303)
    cookie.set(request, response, token, session.expires_at - int(time.time()))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request) -> Response:
    response = RedirectResponse("/ui/signed-out", 303)
    _cookie(request).clear(request, response)
    return response


@router.get("/ui/signed-out")
def signed_out() -> Response:
    raise PageError(200, "signed_out")


@router.get(NOT_ALLOWED_PATH)
def not_allowed() -> Response:
    raise PageError(403, "not_allowed")


# -- the audit log -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    token: str | None = None
    position: int | None = None


@dataclass(slots=True)
class Listing:
    rows: list[Row] = field(default_factory=list)
    total: int | None = 0
    newer_url: str | None = None
    older_url: str | None = None
    first: int | None = None


def _viewer_context(log: AuditLog, session: ViewerSession) -> dict[str, Any]:
    return {
        "viewer": session,
        "role_label": ROLE_LABELS[session.role],
        "tenant_name": log.tenant(session.tenant_id).name,
        "accounts": sorted(session.account_ids or ()),
    }


def _cursor(params: dict[str, str], name: str) -> Cursor | None:
    token = params.get(name, "").strip()
    if not token:
        return None
    cursor = Cursor.decode(token)
    if cursor.order != "desc":
        raise InvalidQuery("cursor is not valid", name)
    return cursor


def _search(
    log: AuditLog,
    principal: Principal,
    query: EventQuery,
    limit: int,
    after: Cursor | None,
    before: Cursor | None,
    ip: str | None,
) -> tuple[SearchResult, bool, bool]:
    """One page, newest first: (result, has newer rows, has older rows).

    ``after`` pages towards older rows; ``before`` towards newer ones by reading
    ascending from that row. When the rows newer than ``before`` fit on one page,
    the first page is shown instead, so paging back always ends on a full page.
    """
    if before is not None:
        newer = EventQuery(
            query.terms, query.time.intersect(TimeRange(since=before.occurred_at)), query.order
        )
        count = log.count(principal, newer, cap=limit)
        if count is not None and count <= limit:
            before = None
    if before is not None:
        ascending = EventQuery(query.terms, query.time, "asc")
        page = Page(limit, cursor=Cursor(before.occurred_at_us, before.seq, "asc"))
        result = log.search(principal, ascending, page, viewer_ip=ip)
        flipped = SearchResult(list(reversed(result.events)), result.total, result.has_more)
        return flipped, result.has_more, True
    page = Page(limit, cursor=after)
    result = log.search(principal, query, page, viewer_ip=ip)
    return result, after is not None, result.has_more


def _first_params(request: Request) -> dict[str, str]:
    """Each parameter's first value (the form never repeats one)."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, value)
    return out


@router.get("/ui")
def audit_log_page(request: Request) -> Response:
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    params = _first_params(request)
    filters = Filters.from_params(params)
    limit = page_limit(params.get("limit"))
    problems: dict[str, Problem] = {}
    listing = Listing()
    as_of = datetime.now(UTC)
    try:
        query = filters.query()
        after, before = _cursor(params, "cursor"), _cursor(params, "before")
    except PhraseSyntaxError as exc:
        problems["phrase"] = Problem(exc.message, exc.token, exc.position)
    except InvalidQuery as exc:
        problems[exc.parameter or "form"] = Problem(exc.message)
    else:
        listing = _listing(request, log, principal, filters, query, limit, after, before, params)
    catalog = log.catalog(principal.tenant_id)
    resource_types = sorted({t.resource_type for t in catalog.types() if t.resource_type})
    limit_param = "" if limit == page_limit(None) else str(limit)
    return render(
        "audit_log.html",
        400 if problems else 200,
        **_viewer_context(log, session),
        filters=filters,
        problems=problems,
        listing=listing,
        categories=catalog.categories(),
        resource_types=resource_types,
        kinds=KIND_LABELS,
        action_known=not filters.action or catalog.is_known(filters.action),
        export_url=filters.export_url(as_of) if not problems else None,
        limit_param=limit_param,
    )


def _listing(
    request: Request,
    log: AuditLog,
    principal: Principal,
    filters: Filters,
    query: EventQuery,
    limit: int,
    after: Cursor | None,
    before: Cursor | None,
    params: dict[str, str],
) -> Listing:
    result, has_newer, has_older = _search(
        log, principal, query, limit, after, before, client_ip(request)
    )
    events = result.events
    first = 1 if after is None and before is None else start_index(params.get("start"))
    if before is not None and not has_newer:
        first = 1
    now = now_micros()
    catalog = log.catalog(principal.tenant_id)
    rows = [build_row(e, catalog, now) for e in events]  # proofs load when a row opens
    extra = {"limit": "" if limit == page_limit(None) else str(limit)}
    newer_url = older_url = None
    if events and has_newer:
        head = events[0]
        start = "" if first is None else str(max(1, first - limit))
        newer_url = filters.url(
            before=Cursor(head.occurred_at, head.seq, "desc").encode(), start=start, **extra
        )
    if events and has_older:
        tail = events[-1]
        start = "" if first is None else str(first + len(events))
        older_url = filters.url(
            cursor=Cursor(tail.occurred_at, tail.seq, "desc").encode(), start=start, **extra
        )
    return Listing(rows, result.total, newer_url, older_url, first)


# -- one event, and the export ------------------------------------------------------------


@router.get("/ui/events/{event_id:path}")
def event_page(request: Request, event_id: str) -> Response:
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    try:
        event = log.get_event(principal, event_id)
    except NotFound:
        raise PageError(404, "not_found") from None
    log.record_access(
        principal,
        "audit_log.viewed",
        {"event_id": event.id, "results": 1},
        ip=client_ip(request),
    )
    proof = verify_events(log, principal, [event]).get(event.id)
    row = build_row(event, log.catalog(principal.tenant_id), now_micros(), proof)
    return render("event.html", **_viewer_context(log, session), row=row)


@router.get("/ui/verify/{event_id:path}")
def verify_event(request: Request, event_id: str) -> Response:
    """The "verified ✓" mark of one event, as JSON, for a row being expanded.

    Not recorded as a view: the row's content was recorded when the page showed it.
    """
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    try:
        event = log.get_event(principal, event_id)
    except NotFound:
        return JSONResponse({"ok": False, "message": "no such event"}, 404)
    proof = verify_events(log, principal, [event])[event.id]
    body = {
        "ok": proof.ok,
        "message": proof.message,
        "tree_size": proof.tree_size,
        "root_hash": proof.root_hash,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/ui/export")
def export_csv(request: Request) -> Response:
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    filters = Filters.from_params(_first_params(request))
    try:
        query = filters.query()
    except (InvalidQuery, PhraseSyntaxError):
        raise PageError(400, "bad_export") from None
    chunks = log.export(principal, query, "csv", ip=client_ip(request))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"audit-log-{principal.tenant_id}-{stamp}.csv"
    return StreamingResponse(
        chunks,
        media_type=export.CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/ui/{anything:path}")
def no_such_page() -> Response:
    """Any other address under /ui: a page, not the API's JSON 404 (registered last)."""
    raise PageError(404, "no_page")
