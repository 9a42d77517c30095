"""The OpenAPI document's pieces: every shape, parameter, error and credential.

Handlers write JSON with orjson directly (a response model on the hot path
costs more than the database); the models and schemas here exist so
``/openapi.json`` and ``/docs`` describe exactly what is written and read. They
are built from the definitions the code validates with (``sealtrail.limits``,
the query parameters of ``sealtrail.query``, the catalog's and erasures' field
sets), and tests/api/test_openapi.py fails when the document and the code part
ways.

Each route passes ``**operation(...)`` to its decorator: its error statuses
(every one in the one error shape, ``ErrorOut``), its credentials, its
parameters, its body and its links to the operations that use what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from sealtrail.detections.rules import HOURS, Hours
from sealtrail.events import EVENT_FIELDS, SERVER_FIELDS
from sealtrail.limits import (
    ACTION_REGEX,
    ACTOR_TYPES,
    ALERT_STATUSES,
    DEFAULT_BUCKETS,
    DEFAULT_PAGE,
    EXPORT_FORMATS,
    KINDS,
    MAX_ACTION,
    MAX_BATCH,
    MAX_BUCKETS,
    MAX_CONTEXT_BYTES,
    MAX_CONTEXT_VALUES,
    MAX_DESCRIPTION,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_OFFSET,
    MAX_PAGE,
    MAX_REASON,
    MAX_RETENTION_DAYS,
    MAX_RETENTION_RULES,
    MAX_RULE_NAME,
    MAX_RULE_TITLE,
    MAX_SAVED_SEARCH_NAME,
    MAX_SECRET_OVERLAP,
    MAX_STREAM_NAME,
    MAX_STREAM_URL,
    MAX_TYPE,
    MAX_USER_AGENT,
    OUTCOMES,
    RETENTION_PREFIX_REGEX,
    RULE_NAME_REGEX,
    SEVERITIES,
    SLUG_REGEX,
    STREAM_FORMATS,
    ActorType,
    AlertStatus,
    DeliveryKind,
    Kind,
    Outcome,
    Severity,
    StreamFormat,
    StreamState,
)
from sealtrail.query import MAX_PHRASE_LENGTH
from sealtrail.query.params import MAX_ACTIONS
from sealtrail.query.values import MAX_VALUE_LENGTH
from sealtrail.server.session_cookie import COOKIE, SECURE_COOKIE
from sealtrail.streams.config import SIGNING_SCHEMES, STREAM_STATUSES

JSON: Final = "application/json"


class ActorOut(BaseModel):
    type: ActorType
    id: str
    role: str | None = None
    name: str | None = None
    email: str | None = None


class TargetOut(BaseModel):
    type: str
    id: str
    name: str | None = None
    email: str | None = None


class ResourceOut(BaseModel):
    type: str
    id: str
    name: str | None = None


class ProofOut(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str = Field(description="base64 RFC 6962 leaf hash")
    proof: list[str]
    checkpoint: str | None = None


class EventOut(BaseModel):
    id: str
    seq: int
    tenant_id: str
    action: str
    category: str
    kind: Kind
    occurred_at: str
    received_at: str
    outcome: Outcome
    actor: ActorOut
    target: TargetOut | None = None
    resource: ResourceOut | None = None
    account_id: str | None = None
    description: str | None = None
    context: dict[str, Any] | Literal["[erased]"] | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    salts: dict[str, str] | None = Field(None, description="only with ?include=salts")
    commitments: dict[str, str] | None = Field(
        None, description="the commitment of each erased field, by path (docs/privacy.md)"
    )
    proof: ProofOut | None = None


class Receipt(BaseModel):
    id: str
    seq: int


class IngestResponse(BaseModel):
    events: list[Receipt]


class EventPage(BaseModel):
    events: list[EventOut]
    next_cursor: str | None
    total: int | None


class HistogramBucket(BaseModel):
    start: str = Field(description="RFC 3339, inclusive")
    end: str = Field(description="RFC 3339, exclusive")
    count: int
    by_kind: dict[str, int] = Field(description="create, update, delete, access and other")
    failures: int = Field(description="matches with outcome failure")


class Histogram(BaseModel):
    since: str
    until: str
    interval: int = Field(description="bucket width in seconds (the first and last are clipped)")
    total: int
    buckets: list[HistogramBucket]


class SeedPage(BaseModel):
    events: list[EventOut]
    total: int
    limit: int
    offset: int


class SavedSearchOut(BaseModel):
    id: str
    name: str
    phrase: str
    shared: bool
    created_at: str
    url: str = Field(description="opens it in the viewer")


class SavedSearchList(BaseModel):
    saved_searches: list[SavedSearchOut]


class CheckpointOut(BaseModel):
    checkpoint: str = Field(
        description="the signed note (C2SP tlog-checkpoint), cosigned if witnessed"
    )
    tree_size: int
    root_hash: str = Field(description="base64")
    verifier_key: str = Field(description="the log's public key (C2SP vkey)")


class InclusionOut(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str = Field(description="base64 RFC 6962 leaf hash")
    proof: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]


class EventTypeOut(BaseModel):
    name: str
    category: str
    kind: Kind
    description: str
    expects_target: bool
    resource_type: str | None
    builtin: bool


class CategoryOut(BaseModel):
    slug: str
    label: str
    actions: list[str]


class CatalogOut(BaseModel):
    categories: list[CategoryOut]
    event_types: list[EventTypeOut]


class EventTypeVersionOut(EventTypeOut):
    version: int
    registered_at: str


class ErasureOut(BaseModel):
    erasure_id: str | None
    status: Literal["running", "done", "dry_run"]
    events_matched: int
    events_erased: int | None = None
    subject: str | None = Field(None, description="how the subject was named, never its value")
    reason: str | None = None
    created_at: str | None = None
    finished_at: str | None = None


# -- streams, detections, alerts, retention ----------------------------------------------
# What stream_admin's, detections' and retention's ``to_dict`` write, member for member;
# closed (``extra="forbid"``), so a member the code adds without documenting it fails
# tests/api/test_openapi.py, the API tests (tests/documented.py checks every response)
# and the fuzz run's response_schema_conformance.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""A time as ``events.format_timestamp`` writes it: RFC 3339 in UTC, with microseconds."""


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _sometimes(description: str, **constraints: Any) -> Any:
    """A member the code writes only when ``description`` says so: absent otherwise,
    never null (``x: str | SkipJsonSchema[None] = _sometimes(...)``)."""
    return Field(None, description=description, json_schema_extra=_no_default, **constraints)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookDestinationOut(_Closed):
    type: Literal["webhook"]
    url: str


