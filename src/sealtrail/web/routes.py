"""The viewer's pages: session link, the audit log, one event, CSV export, sign-out.

Each handler turns the request into calls on ``AuditLog`` with the viewer's
principal, which applies the tenant and account scope and records every view
and export; the handlers only render. Anything that stops a page (no session,
an expired or forged one, a member, an event out of scope) is a ``PageError``,
rendered as a plain HTML page by one handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from sealtrail.audit_log import AuditLog, Browse
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery, NotFound, PhraseSyntaxError
from sealtrail.events import Event, now_micros
from sealtrail.limits import TAIL_PING_SECONDS
from sealtrail.query import EventQuery
from sealtrail.server import deps
from sealtrail.server.requests import client_ip
from sealtrail.server.session_cookie import (
    clear_session_cookie,
    cross_site,
    session_token,
    set_session_cookie,
)
from sealtrail.server.tail import messages, resume_point
from sealtrail.sessions import (
    SessionExpired,
    SessionInvalid,
    SessionRevoked,
    SessionUsed,
    ViewerSession,
)
from sealtrail.web import alerts, saved_views, timeline
from sealtrail.web.filters import LIVE_PATH, Filters, page_limit, start_index
from sealtrail.web.rows import KIND_LABELS, Row, build_row
from sealtrail.web.templating import environment, render

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

    def __init__(
        self,
        status: int,
        reason: str = "",
        location: str | None = None,
        continue_url: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.location = location
        self.continue_url = continue_url


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
    "used": (
        "This link was already used",
        "A viewer link opens the audit log once, in one browser, for a short while. "
        "Open the audit log again from your product's settings to get a fresh one.",
    ),
    "revoked": (
        "This session has ended",
        "Your viewer session was signed out or revoked. Open the audit log again from "
        "your product's settings to start a new one.",
    ),
    "cross_site": (
        "Open the audit log from its own page",
        "This request came from another site or page, so the audit log did not answer "
        "it: nothing was shown, exported or recorded. If you meant to open it, use the "
        "button below.",
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
    "bad_live": (
        "These filters cannot be followed live",
        "The live link holds a filter that is not valid. Go back to the audit log, fix "
        "the filters and turn Live on again.",
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
        continue_url=exc.continue_url,
    )


# -- sessions --------------------------------------------------------------------------


def _public_url(request: Request) -> str | None:
    return deps.settings(request).public_url


def _cookie_session(request: Request) -> ViewerSession:
    """The live session of the request's cookie; PageError when there is none."""
    cookie = session_token(request)
    if cookie is None:
        raise PageError(401, "no_session")
    try:
        return deps.audit_log(request).open_viewer_session(cookie)
    except SessionExpired:
        raise PageError(401, "expired") from None
    except SessionRevoked:
        raise PageError(401, "revoked") from None
    except SessionInvalid:
        raise PageError(401, "invalid") from None


def _same_origin_only(request: Request) -> None:
    """Refuse what another site or port started: a page offers to go on, nothing more."""
    if cross_site(request, _public_url(request)):
        again = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PageError(403, "cross_site", continue_url=again if request.method == "GET" else None)


def _frame(request: Request, session: ViewerSession) -> None:
    """Let the tenant's own embedding origins frame this response (``SecurityHeaders``)."""
    request.state.frame_ancestors = deps.audit_log(request).frame_ancestors(session.tenant_id)


def _reader(request: Request) -> ViewerSession:
    """The request's session, for a page with event data: from the viewer's own pages
    only, and members are sent away."""
    session = _cookie_session(request)
    _frame(request, session)
    _same_origin_only(request)
    if not session.may_read:
        raise PageError(303, location=NOT_ALLOWED_PATH)
    return session


def _link_session(request: Request, token: str) -> ViewerSession:
    if not token:
        raise PageError(401, "no_session")
    try:
        return deps.audit_log(request).viewer_link_session(token)
    except SessionExpired:
        raise PageError(401, "expired") from None
    except SessionUsed:
        raise PageError(401, "used") from None
    except SessionInvalid:
        raise PageError(401, "invalid") from None


def _current_session(request: Request) -> ViewerSession | None:
    try:
        return _cookie_session(request)
    except PageError:
        return None


