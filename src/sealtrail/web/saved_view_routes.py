"""Saving and deleting a saved view from the audit log page: plain form posts.

They work without the page's script. A post from another site is refused: the
session cookie is SameSite=Lax, and ``Sec-Fetch-Site`` shuts out a sibling
subdomain as well. Whatever goes wrong is said on a message page with a way back.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sealtrail.auth import Principal
from sealtrail.errors import (
    Conflict,
    InvalidEvent,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SealtrailError,
)
from sealtrail.saved_searches import SavedSearchRequest
from sealtrail.server import deps
from sealtrail.server.requests import client_ip
from sealtrail.web.filters import PAGE_PATH
from sealtrail.web.routes import _reader
from sealtrail.web.saved_views import SAVE_PATH
from sealtrail.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES: Final = 16 * 1024
_CROSS_SITE: Final = frozenset({"cross-site", "same-site"})


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form posted from this site."""
    if request.headers.get("sec-fetch-site", "") in _CROSS_SITE:
        raise PermissionDenied("a saved view is changed from the audit log page only")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInput("the form is too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _back(query: str, *, keep_view: bool = True) -> str:
    """The audit log page at ``query`` (a query string, so never another page)."""
    params = parse_qsl(query, keep_blank_values=True)
    if not keep_view:
        params = [(k, v) for k, v in params if k != "saved"]
    return f"{PAGE_PATH}?{urlencode(params)}" if params else PAGE_PATH


def _problem(title: str, exc: SealtrailError, back: str) -> Response:
    text = exc.message
    if isinstance(exc, InvalidEvent) and exc.details:
        text = "; ".join(f"The {d.field} {d.message}" for d in exc.details) + "."
    status = (
        403
        if isinstance(exc, PermissionDenied)
        else 409
        if isinstance(exc, Conflict)
        else 404
        if isinstance(exc, NotFound)
        else 400
    )
    return render(
        "message.html",
        status,
        title=title,
        text=text,
        reason="saved_view",
        viewer=None,
        can_retry=False,
        back_url=back,
    )


def _principal(request: Request) -> Principal:
    return _reader(request).principal()


@router.post(SAVE_PATH)
async def save_view(request: Request) -> Response:
    """Keep the page's filters (the form's ``phrase``) under ``name``, then open the view."""
    principal = _principal(request)
    back = PAGE_PATH
    try:
        form = await _form(request)
        back = _back(form.get("back", ""))
        wanted = SavedSearchRequest.of(
            form.get("name", ""), form.get("phrase", ""), form.get("shared") == "1"
        )
        search = deps.audit_log(request).save_search(principal, wanted, ip=client_ip(request))
    except SealtrailError as exc:
        return _problem("The view was not saved", exc, back)
    return RedirectResponse(search.viewer_path(), 303)


@router.post(SAVE_PATH + "/{search_id}/delete")
async def delete_view(request: Request, search_id: str) -> Response:
    """Delete a saved view, then go back to the page (leaving the view if it was open)."""
    principal = _principal(request)
    back = PAGE_PATH
    try:
        form = await _form(request)
        query = form.get("back", "")
        opened = dict(parse_qsl(query)).get("saved") == search_id
        back = _back(query, keep_view=not opened)
        deps.audit_log(request).delete_saved_search(principal, search_id, ip=client_ip(request))
    except SealtrailError as exc:
        return _problem("The view was not deleted", exc, back)
    return RedirectResponse(back, 303)