class SyslogDestinationOut(_Closed):
    type: Literal["syslog"]
    host: str
    port: int = Field(ge=1, le=65535)
    tls: bool


class StreamProgressOut(_Closed):
    next_seq: int = Field(ge=0, description="the seq the stream delivers next")
    lag: int = Field(ge=0, description="events of the log past next_seq")
    attempts: int = Field(ge=0, description="failed attempts in the current run of failures")
    last_error: str | None
    failing_since: Timestamp | None
    retry_at: Timestamp | None = Field(description="null unless a failure is being retried")


class V1SigningOut(_Closed):
    scheme: Literal["v1"] = Field(description="HMAC-SHA256")


class V1aSigningOut(_Closed):
    scheme: Literal["v1a"] = Field(description="Ed25519")
    public_key: str = Field(pattern="^whpk_", description="what receivers verify with")


class V1KeyOut(_Closed):
    current: bool
    retires_at: int | None = Field(description="Unix seconds; null for the current key")
    scheme: Literal["v1"]


class V1aKeyOut(_Closed):
    current: bool
    retires_at: int | None = Field(description="Unix seconds; null for the current key")
    scheme: Literal["v1a"]
    public_key: str = Field(pattern="^whpk_")


class _StreamOut(_Closed):
    id: str
    name: str
    format: StreamFormat
    filter: str | None = Field(description="a search phrase; null: every event")
    status: StreamState
    created_at: Timestamp
    updated_at: Timestamp
    delivery: StreamProgressOut


class WebhookStreamOut(_StreamOut):
    destination: WebhookDestinationOut
    signing: Annotated[V1SigningOut | V1aSigningOut, Field(discriminator="scheme")] | None = Field(
        description="the current key's scheme (null: no current key)"
    )
    signing_keys: list[Annotated[V1KeyOut | V1aKeyOut, Field(discriminator="scheme")]] = Field(
        description="the keys that sign now, never a secret: the current one and rotated ones"
        " until they retire"
    )


