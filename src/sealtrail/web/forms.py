"""The viewer's plain form posts (saved views, alerts): reading one, and where to go back.

They work without the page's script. A post from another site is refused: the
session cookie is SameSite=Lax, the page's reader (``routes._reader``) refuses a
request another site or port started, and ``Sec-Fetch-Site`` shuts out a sibling
subdomain as well.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from starlette.responses import Response

from sealtrail.errors import (
    Conflict,
    InvalidEvent,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SealtrailError,
)
from sealtrail.web.filters import PAGE_PATH
from sealtrail.web.templating import render

MAX_FORM_BYTES: Final = 16 * 1024
_CROSS_SITE: Final = frozenset({"cross-site", "same-site"})


async def read_form(request: Request, refusal: str) -> dict[str, str]:
    """A small urlencoded form posted from this site (``refusal``: what another site is told)."""
    if request.headers.get("sec-fetch-site", "") in _CROSS_SITE:
        raise PermissionDenied(refusal)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInput("the form is too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def page_at(query: str, *, keep_view: bool = True) -> str:
    """The audit log page at ``query`` (a query string, so never another page)."""
    params = parse_qsl(query, keep_blank_values=True)
    if not keep_view:
        params = [(k, v) for k, v in params if k != "saved"]
    return f"{PAGE_PATH}?{urlencode(params)}" if params else PAGE_PATH


def problem_page(title: str, exc: SealtrailError, back: str, reason: str) -> Response:
    """What went wrong with a post, on a message page with a way back to the page."""
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
        reason=reason,
        viewer=None,
        can_retry=False,
        back_url=back,
    )
