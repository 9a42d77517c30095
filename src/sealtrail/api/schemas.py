"""Response and request shapes for the OpenAPI document.

Handlers write JSON with orjson directly (a response model on the hot path
costs more than the database); these models exist so ``/openapi.json`` and
``/docs`` describe exactly what is written.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ActorOut(BaseModel):
    type: Literal["user", "system", "api_key", "service"]
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
    kind: Literal["create", "update", "delete", "access", "other"]
    occurred_at: str
    received_at: str
    outcome: Literal["success", "failure"]
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


_EVENT_IN = {
    "type": "object",
    "required": ["action", "actor"],
    "properties": {
        "id": {"type": "string", "maxLength": 64},
        "action": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "actor": {"type": "object"},
        "target": {"type": "object"},
        "resource": {"type": "object"},
        "account_id": {"type": "string"},
        "description": {"type": "string", "maxLength": 1000},
        "context": {"type": "object"},
        "ip": {"type": "string"},
        "user_agent": {"type": "string", "maxLength": 1024},
        "outcome": {"type": "string", "enum": ["success", "failure"]},
        "request_id": {"type": "string"},
    },
}

INGEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _EVENT_IN,
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {"type": "array", "maxItems": 1000, "items": _EVENT_IN}
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
        _param("limit", "1-200, default 50"),
        _param("offset", "rows to skip"),
        _param("cursor", "next_cursor of the previous page"),
    ]
}

EXPORT_PARAMETERS: dict[str, Any] = {
    "parameters": [_param("format", "csv (default), ndjson or bundle"), *_FILTERS]
}
