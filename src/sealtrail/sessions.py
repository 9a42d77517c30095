"""Viewer sessions: server-side, revocable, one tenant, one user, one role.

The host product mints one (``POST /v1/viewer-sessions``) for a user who opens its
audit-log page and sends their browser to the **link** it gets back. The link
carries a one-time token: the first request that presents it (``/ui/session``)
redeems it, and the browser gets a cookie holding a *different* secret — so the
link left in the browser's history, a proxy log or a chat message opens nothing
once used, and it expires on its own after ``viewer_link_ttl`` seconds if never
used. The session itself is a row in the database (``viewer_sessions``,
migration 0010) holding the user, role and accounts, when it ends, and — as
SHA-256 hashes only — the link's and the cookie's secrets. Every request with the
cookie reads that row, so a session ends everywhere at once when it is revoked:
by the user signing out, by the host product (by session id or by user id), or
by the operator (``sealtrail sessions revoke``).

Tokens name their tenant and session, so finding a session is one primary-key
read in one tenant::

    link:   vl1.<base64url(tenant id)>.<session id>.<secret>
    cookie: vs1.<base64url(tenant id)>.<session id>.<secret>

What a role may see is decided here, once, by ``ViewerSession.principal``:
``owner`` and ``admin`` read the whole tenant, ``account_admin`` only the accounts
named in the session (``Principal.accounts``, applied by ``Principal.scoped``),
and ``member`` gets no scope at all, so every read refuses it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args
from urllib.parse import urlencode

from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed, FieldError, InvalidEvent, InvalidInput
from sealtrail.events import Actor
from sealtrail.limits import MAX_FRAME_ANCESTORS

if TYPE_CHECKING:
    from sealtrail.store.base import EventStore

ViewerRole = Literal["owner", "admin", "account_admin", "member"]
ROLES: Final[tuple[ViewerRole, ...]] = get_args(ViewerRole)
MAX_ACCOUNTS: Final = 100
MAX_TEXT: Final = 256

SESSION_PATH: Final = "/ui/session"
"""Where a session link points: the viewer redeems its token for a cookie there."""

LINK_PREFIX: Final = "vl1"
COOKIE_PREFIX: Final = "vs1"
MAX_TOKEN_LENGTH: Final = 512

RevokedBy = Literal["sign_out", "host", "operator", "replaced"]

_USER_KEYS: Final = frozenset({"id", "email", "name"})
_BODY_KEYS: Final = frozenset({"user", "role", "account_ids"})


class SessionInvalid(AuthenticationFailed):
    """A token that names no session of this service (forged, altered, truncated)."""

    code = "invalid_session"


class SessionUsed(AuthenticationFailed):
    """A link whose one use is spent (or whose session was revoked)."""

    code = "session_link_used"


class SessionRevoked(AuthenticationFailed):
    """A session that was signed out or revoked."""

    code = "session_revoked"


class SessionExpired(AuthenticationFailed):
    """A session (or an unused link) whose time is up."""

    code = "session_expired"


class InvalidSessionRequest(InvalidEvent):
    """A ``POST /v1/viewer-sessions`` body with bad fields (each named in ``details``)."""

    code = "invalid_session_request"


@dataclass(frozen=True, slots=True)
class ViewerUser:
    id: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ViewerSession:
    """One viewer session as stored. Times are microseconds since the epoch."""

    tenant_id: str
    id: str
    user: ViewerUser
    role: ViewerRole
    account_ids: frozenset[str] | None  # only for account_admin
    created_at: int
    expires_at: int
    link_expires_at: int
    link_hash: bytes = b""
    cookie_hash: bytes | None = None
    redeemed_at: int | None = None
    revoked_at: int | None = None
    revoked_by: str | None = None

    @property
    def may_read(self) -> bool:
        return self.role != "member"

    def status(self, now: int) -> str:
        """``active``, ``pending`` (link not used yet), ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at or (self.redeemed_at is None and now >= self.link_expires_at):
            return "expired"
        return "pending" if self.redeemed_at is None else "active"

    def principal(self) -> Principal:
        """The one mapping from a viewer's role to what it may see."""
        accounts: frozenset[str] | None = None
        if self.role == "account_admin":
            accounts = self.account_ids or frozenset()
        elif self.role == "member":
            accounts = frozenset()
        return Principal(
            tenant_id=self.tenant_id,
            kind="viewer",
            actor=Actor(
                "user", self.user.id, role=self.role, name=self.user.name, email=self.user.email
            ),
            scopes=frozenset({"events:read"}) if self.may_read else frozenset(),
            accounts=accounts,
            role=self.role,
            session=self.id,
        )


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A validated ``POST /v1/viewer-sessions`` body."""

    user: ViewerUser
    role: ViewerRole
    account_ids: frozenset[str] | None

    @classmethod
    def from_body(cls, body: object) -> SessionRequest:
        """Validate the JSON body; ``InvalidEvent`` (422) naming every bad field."""
        problems: list[FieldError] = []

        def bad(field: str, message: str) -> None:
            problems.append(FieldError(field, message))

        if not isinstance(body, Mapping):
            raise InvalidSessionRequest(
                "the body must be a JSON object", [FieldError("", "not an object")]
            )
        for key in sorted(set(body) - _BODY_KEYS):
            bad(key, "unknown field")
        user = _user(body.get("user"), bad)
        role = body.get("role")
        if role not in ROLES:
            bad("role", f"must be one of {', '.join(ROLES)}")
        accounts = _accounts(body.get("account_ids"), role, bad)
        if problems or user is None:
            raise InvalidSessionRequest("the viewer session request is not valid", problems)
        assert role in ROLES
        return cls(user, role, accounts)


_Report = Callable[[str, str], None]


def _text(value: object, field: str, bad: _Report, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            bad(field, "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        bad(field, "must be a non-empty string")
        return None
    if len(value) > MAX_TEXT:
        bad(field, f"is longer than {MAX_TEXT} characters")
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        bad(field, "must not contain control characters")
        return None
    return value


def _user(value: object, bad: _Report) -> ViewerUser | None:
    if not isinstance(value, Mapping):
        bad("user", "is required: an object with id, email and name")
        return None
    for key in sorted(set(value) - _USER_KEYS):
        bad(f"user.{key}", "unknown field")
    ident = _text(value.get("id"), "user.id", bad, required=True)
    email = _text(value.get("email"), "user.email", bad)
    if email is not None and "@" not in email:
        bad("user.email", "is not an email address")
    name = _text(value.get("name"), "user.name", bad)
    return None if ident is None else ViewerUser(ident, email, name)


def _accounts(value: object, role: object, bad: _Report) -> frozenset[str] | None:
    if role != "account_admin":
        if value not in (None, []):
            bad("account_ids", "applies only to the account_admin role")
        return None
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        bad("account_ids", "is required for account_admin: a non-empty list of account ids")
        return None
    if len(value) > MAX_ACCOUNTS:
        bad("account_ids", f"holds at most {MAX_ACCOUNTS} accounts")
        return None
    ids = [_text(item, f"account_ids[{i}]", bad) for i, item in enumerate(value)]
    clean = [i for i in ids if i is not None]
    return frozenset(clean) if len(clean) == len(ids) else None


# -- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """A link or cookie token taken apart (not yet checked against the database)."""

    tenant_id: str
    session_id: str
    secret: str

    def matches(self, stored_hash: bytes | None) -> bool:
        return stored_hash is not None and hmac.compare_digest(
            hash_secret(self.secret), bytes(stored_hash)
        )


def new_session_id() -> str:
    return f"vs_{secrets.token_hex(12)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    # 256 random bits: a fast hash is enough, and what the database holds opens nothing.
    return hashlib.sha256(secret.encode("ascii")).digest()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def make_token(prefix: str, tenant_id: str, session_id: str, secret: str) -> str:
    return f"{prefix}.{_b64(tenant_id)}.{session_id}.{secret}"


def not_valid(prefix: str) -> SessionInvalid:
    """The one answer to a token that opens nothing, whatever is wrong with it."""
    what = "session link" if prefix == LINK_PREFIX else "session"
    return SessionInvalid(f"this viewer {what} is not valid")


def parse_token(prefix: str, token: str) -> Token:
    """The parts of a ``prefix`` token; ``SessionInvalid`` when it is not one."""
    invalid = not_valid(prefix)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != prefix or not all(parts[1:]):
        raise invalid
    try:
        tenant_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, ValueError):
        raise invalid from None
    session_id = parts[2]
    if not session_id.startswith("vs_") or not session_id[3:].isalnum():
        raise invalid
    return Token(tenant_id, session_id, parts[3])


def viewer_url(base_url: str, token: str) -> str:
    """The link that opens the viewer with ``token``'s session."""
    return f"{base_url.rstrip('/')}{SESSION_PATH}?{urlencode({'token': token})}"