class WebhookStreamNewKeyOut(WebhookStreamOut):
    secret: str | SkipJsonSchema[None] = _sometimes(
        "the v1 secret Sealtrail generated (whsec_…), in this answer only: absent for a v1a"
        " key (receivers need only signing.public_key) and for a key the owner sent",
        pattern="^whsec_",
    )


class SyslogStreamOut(_StreamOut):
    destination: SyslogDestinationOut


class StreamOut(RootModel[WebhookStreamOut | SyslogStreamOut]):
    """A stream (never a secret)."""


class CreatedStreamOut(RootModel[WebhookStreamNewKeyOut | SyslogStreamOut]):
    """A stream just created: a webhook's generated v1 secret shows here, once."""


class StreamList(_Closed):
    streams: list[StreamOut]


class DeliveryAttemptOut(_Closed):
    id: str
    at: Timestamp
    kind: DeliveryKind
    first_seq: int | None = Field(description="the batch's first seq; null for a test")
    last_seq: int | None
    events: int = Field(ge=0)
    attempt: int = Field(ge=1, description="of this batch: 1, then each retry")
    delivered: bool
    status: int | None = Field(description="the HTTP status; null without an HTTP answer")
    latency_ms: float = Field(ge=0)
    error: str | None


class DeliveryLog(_Closed):
    deliveries: list[DeliveryAttemptOut] = Field(description="newest first")


class StreamTestOut(_Closed):
    delivery: DeliveryAttemptOut


class RuleOut(_Closed):
    name: str
    title: str
    phrase: str
    condition: str | None
    context: dict[str, list[str]] | None
    hours: Hours | None
    severity: Severity
    enabled: bool
    builtin: bool


class DetectionSettingsOut(_Closed):
    timezone: str = Field(description="an IANA time zone")
    business_hours: str = Field(description="like `Mon-Fri 08:00-18:00`")


class RuleList(_Closed):
    rules: list[RuleOut]
    settings: DetectionSettingsOut


class ReplayAlertOut(_Closed):
    rule: str
    severity: Severity
    summary: str
    event_ids: list[str]
    event_seqs: list[int]
    event_count: int = Field(ge=1)
    first_event_at: Timestamp
    last_event_at: Timestamp
    search: str = Field(description="a search phrase showing the events around it")


class ReplayOut(_Closed):
    alerts: list[ReplayAlertOut] = Field(description="what the rule would have opened")


class AlertOut(_Closed):
    id: str
    rule: str
    severity: Severity
    opened_at: Timestamp
    status: AlertStatus
    event_ids: list[str] = Field(description="up to 100, in log order")
    summary: str
    title: str
    group: dict[str, str] = Field(description="the values it was counted by")
    event_seqs: list[int]
    event_count: int = Field(ge=1, description="all of them")
    first_event_at: Timestamp
    last_event_at: Timestamp
    search: str = Field(description="a search phrase showing the events around it")
    acknowledged_by: str | None
    acknowledged_at: Timestamp | None
    resolved_by: str | None
    resolved_at: Timestamp | None


class AlertPage(_Closed):
    alerts: list[AlertOut] = Field(description="newest first")
    next_before: str | None = Field(description="`before` for the next page; null: no more")


class RetentionRuleOut(_Closed):
    action_prefix: str = Field(pattern=RETENTION_PREFIX_REGEX)
    days: int = Field(ge=1, le=MAX_RETENTION_DAYS)


class RetentionOut(_Closed):
    tenant_id: str
    days: int | None = Field(ge=1, le=MAX_RETENTION_DAYS, description="null: forever")
    rules: list[RetentionRuleOut] = Field(description="the longest matching prefix wins")


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    schema_: str | None = Field(None, alias="schema", description="the migration revision")
    reason: str | None = None
    signer_refused: dict[str, str] | None = None


class FieldProblem(BaseModel):
    index: int | None = Field(None, description="the event's place in the batch")
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, for clients: docs/api.md lists them")
    message: str
    details: list[FieldProblem] | None = Field(None, description="each bad field (422)")
    parameter: str | None = Field(None, description="the query parameter at fault")
    token: str | None = Field(None, description="where a search phrase stops parsing")
    position: int | None = None


