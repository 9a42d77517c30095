"""Who is asking, and what they may see: API keys and principals.

Every request ends as a ``Principal``: a tenant, a set of scopes and, for
viewer sessions of account admins, the accounts it is limited to. ``AuditLog``
takes the principal and applies its tenant and account scope to every read and
write, so the rule lives here once and every edge (API, viewer, CLI) reaches it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final, Literal

from sealtrail.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from sealtrail.events import Actor, Event
from sealtrail.query import EventQuery, Field, Term

Scope = Literal[
    "events:write",
    "events:read",
    "viewer:mint",
    "events:erase",
    "streams:manage",
    "detections:manage",
]
SCOPES: Final[tuple[Scope, ...]] = (
    "events:write",
    "events:read",
    "viewer:mint",
    "events:erase",
    "streams:manage",
    "detections:manage",
)
PrincipalKind = Literal["operator", "api_key", "viewer"]

KEY_PREFIX: Final = "st_"


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    kind: PrincipalKind
    actor: Actor
    scopes: frozenset[str] = frozenset(SCOPES)
    accounts: frozenset[str] | None = None  # None: every account of the tenant
    role: str | None = None
    session: str | None = None  # a viewer session's identity (its user and issue time)

    @classmethod
    def operator(cls, tenant_id: str) -> Principal:
        return cls(tenant_id, "operator", Actor("system", "operator", name="Operator"))

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"this credential lacks the {scope} scope")

    def require_some_scope(self) -> None:
        """Refuse a credential that may do nothing at all (a member's viewer session)."""
        if not self.scopes:
            raise PermissionDenied("this credential may not read or change anything")

    @property
    def may_handle_alerts(self) -> bool:
        """Whether it may acknowledge and resolve alerts: a credential with the
        ``detections:manage`` scope, or the viewer session of a tenant admin (``owner``
        or ``admin``). An account admin's session sees its accounts' alerts read-only."""
        if "detections:manage" in self.scopes:
            return True
        return self.kind == "viewer" and self.role in ("owner", "admin") and self.accounts is None

    def require_alert_handling(self) -> None:
        if not self.may_handle_alerts:
            raise PermissionDenied(
                "acknowledging or resolving an alert needs the detections:manage scope"
                " or a viewer session of an owner or admin"
            )

    @property
    def sees_whole_tenant(self) -> bool:
        return self.accounts is None

    def scoped(self, query: EventQuery) -> EventQuery:
        """The query limited to what this principal may see."""
        if self.accounts is None:
            return query
        term = Term(Field.ACCOUNT_ID, tuple(sorted(self.accounts)))
        return EventQuery(terms=(*query.terms, term), time=query.time, order=query.order)

    def may_see(self, event: Event) -> bool:
        """``scoped``'s rule for one event already read."""
        return event.tenant_id == self.tenant_id and (
            self.accounts is None or event.account_id in self.accounts
        )


def parse_scopes(text: str) -> frozenset[Scope]:
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidInput(
            f"unknown scope {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCOPES)}"
        )
    return frozenset(s for s in SCOPES if s in wanted)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    id: str
    plain: str  # shown once, never stored
    secret_hash: bytes


def generate_api_key() -> NewApiKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(key_id, f"{KEY_PREFIX}{key_id}_{secret}", hash_secret(secret))


def hash_secret(secret: str) -> bytes:
    # The secret is 256 random bits, so a fast hash is enough; a slow KDF
    # would only slow every request down.
    return hashlib.sha256(secret.encode("utf-8")).digest()


def split_api_key(plain: str) -> tuple[str, str]:
    """``st_<id>_<secret>`` → (id, secret); AuthenticationFailed if malformed."""
    if not plain.startswith(KEY_PREFIX):
        raise AuthenticationFailed("the API key is not valid")
    key_id, sep, secret = plain[len(KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        raise AuthenticationFailed("the API key is not valid")
    return key_id, secret


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
