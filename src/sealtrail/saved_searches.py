"""Saved searches: a search phrase kept under a name, shared with a tenant's admins or private.

Who may do what is decided here, once, and ``AuditLog`` applies it:

* Only a principal that reads the whole tenant uses saved searches: an API key
  with ``events:read``, a viewer who is an ``owner`` or ``admin``, the operator.
  An account admin (limited to some accounts) and a member are refused: a shared
  phrase may name what lies outside their accounts.
* A **shared** search is seen by every one of them, and any of them may delete it
  (the tenant's admins look after the shared list together).
* A **private** search belongs to the viewer's user id: only that user sees it or
  deletes it; to anyone else it does not exist. An API key and the operator have no
  user, so they save shared searches only.

Names are unique among the tenant's shared searches, and among one user's private
ones; a private search may carry the name of a shared one (the menu shows which is
which).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from sealtrail.auth import Principal
from sealtrail.errors import (
    FieldError,
    InvalidEvent,
    InvalidQuery,
    PermissionDenied,
    PhraseSyntaxError,
)
from sealtrail.events import format_timestamp
from sealtrail.limits import MAX_SAVED_SEARCH_NAME, MAX_SAVED_SEARCHES
from sealtrail.query import MAX_PHRASE_LENGTH, parse_phrase

__all__ = [
    "MAX_SAVED_SEARCHES",
    "InvalidSavedSearch",
    "SavedSearch",
    "SavedSearchRequest",
    "check_user",
    "owner_of",
    "visible_to",
]

_FIELDS: Final = frozenset({"name", "phrase", "shared"})
VIEWER_PATH: Final = "/ui"


class InvalidSavedSearch(InvalidEvent):
    """A ``POST /v1/saved-searches`` body with bad fields (each named in ``details``)."""

    code = "invalid_saved_search"


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A saved search as stored. ``owner`` is the user id of a private one, None if shared."""

    id: str
    tenant_id: str
    name: str
    phrase: str
    owner: str | None
    created_by: str  # the creating actor, as JSON
    created_at: int

    @property
    def shared(self) -> bool:
        return self.owner is None

    def viewer_path(self) -> str:
        """Where the viewer shows it (a link to share): its phrase over the viewer's
        default range (the last 30 days), or, when the phrase names a time range of its
        own (``created:``), over exactly that range."""
        params = {"phrase": self.phrase, "saved": self.id}
        time = parse_phrase(self.phrase).time
        if time.since is not None or time.until is not None:
            params = {"since": "", **params}
        return f"{VIEWER_PATH}?{urlencode(params)}"

    def to_dict(self, base_url: str) -> dict[str, Any]:
        """The API's JSON object; ``url`` opens it in the viewer under ``base_url``."""
        return {
            "id": self.id,
            "name": self.name,
            "phrase": self.phrase,
            "shared": self.shared,
            "created_at": format_timestamp(self.created_at),
            "url": base_url.rstrip("/") + self.viewer_path(),
        }


@dataclass(frozen=True, slots=True)
class SavedSearchRequest:
    """A validated ``{"name", "phrase", "shared"?}`` (``shared`` defaults to false)."""

    name: str
    phrase: str
    shared: bool = False

    @classmethod
    def from_body(cls, body: object) -> SavedSearchRequest:
        """Validate the JSON body; ``InvalidSavedSearch`` (422) naming every bad field."""
        if not isinstance(body, Mapping):
            raise InvalidSavedSearch(
                "the body must be a JSON object", [FieldError("", "not an object")]
            )
        problems = [FieldError(key, "unknown field") for key in sorted(set(body) - _FIELDS)]
        name = body.get("name")
        phrase = body.get("phrase")
        shared = body.get("shared", False)
        if not isinstance(shared, bool):
            problems.append(FieldError("shared", "must be true or false"))
        if not isinstance(phrase, str):
            problems.append(FieldError("phrase", "is required: a search phrase (a string)"))
        if not isinstance(name, str):
            problems.append(FieldError("name", "is required: a string"))
        if problems:
            raise InvalidSavedSearch("the saved search is not valid", problems)
        assert isinstance(name, str) and isinstance(phrase, str) and isinstance(shared, bool)
        return cls.of(name, phrase, shared)

    @classmethod
    def of(cls, name: str, phrase: str, shared: bool = False) -> SavedSearchRequest:
        """Check a name and a phrase (it must parse); surrounding blanks are dropped."""
        problems: list[FieldError] = []
        name = name.strip()
        if not name:
            problems.append(FieldError("name", "must not be blank"))
        elif len(name) > MAX_SAVED_SEARCH_NAME:
            problems.append(
                FieldError("name", f"is longer than {MAX_SAVED_SEARCH_NAME} characters")
            )
        elif any(ord(c) < 32 or ord(c) == 127 for c in name):
            problems.append(FieldError("name", "must not contain control characters"))
        phrase = phrase.strip()
        if len(phrase) > MAX_PHRASE_LENGTH:
            problems.append(FieldError("phrase", f"is longer than {MAX_PHRASE_LENGTH} characters"))
        else:
            try:
                parse_phrase(phrase)
            except (PhraseSyntaxError, InvalidQuery) as exc:
                problems.append(FieldError("phrase", f"does not parse: {exc.message}"))
        if problems:
            raise InvalidSavedSearch("the saved search is not valid", problems)
        return cls(name, phrase, shared)


def check_user(principal: Principal) -> None:
    """Refuse a principal that may not use saved searches (see the module's docstring)."""
    principal.require("events:read")
    if not principal.sees_whole_tenant or (
        principal.kind == "viewer" and principal.role not in ("owner", "admin")
    ):
        raise PermissionDenied("saved searches are for the tenant's owners and admins")


def owner_of(principal: Principal, shared: bool) -> str | None:
    """Who a new search belongs to: None when shared, else the viewer's user id."""
    if shared:
        return None
    if principal.kind != "viewer":
        raise InvalidSavedSearch(
            "the saved search is not valid",
            [
                FieldError(
                    "shared",
                    "must be true: a private search belongs to a viewer's user, "
                    "and this credential has none",
                )
            ],
        )
    return principal.actor.id


def visible_to(principal: Principal, search: SavedSearch) -> bool:
    """Whether the principal sees (and so may delete) this search."""
    if search.tenant_id != principal.tenant_id:
        return False
    return search.shared or (principal.kind == "viewer" and search.owner == principal.actor.id)
