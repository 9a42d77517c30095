"""The viewer's filters: the query string of ``/ui`` ↔ an ``EventQuery``.

Filters live in the URL so a filtered view can be bookmarked and shared. The
form always submits every field, so a field that is present but blank means "no
filter"; only ``since`` has a default (the last 30 days), applied when the URL
does not mention it at all. Values are validated by ``sealtrail.query``, exactly
as the API validates them: the page passes its fields through
``query_from_params`` and adds the one filter the API spells differently
(``actor``: an id or an email, as the search phrase's ``actor:`` key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from sealtrail.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventQuery,
    Field,
    Term,
    parse_time,
    query_from_params,
)

DEFAULT_DAYS: Final = 30
PAGE_PATH: Final = "/ui"
EXPORT_PATH: Final = "/ui/export"
LIVE_PATH: Final = "/ui/live"
ACCESS_CATEGORY: Final = "audit_log"
"""The category of Sealtrail's own records; naming it in a filter shows its access records."""
SHOW_ACCESS: Final = "shown"
READS: Final = ("audit_log.viewed", "audit_log.exported")
"""Sealtrail's records of someone reading the log: what the list hides by default."""

# Form fields passed through to ``query_from_params`` under the same names.
_API_FIELDS: Final = ("action", "kind", "resource_type", "q", "phrase", "since", "until")
_MORE: Final = {
    "category": "Category",
    "actor_id": "Actor id",
    "actor_email": "Actor email",
    "target_id": "Target id",
    "resource_id": "Resource id",
    "account_id": "Account",
    "outcome": "Outcome",
    "ip": "IP",
}
_LABELS: Final = {
    "since": "From",
    "until": "To",
    "action": "Action",
    "kind": "Kind",
    "resource_type": "Resource type",
    "actor": "Actor",
    "q": "Text",
    "phrase": "Phrase",
}


@dataclass(frozen=True, slots=True)
class Chip:
    """One active filter, with the link that removes it."""

    label: str
    value: str
    remove_url: str


@dataclass(frozen=True, slots=True)
class Filters:
    """What the form shows and the URL carries; ``""`` is an empty field.

    ``more`` holds the API's other filters (``actor_email``, ``account_id``, …)
    when a link carries them: they apply, show as chips and survive the form,
    though the form has no field for them.
    """

    since: str = ""
    until: str = ""
    action: str = ""
    kind: str = ""
    resource_type: str = ""
    actor: str = ""
    q: str = ""
    phrase: str = ""
    more: tuple[tuple[str, str], ...] = ()
    access: str = ""
    """``"shown"``: list Sealtrail's own access records too (see ``hides_access``)."""

    @classmethod
    def from_params(cls, params: Mapping[str, str], today: date | None = None) -> Filters:
        """The filters a query string asks for; ``since`` defaults to 30 days back."""
        values = {name: params.get(name, "").strip() for name in _LABELS}
        if "since" not in params:
            start = (today or datetime.now(UTC).date()) - timedelta(days=DEFAULT_DAYS)
            values["since"] = start.isoformat()
        more = tuple((name, params[name].strip()) for name in _MORE if params.get(name, "").strip())
        access = SHOW_ACCESS if params.get("access", "").strip() == SHOW_ACCESS else ""
        return cls(**values, more=more, access=access)

    @property
    def hides_access(self) -> bool:
        """Whether the list leaves out Sealtrail's records of who viewed and exported the
        log (``READS``), so a reader's own clicks do not bury the trail: by
        default, unless the reader asked to see them or the filters name ``audit_log``
        (an action, a category, a phrase), which says they are what is wanted. Other
        records of the log itself (an erasure, a saved view) are always listed."""
        if self.access == SHOW_ACCESS:
            return False
        named = [self.action, self.phrase, *(value for _, value in self.more)]
        return not any(ACCESS_CATEGORY in value for value in named)

    def with_access(self, shown: bool) -> Filters:
        return replace(self, access=SHOW_ACCESS if shown else "")

    def query(self) -> EventQuery:
        """The query these filters ask for; ``InvalidQuery``/``PhraseSyntaxError`` if bad."""
        api = {name: [getattr(self, name)] for name in _API_FIELDS if getattr(self, name)}
        api.update((name, [value]) for name, value in self.more)
        query, _ = query_from_params(api)
        extra: list[Term] = []
        if self.actor:
            extra.append(Term.of(Field.ACTOR, self.actor, parameter="actor"))
        if self.hides_access:
            # On the action: every action index holds it, so a filter by action still
            # counts from its index alone.
            extra.append(Term(Field.ACTION, READS, negate=True))
        if extra:
            query = EventQuery((*query.terms, *extra), query.time, query.order)
        return query

    def url(self, path: str = PAGE_PATH, **extra: str) -> str:
        """A link to these filters. ``since`` is always written, blank or not, so a
        link keeps "no lower bound" apart from "the default 30 days"."""
        params = {name: getattr(self, name) for name in _LABELS}
        params = {k: v for k, v in params.items() if v or k == "since"}
        params.update(self.more)
        if self.access:
            params["access"] = self.access
        params.update({k: v for k, v in extra.items() if v})
        return f"{path}?{urlencode(params)}"

    def export_url(self, as_of: datetime) -> str:
        """The CSV export of exactly these matches as the page counted them.

        ``until`` is pinned to ``as_of`` (the moment the page searched) so the file
        does not also hold events recorded since, such as this very page view.
        """
        pinned = as_of.astimezone(UTC)
        if self.until:
            pinned = min(pinned, parse_time(self.until, end=True))
        stamp = pinned.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return replace(self, until=stamp).url(EXPORT_PATH)

    def chips(self) -> list[Chip]:
        out = []
        for name, label in _LABELS.items():
            value = getattr(self, name)
            if value:
                cleared: dict[str, Any] = {name: ""}
                out.append(Chip(label, value, replace(self, **cleared).url()))
        for name, value in self.more:
            rest = tuple(item for item in self.more if item[0] != name)
            out.append(Chip(_MORE[name], value, replace(self, more=rest).url()))
        return out

    def all_time_url(self) -> str:
        return replace(self, since="", until="").url()

    @property
    def narrows_beyond_dates(self) -> bool:
        return bool(self.more) or any(
            getattr(self, name) for name in _LABELS if name not in ("since", "until")
        )


def page_limit(raw: str | None) -> int:
    """Rows per page from ``?limit=``; anything unreadable falls back to the default."""
    if raw is None or not raw.strip().isdigit():
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, int(raw)))


def start_index(raw: str | None) -> int | None:
    """The 1-based position of a page's first row, for display only."""
    if raw is None or not raw.strip().isdigit() or len(raw) > 12:
        return None
    return max(1, int(raw))


__all__ = [
    "ACCESS_CATEGORY",
    "DEFAULT_DAYS",
    "EXPORT_PATH",
    "LIVE_PATH",
    "PAGE_PATH",
    "Chip",
    "Filters",
    "page_limit",
    "start_index",
]