def _redeem(request: Request, token: str, response: Response) -> ViewerSession:
    """Spend the link; the old session of this browser, if any, ends; the cookie is set."""
    log = deps.audit_log(request)
    try:
        session, cookie = log.redeem_viewer_link(token)
    except SessionUsed:
        raise PageError(401, "used") from None
    except SessionExpired:
        raise PageError(401, "expired") from None
    except SessionInvalid:
        raise PageError(401, "invalid") from None
    old = session_token(request)
    if old is not None:
        log.sign_out_viewer(old, replaced=True)
    lifetime = (session.expires_at - now_micros()) // 1_000_000
    set_session_cookie(request, response, cookie, lifetime, _public_url(request))
    response.headers["Cache-Control"] = "no-store"
    return session


def _landing(session: ViewerSession) -> str:
    return "/ui" if session.may_read else NOT_ALLOWED_PATH


@router.get("/ui/session")
def open_session(request: Request) -> Response:
    """Redeem a session link (once) for a cookie, then go on to /ui from this origin.

    Another site sends the browser here, so this is the one viewer address that
    answers a cross-site request. If the browser already holds a live session of
    another user or tenant, nothing is spent: a page asks first (``confirm.html``).
    """
    token = request.query_params.get("token", "")
    offered = _link_session(request, token)
    current = _current_session(request)
    if current is not None and (current.tenant_id, current.user.id) != (
        offered.tenant_id,
        offered.user.id,
    ):
        log = deps.audit_log(request)
        _frame(request, offered)
        return render(
            "confirm.html",
            viewer=None,
            current=current,
            current_tenant=log.tenant(current.tenant_id).name,
            current_role=ROLE_LABELS[current.role],
            offered=offered,
            offered_tenant=log.tenant(offered.tenant_id).name,
            offered_role=ROLE_LABELS[offered.role],
            token=token,
        )
    if cross_site(request, _public_url(request)):
        # Arriving from the host product's site: a redirect would carry that site's
        # chain into /ui (refused there), so this page asks for /ui itself, from here.
        response: Response = render("opening.html", viewer=None, location=_landing(offered))
    else:
        response = RedirectResponse(_landing(offered), 303)
    session = _redeem(request, token, response)
    _frame(request, session)
    return response


@router.post("/ui/session")
async def switch_session(request: Request) -> Response:
    """The "Switch" button of ``confirm.html``: only from the viewer's own page."""
    _same_origin_only(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    _link_session(request, token)
    response = RedirectResponse("/ui", 303)
    session = _redeem(request, token, response)
    response.headers["location"] = _landing(session)
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request) -> Response:
    """End the session everywhere (it is revoked, not only forgotten by this browser)."""
    _same_origin_only(request)
    cookie = session_token(request)
    if cookie is not None:
        deps.audit_log(request).sign_out_viewer(cookie)
    response = RedirectResponse("/ui/signed-out", 303)
    clear_session_cookie(request, response, _public_url(request))
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
    alert_marks: dict[str, int] = field(default_factory=dict)


def _viewer_context(log: AuditLog, session: ViewerSession) -> dict[str, Any]:
    return {
        "viewer": session,
        "role_label": ROLE_LABELS[session.role],
        "tenant_name": log.tenant(session.tenant_id).name,
        "accounts": sorted(session.account_ids or ()),
    }


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
    chart: timeline.Timeline | None = None
    as_of = datetime.now(UTC)
    live_url = None
    try:
        query = filters.query()
        # Where Live starts: read before the list, so nothing lands between the two.
        live_after = log.tail(principal, query).last_seq
        listing = _listing(request, log, principal, filters, query, limit, params)
        if not _paged(params):
            live_url = filters.url(LIVE_PATH, after_seq=str(live_after))
        # Up to the moment the page searched, as the listing and its export: not this
        # very view, recorded since.
        found = log.histogram(
            principal, query, timeline.BUCKETS, as_of=as_of, ip=client_ip(request)
        )
        chart = timeline.build(found, filters)
    except PhraseSyntaxError as exc:
        problems["phrase"] = Problem(exc.message, exc.token, exc.position)
    except InvalidQuery as exc:
        problems[exc.parameter or "form"] = Problem(exc.message)
    catalog = log.catalog(principal)
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
        saved_menu=saved_views.menu(request, log, principal, filters),
        live_url=live_url,
        first_page_url=filters.url(live="1"),
        timeline=chart,
        alert_panel=alerts.panel(log, principal, request.url.query),
        alert_marks=listing.alert_marks,
    )


