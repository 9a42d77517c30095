"""Saving and deleting a saved view from the audit log page: plain form posts
(``sealtrail.web.forms``). Whatever goes wrong is said on a message page with a way back.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sealtrail.auth import Principal
from sealtrail.errors import SealtrailError
from sealtrail.saved_searches import SavedSearchRequest
from sealtrail.server import deps
from sealtrail.server.requests import client_ip
from sealtrail.web.filters import PAGE_PATH
from sealtrail.web.forms import page_at, problem_page, read_form
from sealtrail.web.routes import _reader
from sealtrail.web.saved_views import SAVE_PATH

router = APIRouter(include_in_schema=False)
_REFUSED = "a saved view is changed from the audit log page only"


def _principal(request: Request) -> Principal:
    return _reader(request).principal()


@router.post(SAVE_PATH)
async def save_view(request: Request) -> Response:
    """Keep the page's filters (the form's ``phrase``) under ``name``, then open the view."""
    principal = _principal(request)
    back = PAGE_PATH
    try:
        form = await read_form(request, _REFUSED)
        back = page_at(form.get("back", ""))
        wanted = SavedSearchRequest.of(
            form.get("name", ""), form.get("phrase", ""), form.get("shared") == "1"
        )
        search = deps.audit_log(request).save_search(principal, wanted, ip=client_ip(request))
    except SealtrailError as exc:
        return problem_page("The view was not saved", exc, back, "saved_view")
    return RedirectResponse(search.viewer_path(), 303)


@router.post(SAVE_PATH + "/{search_id}/delete")
async def delete_view(request: Request, search_id: str) -> Response:
    """Delete a saved view, then go back to the page (leaving the view if it was open)."""
    principal = _principal(request)
    back = PAGE_PATH
    try:
        form = await read_form(request, _REFUSED)
        query = form.get("back", "")
        opened = dict(parse_qsl(query)).get("saved") == search_id
        back = page_at(query, keep_view=not opened)
        deps.audit_log(request).delete_saved_search(principal, search_id, ip=client_ip(request))
    except SealtrailError as exc:
        return problem_page("The view was not deleted", exc, back, "saved_view")
    return RedirectResponse(back, 303)