# -- embedding ---------------------------------------------------------------------------


def parse_frame_ancestors(value: str | Sequence[str]) -> tuple[str, ...]:
    """The origins a tenant lets frame its viewer: ``https://host[:port]`` each, or none.

    ``InvalidInput`` names a source that is not a bare origin (no path, wildcard,
    keyword or quote), so nothing but an exact origin reaches the CSP header.
    """
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    found: list[str] = []
    for item in items:
        origin = item.strip().rstrip("/")
        scheme, sep, rest = origin.partition("://")
        host = rest.partition(":")[0]
        port = rest.partition(":")[2]
        if (
            scheme not in ("https", "http")
            or not sep
            or not host
            or any(c in rest for c in "/?#*'\";,\\ ")
            or not all(c.isalnum() or c in "-." for c in host)
            or (port and not (port.isdigit() and 0 < int(port) < 65536))
        ):
            raise InvalidInput(
                f"{item!r} is not an origin: give each as https://host or https://host:port"
            )
        if origin not in found:
            found.append(origin)
    if len(found) > MAX_FRAME_ANCESTORS:
        raise InvalidInput(f"at most {MAX_FRAME_ANCESTORS} origins may frame the viewer")
    return tuple(found)


# -- the rules: minting, redeeming, opening, revoking ----------------------------------


