"""Acknowledging and resolving an alert from the audit log page's alerts panel: plain
form posts (``sealtrail.web.forms``), then back to the page. Who may is ``AuditLog``'s
rule (``Principal.may_handle_alerts``: a tenant's owners and admins); it records each as
the API does (``audit_log.alert_acknowledged``, ``audit_log.alert_resolved``).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sealtrail.errors import SealtrailError
from sealtrail.server import deps
from sealtrail.server.requests import client_ip
from sealtrail.web.filters import PAGE_PATH
from sealtrail.web.forms import page_at, problem_page, read_form
from sealtrail.web.routes import _reader

router = APIRouter(include_in_schema=False)

ALERTS_PATH: Final = "/ui/alerts"
_REFUSED: Final = "an alert is acknowledged or resolved from the audit log page only"


@router.post(ALERTS_PATH + "/{alert_id}/acknowledge")
async def acknowledge_alert(request: Request, alert_id: str) -> Response:
    principal = _reader(request).principal()
    back = PAGE_PATH
    try:
        back = page_at((await read_form(request, _REFUSED)).get("back", ""))
        log = deps.audit_log(request)
        log.acknowledge_alert(principal, alert_id, ip=client_ip(request))
    except SealtrailError as exc:
        return problem_page("The alert was not acknowledged", exc, back, "alert")
    return RedirectResponse(back, 303)


@router.post(ALERTS_PATH + "/{alert_id}/resolve")
async def resolve_alert(request: Request, alert_id: str) -> Response:
    principal = _reader(request).principal()
    back = PAGE_PATH
    try:
        back = page_at((await read_form(request, _REFUSED)).get("back", ""))
        deps.audit_log(request).resolve_alert(principal, alert_id, ip=client_ip(request))
    except SealtrailError as exc:
        return problem_page("The alert was not resolved", exc, back, "alert")
    return RedirectResponse(back, 303)
