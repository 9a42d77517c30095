"""Response and request shapes for the OpenAPI document.

Handlers write JSON with orjson directly (a response model on the hot path
costs more than the database); these models exist so ``/openapi.json`` and
``/docs`` describe exactly what is written.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field

from sealtrail.limits import (
    ACTION_REGEX,
    ACTOR_TYPES,
    DEFAULT_BUCKETS,
    DEFAULT_PAGE,
    EXPORT_FORMATS,
    MAX_ACTION,
    MAX_BATCH,
    MAX_BUCKETS,
    MAX_CONTEXT_BYTES,
    MAX_DESCRIPTION,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_PAGE,
    MAX_TYPE,
    MAX_USER_AGENT,
    OUTCOMES,
    ActorType,
    Kind,
    Outcome,
)


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
    context: dict[str, Any] | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    salts: dict[str, str] | None = Field(None, description="only with ?include=salts")
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


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


def _string(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


# The event as a producer sends it, from the same limits the validator applies
# (sealtrail.limits); tests/api/test_openapi.py fails when the field sets drift.
ACTOR_IN: Final = _object(
    {
        "type": {"type": "string", "enum": list(ACTOR_TYPES)},
        "id": _string(MAX_NAME, description="required unless type is system"),
        "role": _string(MAX_TYPE),
        "name": _string(MAX_NAME),
        "email": _string(MAX_EMAIL),
    },
    ["type"],
)
TARGET_IN: Final = _object(
    {
        "type": _string(MAX_TYPE),
        "id": _string(MAX_NAME),
        "name": _string(MAX_NAME),
        "email": _string(MAX_EMAIL),
    },
    ["type", "id"],
)
RESOURCE_IN: Final = _object(
    {"type": _string(MAX_TYPE), "id": _string(MAX_NAME), "name": _string(MAX_NAME)},
    ["type", "id"],
)
EVENT_IN: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["action", "actor"],
    "properties": {
        "id": _string(MAX_ID),
        "action": _string(MAX_ACTION, pattern=ACTION_REGEX),
        "occurred_at": _string(format="date-time"),
        "actor": ACTOR_IN,
        "target": TARGET_IN,
        "resource": RESOURCE_IN,
        "account_id": _string(MAX_NAME),
        "description": _string(MAX_DESCRIPTION),
        "context": {"type": "object", "description": f"at most {MAX_CONTEXT_BYTES} bytes of JSON"},
        "ip": _string(description="an IPv4 or IPv6 address"),
        "user_agent": _string(MAX_USER_AGENT),
        "outcome": {"type": "string", "enum": list(OUTCOMES)},
        "request_id": _string(MAX_NAME),
    },
}

_BATCH: Final[dict[str, Any]] = {"type": "array", "maxItems": MAX_BATCH, "items": EVENT_IN}

INGEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        EVENT_IN,
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {
                                    "type": "array",
                                    "maxItems": MAX_BATCH,
                                    "items": EVENT_IN,
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


def _param(name: str, description: str, *, repeat: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if repeat:
        schema = {"type": "array", "items": {"type": "string"}}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_FILTERS = [
    _param("action", "event type; repeat to OR; `member.*` matches a prefix", repeat=True),
    _param("category", "catalog category"),
    _param("kind", "create, update, delete, access or other"),
    _param("actor_id", "actor.id"),
    _param("actor_email", "actor.email, case-insensitive"),
    _param("target_id", "target.id"),
    _param("resource_type", "resource.type"),
    _param("resource_id", "resource.id"),
    _param("account_id", "account within the tenant"),
    _param("outcome", "success or failure"),
    _param("ip", "address or CIDR"),
    _param("q", "free text over description, resource, actor and target"),
    _param("since", "date or RFC 3339 time (inclusive)"),
    _param("until", "date (whole day included) or RFC 3339 time (exclusive)"),
    _param("phrase", "search phrase, e.g. `action:member.* -actor:ann@x.com`"),
    _param("order", "desc (default) or asc"),
]

SEARCH_PARAMETERS: dict[str, Any] = {
    "parameters": [
        *_FILTERS,
        _param("limit", f"1-{MAX_PAGE}, default {DEFAULT_PAGE}"),
        _param("offset", "rows to skip"),
        _param("cursor", "next_cursor of the previous page"),
    ]
}

TAIL_PARAMETERS: dict[str, Any] = {
    "parameters": [
        *(p for p in _FILTERS if p["name"] != "order"),
        _param("after_seq", "start after this seq (-1: the whole log); default: from now on"),
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "description": "the id of the last message received: resume right after it",
            "schema": {"type": "string"},
        },
    ],
    "responses": {
        "200": {
            "description": "`event: event` messages, `id:` the seq, `data:` the event as JSON",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
}

HISTOGRAM_PARAMETERS: dict[str, Any] = {
    "parameters": [
        _param("buckets", f"at most this many buckets, 1-{MAX_BUCKETS}, default {DEFAULT_BUCKETS}"),
        *(p for p in _FILTERS if p["name"] != "order"),
    ]
}

EXPORT_PARAMETERS: dict[str, Any] = {
    "parameters": [
        _param("format", f"one of {', '.join(EXPORT_FORMATS)}; default {EXPORT_FORMATS[0]}"),
        *_FILTERS,
    ]
}