def _paged(params: dict[str, str]) -> bool:
    """Whether the page shows older rows than the newest (Live only adds at the top)."""
    return bool(params.get("cursor", "").strip() or params.get("before", "").strip())


def _listing(
    request: Request,
    log: AuditLog,
    principal: Principal,
    filters: Filters,
    query: EventQuery,
    limit: int,
    params: dict[str, str],
) -> Listing:
    after, before = params.get("cursor"), params.get("before")
    page: Browse = log.browse(
        principal, query, limit, after=after, before=before, ip=client_ip(request)
    )
    events = page.events
    paging_back = bool(before and before.strip())
    first = (
        1 if not (after and after.strip()) and not paging_back else start_index(params.get("start"))
    )
    if paging_back and page.newer_cursor is None:
        first = 1
    now = now_micros()
    catalog = log.catalog(principal)
    rows = [build_row(e, catalog, now) for e in events]  # proofs load when a row opens
    extra = {"limit": "" if limit == page_limit(None) else str(limit)}
    newer_url = older_url = None
    if page.newer_cursor is not None:
        start = "" if first is None else str(max(1, first - limit))
        newer_url = filters.url(before=page.newer_cursor, start=start, **extra)
    if page.older_cursor is not None:
        start = "" if first is None else str(first + len(events))
        older_url = filters.url(cursor=page.older_cursor, start=start, **extra)
    marks = alerts.marks(log, principal, events)
    return Listing(rows, page.total, newer_url, older_url, first, marks)


# -- one event, and the export ------------------------------------------------------------


@router.get("/ui/events/{event_id:path}")
def event_page(request: Request, event_id: str) -> Response:
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    try:
        event = log.view_event(principal, event_id, ip=client_ip(request))
    except NotFound:
        raise PageError(404, "not_found") from None
    proof = log.verify_events(principal, [event]).get(event.id)
    row = build_row(event, log.catalog(principal), now_micros(), proof)
    return render("event.html", **_viewer_context(log, session), row=row)


@router.get("/ui/verify/{event_id:path}")
def verify_event(request: Request, event_id: str) -> Response:
    """The "verified ✓" mark of one event, as JSON, for a row being expanded.

    Not recorded as a view: the row's content was recorded when the page showed it.
    """
    if cross_site(request, _public_url(request)):
        return JSONResponse({"ok": False, "message": "cross-site request refused"}, 403)
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    try:
        event = log.get_event(principal, event_id)
    except NotFound:
        return JSONResponse({"ok": False, "message": "no such event"}, 404)
    proof = log.verify_events(principal, [event])[event.id]
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
    export = log.export(principal, query, "csv", ip=client_ip(request))
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(LIVE_PATH)
async def live_rows(request: Request) -> Response:
    """The Live toggle's feed: each new event the page's filters select, as a rendered
    row (``event: rows``, ``id:`` its seq), from ``after_seq`` or ``Last-Event-ID``."""
    session = _reader(request)
    principal = session.principal()
    log = deps.audit_log(request)
    params = _first_params(request)
    filters = Filters.from_params(params)
    after = params.get("after_seq")
    try:
        query = filters.query()
        start = resume_point(
            request.headers.get("last-event-id"), None if after is None else [after]
        )
    except (InvalidQuery, PhraseSyntaxError):
        raise PageError(400, "bad_live") from None
    first = await run_in_threadpool(log.tail, principal, query, start)
    await run_in_threadpool(log.record_tail, principal, query, ip=client_ip(request))
    catalog = log.catalog(principal)
    template = environment().get_template("_live_row.html")

    def render_row(event: Event) -> str:
        row = build_row(event, catalog, now_micros())
        return template.render(row=row, did=f"l-{event.seq}", alert_marks={})

    return EventSourceResponse(
        messages(request, log, principal, query, first, event="rows", render=render_row),
        ping=TAIL_PING_SECONDS,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/ui/{anything:path}")
def no_such_page() -> Response:
    """Any other address under /ui: a page, not the API's JSON 404 (registered last)."""
    raise PageError(404, "no_page")