class ErrorOut(BaseModel):
    """The one shape of every error response."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


_NO_CONTROL: Final = r"^[^\x00-\x1f\x7f]*$"
_EMAIL: Final = r"^[^\s\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+$"
_NAME_LINE: Final = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""A name on one line with something besides blanks (no control character anywhere)."""
_PY_SPACE: Final = (
    "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What Python's ``str.isspace()`` and ``str.strip()`` take for blanks (more than JSON
Schema's ``\\s``: ``\\x85`` and ``\\x1c``-``\\x1f`` too), for a character class; the
characters themselves, so every regex dialect reads the same class."""
_NOT_BLANK: Final = f"[^{_PY_SPACE}]"
"""Something besides what Python's ``str.strip()`` drops."""


def _string(
    max_length: int | None = None, *, nullable: bool = False, **extra: Any
) -> dict[str, Any]:
    """A string (``nullable``: or null, which the validators read as absent)."""
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def _text(
    max_length: int = MAX_NAME, *, required: bool = False, line: bool = False, **extra: Any
) -> dict[str, Any]:
    """A text field of an event: non-empty when required, on one line when ``line``."""
    if required:
        extra["minLength"] = 1
    if line:
        extra["pattern"] = _NO_CONTROL
    return _string(max_length, nullable=not required, **extra)


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


# The event as a producer sends it, from the same limits and rules the validator
# applies (sealtrail.limits, sealtrail.events); tests/api/test_openapi.py fails when
# the field sets drift.
ACTOR_IN: Final = {
    **_object(
        {
            "type": {"type": "string", "enum": list(ACTOR_TYPES)},
            "id": _text(description="required unless type is system"),
            "role": _text(MAX_TYPE, line=True),
            "name": _text(),
            "email": _string(MAX_EMAIL, nullable=True, pattern=_EMAIL),
        },
        ["type"],
    ),
    "if": {"properties": {"type": {"const": "system"}}},
    "else": {"required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}},
}
TARGET_IN: Final = _object(
    {
        "type": _text(MAX_TYPE, required=True, line=True),
        "id": _text(required=True),
        "name": _text(),
        "email": _string(MAX_EMAIL, nullable=True, pattern=_EMAIL),
    },
    ["type", "id"],
)
RESOURCE_IN: Final = _object(
    {
        "type": _text(MAX_TYPE, required=True, line=True),
        "id": _text(required=True),
        "name": _text(),
    },
    ["type", "id"],
)
EVENT_IN: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["action", "actor"],
    "properties": {
        "id": _string(MAX_ID, nullable=True, minLength=1, pattern=_NO_CONTROL),
        "action": _string(MAX_ACTION, pattern=ACTION_REGEX),
        "occurred_at": _string(
            nullable=True,
            format="date-time",
            description="from 1970-01-01T00:00:00Z to `max_clock_skew` ahead of the server",
        ),
        "actor": ACTOR_IN,
        "target": {**TARGET_IN, "type": ["object", "null"]},
        "resource": {**RESOURCE_IN, "type": ["object", "null"]},
        "account_id": _text(),
        "description": _text(MAX_DESCRIPTION),
        "context": {
            "type": ["object", "null"],
            "description": f"at most {MAX_CONTEXT_BYTES} bytes of JSON; integers within ±2^53",
        },
        "ip": {
            "anyOf": [
                {"type": "string", "format": "ipv4"},
                {"type": "string", "format": "ipv6"},
                {"type": "null"},
            ]
        },
        "user_agent": _text(MAX_USER_AGENT),
        "outcome": {"type": "string", "enum": list(OUTCOMES)},
        "request_id": _text(),
    },
    "propertyNames": {"enum": sorted(EVENT_FIELDS | SERVER_FIELDS)},
    "description": f"{', '.join(sorted(SERVER_FIELDS))} are set by the server: sent, ignored",
}

_BATCH: Final[dict[str, Any]] = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_BATCH,
    "items": EVENT_IN,
}
# -- query parameters, typed as sealtrail.query reads them ------------------------------
_VALUE: Final = {"type": "string", "maxLength": MAX_VALUE_LENGTH, "pattern": r"^[^\x00]*$"}
"""A filter's value: any text a store can hold (no NUL; sealtrail.query.values.check_text)."""
_ACTION_OR_PREFIX: Final = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.([a-z][a-z0-9_]*|\*)$"
_TIME: Final = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
    "examples": ["2026-03-01", "2026-03-01T10:00:00Z"],
}


