"""Viewer sessions: short-lived, signed, single-tenant tokens for one user and role.

The host product mints one (``POST /v1/viewer-sessions``) for a user who opens its
audit-log page; the browser trades it for a cookie. A token is stateless, so every
worker process checks it on its own:

    v1.<base64url(payload)>.<base64url(HMAC-SHA256(key, "v1." + payload))>

where the payload is compact JSON: tenant, user, role, accounts, issued-at and
expiry (Unix seconds) and a random nonce. The key is ``SEALTRAIL_SESSION_SECRET``
when set (any string, at least 32 characters), else derived with HKDF-SHA256 from
the checkpoint signing key, which every worker already reads — so no new secret
has to be provisioned, and replacing the signing key ends every open session.

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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args
from urllib.parse import urlencode

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sealtrail.auth import Principal
from sealtrail.errors import AuthenticationFailed, ConfigurationError, FieldError, InvalidEvent
from sealtrail.events import Actor
from sealtrail.ledger.checkpoint import load_or_create_signer_key
from sealtrail.settings import Settings

ViewerRole = Literal["owner", "admin", "account_admin", "member"]
ROLES: Final[tuple[ViewerRole, ...]] = get_args(ViewerRole)
SECRET_ENV: Final = "SEALTRAIL_SESSION_SECRET"  # noqa: S105 (a variable name)
MIN_SECRET_LENGTH: Final = 32
MAX_TOKEN_LENGTH: Final = 3800  # a cookie holds about 4 KiB
MAX_ACCOUNTS: Final = 100
MAX_TEXT: Final = 256

SESSION_PATH: Final = "/ui/session"
"""Where a session link points: the viewer trades its token for a cookie there."""

_VERSION: Final = "v1"
_HKDF_INFO: Final = b"sealtrail viewer session key v1"
_USER_KEYS: Final = frozenset({"id", "email", "name"})
_BODY_KEYS: Final = frozenset({"user", "role", "account_ids"})


class SessionInvalid(AuthenticationFailed):
    """A token that was not minted here (forged, altered, truncated)."""

    code = "invalid_session"


class InvalidSessionRequest(InvalidEvent):
    """A ``POST /v1/viewer-sessions`` body with bad fields (each named in ``details``)."""

    code = "invalid_session_request"


class SessionExpired(AuthenticationFailed):
    """A token this service minted whose time is up."""

    code = "session_expired"


@dataclass(frozen=True, slots=True)
class ViewerUser:
    id: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ViewerSession:
    tenant_id: str
    user: ViewerUser
    role: ViewerRole
    account_ids: frozenset[str] | None  # only for account_admin
    issued_at: int
    expires_at: int

    @property
    def may_read(self) -> bool:
        return self.role != "member"

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
            session=f"{self.user.id}@{self.issued_at}",
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


def _derive(material: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(material)


def _checked(key: bytes) -> bytes:
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"a session key needs at least {MIN_SECRET_LENGTH} bytes")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def viewer_url(base_url: str, token: str) -> str:
    """The link that opens the viewer with ``token``'s session."""
    return f"{base_url.rstrip('/')}{SESSION_PATH}?{urlencode({'token': token})}"


class SessionSigner:
    """Mints and opens viewer-session tokens with one HMAC key."""

    __slots__ = ("_factory", "_key")

    def __init__(self, key: bytes | Callable[[], bytes]) -> None:
        """``key`` or a function that makes it, called on first use (so building an
        app does not read key files it may never need)."""
        self._key: bytes | None = None
        self._factory: Callable[[], bytes] | None = None
        if callable(key):
            self._factory = key
        else:
            self._key = _checked(key)

    @property
    def key(self) -> bytes:
        if self._key is None:
            assert self._factory is not None
            self._key = _checked(self._factory())
        return self._key

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionSigner:
        """The key from the ``session_secret`` setting, else derived from the signing key.

        The signing key file is read only when a session is first minted or opened.
        """
        secret = settings.session_secret
        if secret:
            if len(secret) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"{SECRET_ENV} (session_secret) must be at least {MIN_SECRET_LENGTH} characters"
                )
            return cls(_derive(secret.encode("utf-8")))
        path = settings.signing_key_file
        return cls(lambda: _derive(load_or_create_signer_key(path).skey.encode("ascii")))

    def _mac(self, signed: bytes) -> bytes:
        return hmac.new(self.key, signed, hashlib.sha256).digest()

    def mint(
        self, tenant_id: str, request: SessionRequest, ttl: int, *, now: int | None = None
    ) -> tuple[str, ViewerSession]:
        issued = int(time.time()) if now is None else now
        session = ViewerSession(
            tenant_id, request.user, request.role, request.account_ids, issued, issued + ttl
        )
        payload = {
            "t": tenant_id,
            "u": {"id": request.user.id, "e": request.user.email, "n": request.user.name},
            "r": request.role,
            "a": None if request.account_ids is None else sorted(request.account_ids),
            "iat": issued,
            "exp": issued + ttl,
            "nonce": secrets.token_urlsafe(9),
        }
        signed = f"{_VERSION}.{_b64(orjson.dumps(payload))}"
        token = f"{signed}.{_b64(self._mac(signed.encode('ascii')))}"
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidSessionRequest(
                "the session does not fit in a cookie",
                [FieldError("account_ids", "too many or too long; mint narrower sessions")],
            )
        return token, session

    def open(self, token: str, *, now: int | None = None) -> ViewerSession:
        """The session a token carries; ``SessionInvalid`` or ``SessionExpired`` otherwise."""
        invalid = SessionInvalid("this viewer session link is not valid")
        if len(token) > MAX_TOKEN_LENGTH:
            raise invalid
        version, _, rest = token.partition(".")
        body, _, mac = rest.partition(".")
        if version != _VERSION or not body or not mac:
            raise invalid
        try:
            expected = _unb64(mac)
            raw = _unb64(body)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(expected, self._mac(f"{version}.{body}".encode("ascii"))):
            raise invalid
        try:
            session = _session(orjson.loads(raw))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise invalid from None
        if (int(time.time()) if now is None else now) >= session.expires_at:
            raise SessionExpired("this viewer session has expired")
        return session


def _session(data: Any) -> ViewerSession:
    user = data["u"]
    role = data["r"]
    if role not in ROLES:
        raise ValueError(role)
    accounts = data["a"]
    return ViewerSession(
        tenant_id=str(data["t"]),
        user=ViewerUser(str(user["id"]), user.get("e"), user.get("n")),
        role=role,
        account_ids=None if accounts is None else frozenset(str(a) for a in accounts),
        issued_at=int(data["iat"]),
        expires_at=int(data["exp"]),
    )