class Sessions:
    """Viewer sessions over the store: what ``AuditLog``'s session methods do.

    Times are microseconds since the epoch; ``now`` is passed in so tests need no clock.
    """

    __slots__ = ("_store",)

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def mint(
        self, tenant_id: str, request: SessionRequest, ttl: int, link_ttl: int, now: int
    ) -> tuple[ViewerSession, str]:
        """A new session and its link token (the only time the link's secret exists)."""
        secret = new_secret()
        session = ViewerSession(
            tenant_id=tenant_id,
            id=new_session_id(),
            user=request.user,
            role=request.role,
            account_ids=request.account_ids,
            created_at=now,
            expires_at=now + ttl * 1_000_000,
            link_expires_at=now + min(link_ttl, ttl) * 1_000_000,
            link_hash=hash_secret(secret),
        )
        self._store.add_viewer_session(session)
        return session, make_token(LINK_PREFIX, tenant_id, session.id, secret)

    def _find(self, prefix: str, text: str) -> ViewerSession:
        """The session a ``prefix`` token names, if its secret matches. A session id that
        exists (in any tenant) with a wrong secret answers exactly as one that never
        existed, so no token tells whether a session id is real."""
        token = parse_token(prefix, text)
        found = self._store.get_viewer_session(token.tenant_id, token.session_id)
        stored = None
        if found is not None:
            stored = found.link_hash if prefix == LINK_PREFIX else found.cookie_hash
        if found is None or not token.matches(stored):
            raise not_valid(prefix)
        return found

    def link_session(self, link: str, now: int) -> ViewerSession:
        """The session an unused, unexpired link opens (nothing is spent)."""
        session = self._find(LINK_PREFIX, link)
        if session.redeemed_at is not None or session.revoked_at is not None:
            raise SessionUsed("this viewer session link was already used")
        if session.status(now) == "expired":
            raise SessionExpired("this viewer session link has expired")
        return session

    def redeem(self, link: str, now: int) -> tuple[ViewerSession, str]:
        """Spend the link: the session and the cookie that carries it from now on."""
        session = self.link_session(link, now)
        secret = new_secret()
        if not self._store.redeem_viewer_session(
            session.tenant_id, session.id, hash_secret(secret), now
        ):
            raise SessionUsed("this viewer session link was already used")
        cookie = make_token(COOKIE_PREFIX, session.tenant_id, session.id, secret)
        return session, cookie

    def open(self, cookie: str, now: int) -> ViewerSession:
        """The live session a cookie carries; ``SessionInvalid``, ``SessionRevoked`` or
        ``SessionExpired`` otherwise."""
        session = self._find(COOKIE_PREFIX, cookie)
        if session.revoked_at is not None:
            raise SessionRevoked("this viewer session was signed out or revoked")
        if now >= session.expires_at:
            raise SessionExpired("this viewer session has expired")
        return session

    def revoke(
        self,
        tenant_id: str,
        by: RevokedBy,
        now: int,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        return self._store.revoke_viewer_sessions(
            tenant_id, at=now, by=by, session_id=session_id, user_id=user_id
        )

    def list(
        self, tenant_id: str, now: int, *, user_id: str | None = None, live: bool = False
    ) -> list[ViewerSession]:
        return self._store.list_viewer_sessions(
            tenant_id, user_id=user_id, live_at=now if live else None
        )
