"""Saved views in the viewer: the menu the audit log page shows.

The page's filters become one search phrase (``phrase_of``) that ``AuditLog``
keeps as a saved search (``sealtrail.saved_searches`` says who may do what). The
menu lists the tenant's shared views and the viewer's private ones; each entry
is a link (the view's shareable URL). Saving and deleting are form posts to
``saved_view_routes``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from starlette.requests import Request

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery, PermissionDenied, PhraseSyntaxError
from sealtrail.limits import MAX_SAVED_SEARCH_NAME
from sealtrail.query import format_phrase
from sealtrail.saved_searches import SavedSearch
from sealtrail.server import deps
from sealtrail.web.filters import DEFAULT_DAYS, Filters

SAVE_PATH: Final = "/ui/saved-views"


@dataclass(frozen=True, slots=True)
class SavedMenu:
    """What ``_saved.html`` shows: the views, the one open now, what saving would keep."""

    views: list[SavedSearch]
    current: SavedSearch | None
    phrase: str | None  # the current filters as a phrase; None when they do not parse
    back: str  # the page's query string, to come back to after a post
    share_url: str | None  # the current view's link, absolute
    max_name: int = MAX_SAVED_SEARCH_NAME


def phrase_of(filters: Filters, today: datetime | None = None) -> str:
    """The filters as one search phrase. The default range (the last 30 days, no end)
    is left out, so a view saved over it keeps meaning "the last 30 days"; so is the
    list's hiding of the log's own reads, a display choice (``Filters.hides_access``)."""
    day = (today or datetime.now(UTC)).date()
    if filters.since == (day - timedelta(days=DEFAULT_DAYS)).isoformat() and not filters.until:
        filters = replace(filters, since="")
    return format_phrase(filters.with_access(True).query())


def menu(
    request: Request, log: AuditLog, principal: Principal, filters: Filters
) -> SavedMenu | None:
    """The saved-views menu of the page, or None for a viewer who may not use it."""
    try:
        views = log.saved_searches(principal)
    except PermissionDenied:
        return None
    wanted = request.query_params.get("saved", "")
    current = next((v for v in views if v.id == wanted), None)
    try:
        phrase: str | None = phrase_of(filters)
    except (InvalidQuery, PhraseSyntaxError):
        phrase = None
    share = None if current is None else base_url(request) + current.viewer_path()
    return SavedMenu(views, current, phrase, request.url.query, share)


def base_url(request: Request) -> str:
    return (deps.settings(request).public_url or str(request.base_url)).rstrip("/")