def _param(
    name: str,
    description: str,
    schema: Mapping[str, Any] | None = None,
    *,
    required: bool = False,
    blank: bool = False,
) -> dict[str, Any]:
    """A query parameter; ``blank``: sent empty, it counts as not sent (as a form's blank field)."""
    param = {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": dict(schema or _VALUE),
    }
    if blank:
        param["allowEmptyValue"] = True
    return param


def _filter(name: str, description: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A parameter of the searches (``sealtrail.query.params``): blank counts as not sent."""
    return _param(name, description, schema, blank=True)


def param(
    name: str, description: str, schema: Mapping[str, Any] | None = None, *, required: bool = False
) -> dict[str, Any]:
    """A query parameter of an operation (for routers that document their own)."""
    return _param(name, description, schema, required=required)


def integer(low: int, high: int | None = None) -> dict[str, Any]:
    """An integer schema from ``low`` to ``high``."""
    return _integer(low, high)


def _enum(values: Sequence[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _integer(low: int, high: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": low}
    if high is not None:
        schema["maximum"] = high
    return schema


_ACTIONS: Final = _filter(
    "action",
    "event type; repeat to OR; `member.*` matches a prefix",
    {
        "type": "array",
        "maxItems": MAX_ACTIONS,
        "items": {"type": "string", "maxLength": MAX_VALUE_LENGTH, "pattern": _ACTION_OR_PREFIX},
    },
)
_SINCE: Final = _filter("since", "date or RFC 3339 time with a zone (inclusive)", _TIME)
_LIMIT: Final = _filter("limit", f"events per page, default {DEFAULT_PAGE}", _integer(1, MAX_PAGE))
_OFFSET: Final = _filter("offset", "rows to skip", _integer(0, MAX_OFFSET))

_FILTERS: Final = [
    _ACTIONS,
    _filter("category", "catalog category"),
    _filter("kind", "the event's kind", _enum(KINDS)),
    _filter("actor_id", "actor.id"),
    _filter("actor_email", "actor.email, case-insensitive"),
    _filter("target_id", "target.id"),
    _filter("resource_type", "resource.type"),
    _filter("resource_id", "resource.id"),
    _filter("account_id", "account within the tenant"),
    _filter("outcome", "the event's outcome", _enum(OUTCOMES)),
    _filter("ip", "an IPv4 or IPv6 address or CIDR network, e.g. 10.0.0.0/8"),
    _filter("q", "free text over description, resource, actor and target"),
    _SINCE,
    _filter("until", "date (whole day included) or RFC 3339 time (exclusive)", _TIME),
    _filter("phrase", "search phrase, e.g. `action:member.* -actor:ann@x.com`"),
    _filter("order", "on occurred_at, then seq; default desc", _enum(("desc", "asc"))),
]

SEARCH_PARAMETERS: Final = [
    *_FILTERS,
    _LIMIT,
    _OFFSET,
    _filter("cursor", "next_cursor of the previous page (not with offset)"),
]
TAIL_PARAMETERS: Final = [
    *(p for p in _FILTERS if p["name"] != "order"),
    _param(
        "after_seq",
        "start after this seq (-1: the whole log); default: from now on",
        _integer(-1, MAX_OFFSET),
    ),
    {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "the id of the last message received: resume right after it",
        "schema": {"type": "string", "pattern": r"^\s*(-1|[0-9]{1,19})?\s*$"},
    },
]
TAIL_RESPONSE: Final = {
    "description": "`event: event` messages, `id:` the seq, `data:` the event as JSON",
    "content": {
        "text/event-stream": {
            "schema": {
                "description": "one message: an event, or an `id:` alone past events "
                "the filters leave out",
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9]+$"},
                    "event": {"const": "event"},
                    "data": {
                        "type": "string",
                        "contentMediaType": JSON,
                        "contentSchema": {"$ref": "#/components/schemas/EventOut"},
                    },
                },
            }
        }
    },
}
HISTOGRAM_PARAMETERS: Final = [
    _filter(
        "buckets", f"at most this many buckets, default {DEFAULT_BUCKETS}", _integer(1, MAX_BUCKETS)
    ),
    *(p for p in _FILTERS if p["name"] != "order"),
]
EXPORT_PARAMETERS: Final = [
    _param("format", f"default {EXPORT_FORMATS[0]}", _enum(EXPORT_FORMATS)),
    *_FILTERS,
]
SEED_PARAMETERS: Final = [
    _ACTIONS,
    _filter("targetUserId", "target.id"),
    _SINCE,
    _LIMIT,
    _OFFSET,
]
INCLUSION_PARAMETERS: Final = [
    _param("seq", "the leaf: the event's seq", _integer(0), required=True),
    _param("size", "the tree size; default the latest checkpoint's", _integer(0)),
]
CONSISTENCY_PARAMETERS: Final = [
    _param("first", "the older tree size", _integer(0), required=True),
    _param("second", "the newer tree size; default the latest checkpoint's", _integer(0)),
]
EVENT_PARAMETERS: Final = [
    _param("include", "`salts`: the event's salts too", _enum(("salts",)), blank=True),
]
PROOF_FILE_PARAMETERS: Final = [
    _param("format", "the proof file's format", _enum(("tlog-proof",))),
]


# -- request bodies ------------------------------------------------------------------------
def json_body(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": dict(schema)}}}


INGEST_BODY: Final = json_body(
    {
        "oneOf": [
            EVENT_IN,
            {
                "type": "object",
                "required": ["events"],
                "properties": {"events": _BATCH},
                "additionalProperties": False,
            },
        ]
    }
)
EVENT_TYPE_IN: Final = _object(
    {
        "name": _string(MAX_ACTION, pattern=ACTION_REGEX),
        "category": _string(pattern=SLUG_REGEX),
        "kind": _enum(KINDS),
        "description": _string(
            MAX_DESCRIPTION,
            pattern=_NOT_BLANK,
            description="a template: {actor}, {target}, … (docs/catalog.md)",
        ),
        "expects_target": {"type": "boolean"},
        "resource_type": {"type": ["string", "null"], "pattern": SLUG_REGEX},
    },
    ["name", "category", "kind", "description"],
)
SAVED_SEARCH_IN: Final = _object(
    {
        "name": _string(
            MAX_SAVED_SEARCH_NAME,
            pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
            description="blanks around it are dropped",
        ),
        "phrase": _string(MAX_PHRASE_LENGTH, description="a search phrase that parses"),
        "shared": {
            "type": "boolean",
            "description": "false (a viewer's own) is for viewer sessions; API keys share",
        },
    },
    ["name", "phrase"],
)
_WEBHOOK: Final = _object(
    {
        "type": {"const": "webhook"},
        "url": _string(
            MAX_STREAM_URL,
            pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!#-~]*)?$",
            description="https, with a host and no user name",
        ),
    },
    ["type", "url"],
)
_SYSLOG: Final = _object(
    {
        "type": {"const": "syslog"},
        "host": _string(253, pattern=rf"^[^/@\x00-\x1f\x7f{_PY_SPACE}]+$"),
        "port": _integer(1, 65535),
        "tls": {"type": "boolean"},
    },
    ["type", "host", "port"],
)
_STREAM_MEMBERS: Final = {
    "name": _string(MAX_STREAM_NAME, pattern=_NAME_LINE),
    "destination": {"oneOf": [_WEBHOOK, _SYSLOG]},
    "format": _enum(STREAM_FORMATS),
    "filter": _string(nullable=True, description="a search phrase that parses; null: every event"),
}
_SIGNING: Final = _object(
    {
        "scheme": {
            **_enum(SIGNING_SCHEMES),
            "description": "v1: HMAC-SHA256 (default); v1a: Ed25519 (Standard Webhooks)",
        },
        "secret": _string(
            pattern=r"^(whsec_|whsk_)[A-Za-z0-9+/=]+$",
            description="your own key (whsec_… for v1, whsk_… for v1a); default: a new one",
        ),
    },
    [],
)
STREAM_IN: Final = _object(
    {
        **_STREAM_MEMBERS,
        "signing": {
            **_SIGNING,
            "type": ["object", "null"],
            "description": "webhooks only; null: the default",
        },
    },
    ["name", "destination", "format"],
)
STREAM_CHANGE_IN: Final = {
    **_object({**_STREAM_MEMBERS, "status": _enum(STREAM_STATUSES)}, []),
    "minProperties": 1,
    "description": "the members to change; destination, if sent, is of the stream's own type"
    " (webhook or syslog: a stream's destination type cannot change)",
}
REPLAY_IN: Final = _object(
    {
        "from_seq": {
            **_integer(0, MAX_OFFSET),
            "description": "at most the log's size (the next seq): 422 past it",
        }
    },
    ["from_seq"],
)
ROTATE_IN: Final = {
    "required": False,
    "description": "webhook streams only (a syslog stream has no key to rotate: 422)",
    "content": {
        JSON: {
            "schema": _object(
                {
                    "overlap_seconds": _integer(0, MAX_SECRET_OVERLAP),
                    "signing": {**_SIGNING, "type": ["object", "null"]},
                },
                [],
            )
        }
    },
}
ERASURE_IN: Final = _object(
    {
        "subject": {
            "oneOf": [
                _object({"email": _string(MAX_EMAIL, pattern="@")}, ["email"]),
                _object({"id": _string(MAX_ID, pattern=_NOT_BLANK)}, ["id"]),
            ]
        },
        "reason": _string(
            MAX_REASON, minLength=1, pattern=_NOT_BLANK, description="must not name the subject"
        ),
        "dry_run": {"type": "boolean"},
    },
    ["subject", "reason"],
)

_RULE_FIELDS: Final = {
    "name": _string(MAX_RULE_NAME, pattern=RULE_NAME_REGEX),
    "title": _string(MAX_RULE_TITLE, pattern=_NOT_BLANK, description="default: the name"),
    "phrase": _string(
        MAX_PHRASE_LENGTH,
        pattern=_NOT_BLANK,
        description="a search phrase that parses, without created: (docs/detections.md)",
    ),
    "condition": _string(
        nullable=True,
        description="`count >= N within D [by (fields)]` or `first time (fields) [learning D]`;"
        " null or blank: every event the phrase selects",
    ),
    "context": {
        "type": ["object", "null"],
        "description": "context keys, each with the values (any of them) an event must carry",
        "maxProperties": MAX_CONTEXT_VALUES,
        "propertyNames": {"minLength": 1},
        "additionalProperties": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CONTEXT_VALUES,
            "items": {"type": "string", "minLength": 1},
        },
    },
    "hours": {"enum": [*HOURS, None], "description": "business hours (detection settings)"},
    "severity": _enum(SEVERITIES),
    "enabled": {"type": "boolean"},
    "builtin": {"description": "read-only: may be sent back as read, and is ignored"},
}
RULE_IN: Final = _object(_RULE_FIELDS, ["name", "phrase", "severity"])
RULE_CHANGE_IN: Final = {
    **_object(_RULE_FIELDS, []),
    "description": "the fields to change; name, if sent, is the rule's own",
}
RULE_TEST_IN: Final = _object(
    {
        "rule": {"anyOf": [_string(description="a rule's name"), RULE_IN]},
        "since": {
            "anyOf": [
                _string(pattern=r"^[1-9][0-9]{0,6}[smhd]$"),
                _string(format="date-time"),
            ],
            "description": "how far back (`30d`, the default) or from when (RFC 3339)",
        },
    },
    ["rule"],
)
DETECTION_SETTINGS_IN: Final = _object(
    {
        "timezone": _string(description="an IANA time zone, like Europe/Berlin"),
        "business_hours": _string(description="like `Mon-Fri 08:00-18:00`"),
    },
    [],
)
_RETENTION_DAYS: Final = _integer(1, MAX_RETENTION_DAYS)
RETENTION_IN: Final = _object(
    {
        "days": {"anyOf": [_RETENTION_DAYS, {"type": "null"}], "description": "null: forever"},
        "rules": {
            "type": "array",
            "maxItems": MAX_RETENTION_RULES,
            "description": "each action prefix once; the longest matching prefix wins",
            "items": _object(
                {
                    "action_prefix": _string(pattern=RETENTION_PREFIX_REGEX),
                    "days": _RETENTION_DAYS,
                },
                ["action_prefix", "days"],
            ),
        },
    },
    ["days"],
)
ALERT_PARAMETERS: Final = [
    _param("status", "only alerts in this status", _enum(ALERT_STATUSES)),
    _param("limit", "alerts per page", _integer(1, MAX_PAGE)),
    _param("before", "next_before of the previous page", {"type": "string"}),
]


# -- credentials ---------------------------------------------------------------------------
BEARER: Final = "apiKey"
VIEWER: Final = "viewerSession"
SECURITY_SCHEMES: Final = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key, `st_<id>_<secret>` (`sealtrail keys create`); "
        "it acts in its own tenant only, with its scopes",
    },
    VIEWER: {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": f"a viewer session (docs/viewer.md); `{SECURE_COOKIE}` over HTTPS. "
        "Reads, within the session's role and accounts; an owner's or admin's session also "
        "acknowledges and resolves the tenant's alerts",
    },
}
Auth = Literal["key", "key_or_viewer", "none"]
_SECURITY: Final[Mapping[Auth, list[dict[str, list[str]]]]] = {
    "key": [{BEARER: []}],
    "key_or_viewer": [{BEARER: []}, {VIEWER: []}],
    "none": [],
}


# -- errors --------------------------------------------------------------------------------
ERRORS: Final[Mapping[int, str]] = {
    400: "not strict JSON, or a search phrase that does not parse",
    401: "no credential, or one that is unknown, revoked or expired",
    403: "the credential lacks the scope (or the role) this needs",
    404: "no such object among those the credential may see",
    409: "it conflicts with what is already there",
    413: "the body is over `max_body_bytes`",
    422: "a field or parameter is not valid (`details` or `parameter` names it)",
    429: "over the API key's or the tenant's rate limit; nothing of the request was done",
    500: "the log refuses to sign or prove a tree that is not an extension of a signed one",
    503: "the database cannot be reached or is not migrated",
}
AUTHENTICATED: Final = (401, 403, 429, 503)
BODY: Final = (400, 413, 422)


def _error(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorOut, "description": ERRORS[status]}
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
        }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
                "description": "seconds until the request would fit",
            },
            "RateLimit": {"schema": {"type": "string"}, "description": "what is left (IETF)"},
            "RateLimit-Policy": {"schema": {"type": "string"}, "description": "the limits"},
        }
    return response


def operation(
    *,
    errors: Iterable[int] = (),
    auth: Auth = "key",
    parameters: Sequence[Mapping[str, Any]] = (),
    body: Mapping[str, Any] | None = None,
    responses: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a route decorator that document one operation fully.

    ``errors`` are its error statuses besides those of its credential (``auth``
    other than ``"none"`` adds 401, 403, 429 and 503); ``responses`` adds to its
    successful ones (other statuses, content types, links).
    """
    statuses = set(errors) | (set(AUTHENTICATED) if auth != "none" else set())
    documented: dict[int | str, dict[str, Any]] = {s: _error(s) for s in sorted(statuses)}
    for status, extra in (responses or {}).items():
        documented[status] = {**documented.get(status, {}), **extra}
    extra_doc: dict[str, Any] = {"security": _SECURITY[auth]}
    if parameters:
        extra_doc["parameters"] = [dict(p) for p in parameters]
    if body is not None:
        extra_doc["requestBody"] = dict(body)
    return {"responses": documented, "openapi_extra": extra_doc}


def returns(model: Any, description: str) -> dict[str, Any]:
    """A successful JSON response: ``model`` is the shape the handler writes."""
    return {"model": model, "description": description}


def content(media_type: str, schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    """A successful response that is not JSON."""
    return {"description": description, "content": {media_type: {"schema": dict(schema)}}}


def links(**targets: tuple[str, Mapping[str, str]]) -> dict[str, Any]:
    """OpenAPI links: name → (operationId, {parameter: runtime expression})."""
    return {
        "links": {
            name: {"operationId": operation_id, "parameters": dict(parameters)}
            for name, (operation_id, parameters) in targets.items()
        }
    }


def openapi_document(app: Any) -> dict[str, Any]:
    """The served document: FastAPI's, with the credentials' schemes (cached on the app)."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = document
    schema: dict[str, Any] = app.openapi_schema
    return schema
