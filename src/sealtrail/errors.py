"""Every error Sealtrail raises on purpose.

Domain code raises these; each edge translates them once (the HTTP API in
``sealtrail.api.errors``, the CLI in ``sealtrail.cli``). Nothing here knows
about HTTP status codes.

    SealtrailError
    ├── InvalidInput                 the caller sent something we cannot take
    │   ├── MalformedBody            not strict JSON / not NDJSON
    │   ├── BodyTooLarge             over the configured size limit
    │   ├── InvalidEvent             per-field validation failures (``details``)
    │   ├── InvalidQuery             a bad search parameter, time or cursor
    │   ├── DestinationRefused       a stream destination that is not a public address
    │   └── PhraseSyntaxError        a search phrase that does not parse
    ├── AuthenticationFailed         no credential, or one we do not know
    ├── PermissionDenied             a known credential without the right
    ├── NotFound                     no such event / tenant / key / proof
    ├── Conflict                     the thing already exists
    │   └── ClassificationFixed      an event type's category/kind cannot change
    ├── LedgerError                  tamper-evidence failures
    │   ├── ProofError               a proof does not verify, or cannot be made
    │   ├── InconsistentTree         a tree that is not an extension of a signed one
    │   └── NoteError                a signed note that is malformed or unverifiable
    ├── RateLimited                  over a rate limit: try again after ``retry_after`` s
    ├── DatabaseUnavailable          the database cannot be reached
    └── ConfigurationError           settings that cannot work, named
        └── NotMigrated              a database without Sealtrail's schema
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One bad field of one event (``index`` is its place in the batch), or of the
    request as a whole (``index`` None: the batch itself, a session request, a type)."""

    field: str
    message: str
    index: int | None = None

    def as_dict(self) -> dict[str, object]:
        where: dict[str, object] = {} if self.index is None else {"index": self.index}
        return {**where, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Quota:
    """Where a caller stands against one rate limit after a request.

    ``policy`` names the limit (``key-writes``, ``tenant-reads`` …); ``quota`` units
    (``unit``: events or requests) are allowed per ``window`` seconds; ``remaining``
    are left now, and the current window ends in ``reset`` seconds.
    """

    policy: str
    quota: int
    window: int
    unit: str
    remaining: int
    reset: int


class SealtrailError(Exception):
    """Base of every deliberate Sealtrail error. ``code`` is stable for clients."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SealtrailError):
    code = "invalid_input"


class MalformedBody(InvalidInput):
    code = "malformed_json"


class BodyTooLarge(InvalidInput):
    code = "payload_too_large"


class InvalidEvent(InvalidInput):
    code = "invalid_event"

    def __init__(self, message: str, details: list[FieldError]) -> None:
        super().__init__(message)
        self.details = details


class DestinationRefused(InvalidInput):
    """A stream destination whose host is (or resolves to) an address Sealtrail will not
    connect to: loopback, private, link-local, multicast … (``details`` names the field)."""

    code = "destination_refused"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.details = [FieldError(field, reason)]


class InvalidQuery(InvalidInput):
    code = "invalid_query"

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class PhraseSyntaxError(InvalidInput):
    """A search phrase that does not parse; ``token`` and ``position`` point at it."""

    code = "invalid_phrase"

    def __init__(self, message: str, token: str, position: int) -> None:
        super().__init__(message)
        self.token = token
        self.position = position


class AuthenticationFailed(SealtrailError):
    code = "unauthenticated"


class PermissionDenied(SealtrailError):
    code = "forbidden"


class CrossSiteRequest(PermissionDenied):
    """A request with the viewer cookie that another site (or port) started."""

    code = "cross_site_request"


class NotFound(SealtrailError):
    code = "not_found"


class Conflict(SealtrailError):
    code = "conflict"


class ClassificationFixed(Conflict):
    """Re-registering an event type with another category or kind: events already
    recorded carry the first one, so it cannot change."""

    code = "event_type_conflict"


class LedgerError(SealtrailError):
    code = "ledger_error"


class ProofError(LedgerError):
    code = "invalid_proof"


class InconsistentTree(LedgerError):
    code = "inconsistent_tree"


class NoteError(LedgerError):
    code = "invalid_note"


class RateLimited(SealtrailError):
    """A request over a key's or a tenant's rate limit; nothing of it was done."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, quotas: tuple[Quota, ...]) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.quotas = quotas


class ConfigurationError(SealtrailError):
    code = "configuration_error"


class DatabaseUnavailable(SealtrailError):
    code = "database_unavailable"


class NotMigrated(ConfigurationError):
    code = "not_migrated"

    def __init__(self) -> None:
        super().__init__("database not migrated — run 'sealtrail migrate'")
